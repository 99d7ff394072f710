"""Database down: a real outage between a real server and PostgreSQL, made by cutting a TCP proxy.

Only PostgreSQL is reached over the network, so only it can go away underneath a running server
(the suite's PostgreSQL pass in CI runs these).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.api.conftest import FINAL, create_staff_headers
from tests.databases import count, fetch, fresh_database_url
from tests.server import Server, start_server
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.usefixtures("require_postgres")


@pytest.fixture()
def proxy() -> TcpProxy:
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    yield proxy  # type: ignore[misc]
    proxy.cut()


def _server_behind(proxy: TcpProxy, data: Path, weights: Path) -> tuple[Server, str]:
    """A server whose database connections all pass through the proxy, and the direct URL."""
    direct = fresh_database_url()
    proxied = make_url(direct).set(port=proxy.port).render_as_string(hide_password=False)
    # A short lease: a job whose completion could not be recorded during the outage runs again.
    env = {"MINSHENG_JOB_LEASE_SECONDS": "10"}
    return start_server(data, weights, database_url=proxied, env=env), direct


def _text(server: Server, text: str, key: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/suggestions", data={"text": text}, headers={"Idempotency-Key": key}, timeout=30
    )


def _wait_all_processed(server: Server, direct: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        open_jobs = fetch(direct, "SELECT count(*) FROM jobs WHERE state <> 'done'")[0][0]
        unfinished = fetch(
            direct,
            "SELECT count(*) FROM suggestions WHERE status NOT IN ('routed', 'needs_review', 'failed')",
        )[0][0]
        if open_jobs == 0 and unfinished == 0:
            return
        time.sleep(0.3)
    raise AssertionError("not everything was processed after the database came back")


def test_an_outage_gives_clear_503s_writes_nothing_and_the_server_recovers(
    proxy: TcpProxy, tmp_path: Path, weights_cache: Path, data_dir: Path
) -> None:
    server, direct = _server_behind(proxy, tmp_path / "var", weights_cache)
    reader = create_staff_headers(direct, "reviewer")
    try:
        before = _text(server, "村里的垃圾没人清运", str(uuid.uuid4()))
        assert before.status_code == 202, before.text
        first_id = before.json()["id"]

        proxy.cut()
        keys = {"text": str(uuid.uuid4()), "voice": str(uuid.uuid4())}
        started = time.monotonic()
        down = _text(server, "公交车太少了", keys["text"])
        assert down.status_code == 503, down.text
        assert time.monotonic() - started < 15  # a clear answer, not a hung request
        assert down.json()["error"] == "DatabaseUnavailable"
        assert "请稍后再试" in down.json()["detail"]  # Chinese unless the client asks for another language
        assert down.headers["retry-after"]
        with (data_dir / "voice_power.ogg").open("rb") as fh:
            voice = httpx.post(
                f"{server.url}/api/v1/suggestions",
                files={"audio": ("n.ogg", fh, "audio/ogg")},
                headers={"Idempotency-Key": keys["voice"]},
                timeout=30,
            )
        assert voice.status_code == 503
        read = httpx.get(f"{server.url}/api/v1/suggestions/{first_id}", headers=reader, timeout=30)
        assert read.status_code == 503
        assert httpx.get(f"{server.url}/readyz", timeout=30).status_code == 503
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
        # Nothing of the refused submissions reached the database.
        assert {t: count(direct, t) for t in ("suggestions", "jobs", "audio", "idempotency_keys")} == {
            "suggestions": 1,
            "jobs": 1,
            "audio": 0,
            "idempotency_keys": 1,
        }

        proxy.restore()
        assert _text(server, "公交车太少了", keys["text"]).status_code == 202
        with (data_dir / "voice_power.ogg").open("rb") as fh:
            voice = httpx.post(
                f"{server.url}/api/v1/suggestions",
                files={"audio": ("n.ogg", fh, "audio/ogg")},
                headers={"Idempotency-Key": keys["voice"]},
                timeout=30,
            )
        assert voice.status_code == 202, voice.text
        _wait_all_processed(server, direct)
        assert httpx.get(f"{server.url}/readyz", timeout=30).status_code == 200
    finally:
        server.stop()
    assert count(direct, "suggestions") == 3
    assert count(direct, "transcripts") == 1


def test_outages_in_the_middle_of_requests_leave_every_suggestion_whole(
    proxy: TcpProxy, tmp_path: Path, weights_cache: Path
) -> None:
    """The proxy is cut and restored every few hundred milliseconds while 30 keyed suggestions are
    sent, each retried until accepted. A cut can land inside a transaction or even during its
    commit; the retry with the same key must then find the suggestion or store it — once."""
    server, direct = _server_behind(proxy, tmp_path / "var", weights_cache)
    stop = threading.Event()

    def flap() -> None:
        while not stop.is_set():
            time.sleep(0.25)
            proxy.cut()
            time.sleep(0.15)
            proxy.restore()

    flapper = threading.Thread(target=flap, daemon=True)
    flapper.start()
    accepted: dict[str, int] = {}
    refusals = 0
    try:
        for n in range(30):
            key = f"flap-{n}-{uuid.uuid4()}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    response = _text(server, f"第{n}条：村口的桥有裂缝，请派人看看", key)
                except httpx.HTTPError:
                    refusals += 1
                    continue
                if response.status_code == 202:
                    accepted[key] = response.json()["id"]
                    break
                assert response.status_code == 503, response.text
                refusals += 1
                time.sleep(0.05)
            assert key in accepted, f"suggestion {n} was never accepted"
        stop.set()
        flapper.join()
        _wait_all_processed(server, direct)
    finally:
        stop.set()
        server.stop()
    assert refusals > 0, "the outages never hit a request: the test proved nothing"
    assert len(set(accepted.values())) == 30
    assert count(direct, "suggestions") == 30
    assert count(direct, "idempotency_keys") == 30
    # Every stored suggestion is whole: its key, one job (done), one 'received' event.
    rows = fetch(
        direct,
        "SELECT s.id, (SELECT count(*) FROM jobs j WHERE j.target_id = s.id AND j.state = 'done'),"
        " (SELECT count(*) FROM events e WHERE e.suggestion_id = s.id AND e.kind = 'received'),"
        " (SELECT count(*) FROM idempotency_keys k WHERE k.suggestion_id = s.id) FROM suggestions s",
    )
    assert all(row[1:] == (1, 1, 1) for row in rows), rows
    assert {row[0] for row in rows} == set(accepted.values())
    assert all(status in FINAL for (status,) in fetch(direct, "SELECT status FROM suggestions"))

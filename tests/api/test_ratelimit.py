"""Anonymous endpoints and sign-in are limited per client address (429 with a clear message and
Retry-After), which only a trusted proxy may name; failed sign-ins are limited per account too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api import accounts
from api.ratelimit import SlidingWindow
from api.routes.login import DEVICE_COOKIE
from models.db import unit_of_work
from tests.api.conftest import csrf_of, make_client
from tests.api.workflow_helpers import context_of
from tests.server import Server, start_server


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides() -> None:
    clock = Clock()
    window = SlidingWindow(limit=2, window=10.0, clock=clock)
    assert window.hit("a") is None
    clock.now += 4
    assert window.hit("a") is None
    assert window.hit("a") == 6.0  # the first hit leaves the window in 6 s
    assert window.hit("b") is None  # another client has its own count
    clock.now += 6
    assert window.hit("a") is None  # one slot free again
    assert window.hit("a") is not None


def test_zero_means_no_limit() -> None:
    window = SlidingWindow(limit=0, window=10.0)
    assert all(window.hit("a") is None for _ in range(1000))


def test_submissions_and_tracking_are_limited(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(
        tmp_path, weights_cache, worker_enabled=False, submit_rate_limit=3, track_rate_limit=2
    ) as client:
        codes = []
        for _ in range(3):
            response = client.post("/api/v1/suggestions", data={"text": "路灯坏了好几天了"})
            assert response.status_code == 202
            codes.append(response.json()["tracking_code"])
        refused = client.post(
            "/api/v1/suggestions", data={"text": "路灯坏了好几天了", "phone": "13812345678"}
        )
        assert refused.status_code == 429
        assert refused.json()["error"] == "TooManyRequests"
        assert "wait" in refused.json()["detail"] and "13812345678" not in refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 60

        assert client.get(f"/api/v1/track/{codes[0]}").status_code == 200
        assert client.get("/api/v1/track/ZZZZ-ZZZZ").status_code == 404  # misses count too: no guessing
        limited = client.get(f"/api/v1/track/{codes[1]}")
        assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_sign_in_attempts_are_limited(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(tmp_path, weights_cache, worker_enabled=False, login_rate_limit=2) as client:
        token = csrf_of(client.get("/login", headers={"accept": "text/html"}).text)
        form = {"username": "someone", "password": "guess guess", "csrf_token": token}
        assert [client.post("/login", data=form).status_code for _ in range(2)] == [401, 401]
        blocked = client.post("/login", data=form, headers={"accept": "text/html"})
        assert blocked.status_code == 429 and "秒后再试" in blocked.text  # the sign-in page is Chinese
        assert int(blocked.headers["retry-after"]) >= 1


def _sign_in(client: TestClient, username: str, password: str) -> Any:  # the client's response type
    token = csrf_of(client.get("/login", headers={"accept": "text/html"}).text)
    form = {"username": username, "password": password, "csrf_token": token, "next": "/staff"}
    return client.post("/login", data=form, headers={"accept": "text/html"}, follow_redirects=False)


def test_failed_sign_ins_pause_the_account_not_the_office(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(
        tmp_path, weights_cache, worker_enabled=False, login_rate_limit=12, login_account_rate_limit=3
    ) as client:
        with unit_of_work(context_of(client).factory) as session:
            for name in ("boss", "clerk"):
                accounts.create_staff(session, username=name, password=f"{name}-password", roles=["admin"])
        # The administrator signed in from this browser before: it keeps a device cookie.
        assert _sign_in(client, "boss", "boss-password").status_code == 303
        device = client.cookies.get(DEVICE_COOKIE)
        assert device
        client.cookies.clear()

        # Someone else (same office address) guesses the administrator's password.
        assert [_sign_in(client, "boss", "wrong guess").status_code for _ in range(3)] == [401] * 3
        paused = _sign_in(client, "boss", "wrong guess")
        assert paused.status_code == 429 and 1 <= int(paused.headers["retry-after"]) <= 60
        assert "暂时锁定" in paused.text and "其他账号仍可登录" in paused.text
        # Paused means paused: not even the right password gets through, nor a change of case.
        assert _sign_in(client, "boss", "boss-password").status_code == 429
        assert _sign_in(client, " BOSS ", "boss-password").status_code == 429
        # A colleague at the same address is not locked out.
        assert _sign_in(client, "clerk", "clerk-password").status_code == 303
        client.cookies.clear()
        # Nor is the administrator's own browser, whatever the guesser keeps sending.
        client.cookies.set(DEVICE_COOKIE, device, path="/login")
        assert _sign_in(client, "boss", "boss-password").status_code == 303
        # A device cookie cannot be made up.
        client.cookies.clear()
        client.cookies.set(DEVICE_COOKIE, device.split(".")[0] + ".00", path="/login")
        assert _sign_in(client, "boss", "boss-password").status_code == 429
        client.cookies.clear()

        # The address's own limit (higher) still stops guessing across many accounts: the attempts
        # the account's limit refused above did not use it up.
        codes = [_sign_in(client, f"someone{i}", "wrong guess").status_code for i in range(8)]
        assert codes[:6] == [401] * 6 and codes[6:] == [429, 429], codes
        refused = _sign_in(client, "someone-else", "wrong guess")
        assert refused.status_code == 429 and "您的网络在短时间内" in refused.text


def _track(server: Server, forwarded_for: str, **headers: str) -> int:
    response = httpx.get(
        f"{server.url}/api/v1/track/ZZZZ-ZZZZ",
        headers={"X-Forwarded-For": forwarded_for, **headers},
        timeout=30,
    )
    return response.status_code


def test_forwarded_addresses_count_only_from_a_trusted_proxy(tmp_path: Path, weights_cache: Path) -> None:
    # By default nobody is a trusted proxy, not even the loopback a client connects from: a new
    # X-Forwarded-For on every request is still one client.
    limited = {"MINSHENG_TRACK_RATE_LIMIT": "3", "MINSHENG_WORKER_ENABLED": "false"}
    server = start_server(tmp_path / "plain", weights_cache, env=limited)
    try:
        codes = [_track(server, f"203.0.113.{i}") for i in range(1, 6)]
        assert codes == [404, 404, 404, 429, 429], codes
        login = httpx.get(f"{server.url}/login", headers={"X-Forwarded-Proto": "https"}, timeout=30)
        assert "secure" not in login.headers["set-cookie"].lower()  # the scheme is not believed either
    finally:
        server.stop()

    # With the proxy named, the address it forwards is the client's.
    trusted = {**limited, "MINSHENG_TRUSTED_PROXIES": "127.0.0.1"}
    server = start_server(tmp_path / "proxied", weights_cache, env=trusted)
    try:
        assert [_track(server, f"203.0.113.{i}") for i in range(1, 6)] == [404] * 5
        assert [_track(server, "198.51.100.7") for _ in range(4)] == [404, 404, 404, 429]
        # One subscriber's IPv6 addresses (one /64) are one client.
        v6 = [_track(server, f"2001:db8:1:2::{i:x}") for i in range(1, 5)]
        assert v6 == [404, 404, 404, 429]
        login = httpx.get(f"{server.url}/login", headers={"X-Forwarded-Proto": "https"}, timeout=30)
        assert "secure" in login.headers["set-cookie"].lower()
    finally:
        server.stop()

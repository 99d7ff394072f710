"""Celery mode for real: a private Redis, `minsheng worker` processes, and faults that kill them.

The API runs in-process (TestClient, broker configured, so it runs no jobs itself); the workers
are real subprocesses sharing its SQLite database, as worker machines share PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import FINAL, make_client, reader_headers
from tests.api.nodes import FAST, RedisServer, Worker, long_note, wait_for
from tests.databases import fetch, fresh_database_url
from tests.s3_server import CREDENTIALS, S3Server

pytestmark = pytest.mark.slow


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server on a free port, killed at the end."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture()
def workers() -> Iterator[list[Worker]]:
    """Worker nodes started by a test; all killed at the end whatever happened."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.kill_all()


def _api(data: Path, database_url: str, weights: Path, broker: str, **settings: Any) -> TestClient:
    fast = {k.removeprefix("MINSHENG_").lower(): float(v) for k, v in FAST.items()}
    fast.pop("job_retry_seconds")  # make_client sets its own
    return make_client(data, weights, database_url=database_url, broker_url=broker, **fast, **settings)


def _all_final(client: TestClient, ids: list[int]) -> bool:
    return all(
        client.get(f"/api/v1/suggestions/{i}", headers=reader_headers(client)).json()["status"] in FINAL
        for i in ids
    )


@pytest.mark.parametrize("victim", ["node", "process"])
def test_a_worker_killed_mid_transcription_the_job_completes_once_after_a_worker_comes_back(
    tmp_path: Path,
    weights_cache: Path,
    data_dir: Path,
    redis_server: RedisServer,
    workers: list[Worker],
    victim: str,
) -> None:
    """``node``: the whole `minsheng worker` (parent and processes) dies, a new one is started.
    ``process``: only the worker process running the job dies; its parent forks a new one."""
    data = tmp_path / "var"
    db = fresh_database_url()
    note = long_note(data_dir, tmp_path / "long.wav")
    with _api(data, db, weights_cache, redis_server.url) as client:
        first = Worker(data, db, weights_cache, redis_server.url, tmp_path / "w1.log")
        workers.append(first)
        first.wait_ready()
        with note.open("rb") as fh:
            sid = client.post("/api/v1/suggestions", files={"audio": ("long.wav", fh)}).json()["id"]
        wait_for(
            lambda: fetch(db, "SELECT state, attempts FROM jobs") == [("running", 1)], 60, "the job to start"
        )
        time.sleep(1.0)  # inside the transcription
        if victim == "node":
            first.kill_all()
        else:
            [(holder,)] = fetch(db, "SELECT locked_by FROM jobs")
            os.kill(int(holder.split("-")[-2]), signal.SIGKILL)  # celery-<host>-<pid>-<random>
        assert fetch(db, "SELECT state, attempts FROM jobs") == [("running", 1)]
        assert fetch(db, "SELECT count(*) FROM transcripts") == [(0,)]

        if victim == "node":
            workers.append(Worker(data, db, weights_cache, redis_server.url, tmp_path / "w2.log"))
        wait_for(lambda: _all_final(client, [sid]), 180, "the job to finish on the new worker", 0.3)
        body = client.get(f"/api/v1/suggestions/{sid}", headers=reader_headers(client)).json()
        assert body["status"] in {"routed", "needs_review"}, body
        assert "power" in body["transcript"].lower()
        # The dead worker's message comes back after the visibility timeout: it must not run again.
        time.sleep(float(FAST["MINSHENG_BROKER_VISIBILITY_TIMEOUT"]) + 2)
    assert fetch(db, "SELECT count(*) FROM transcripts") == [(1,)]
    assert fetch(db, "SELECT count(*) FROM predictions") == [(1,)]
    assert fetch(db, "SELECT state, attempts FROM jobs") == [("done", 2)]
    assert fetch(db, "SELECT count(*) FROM events WHERE kind = 'transcribed'") == [(1,)]


def test_uploads_are_accepted_while_redis_is_down_and_processed_once_it_is_back(
    tmp_path: Path,
    weights_cache: Path,
    data_dir: Path,
    redis_server: RedisServer,
    workers: list[Worker],
) -> None:
    data = tmp_path / "var"
    db = fresh_database_url()
    with _api(data, db, weights_cache, redis_server.url) as client:
        worker = Worker(data, db, weights_cache, redis_server.url, tmp_path / "w.log")
        workers.append(worker)
        worker.wait_ready()
        redis_server.kill()

        ids, waits = [], []
        for name in ("voice_power.ogg", "voice_transport.ogg"):
            started = time.monotonic()
            with (data_dir / name).open("rb") as fh:
                response = client.post("/api/v1/suggestions", files={"audio": (name, fh)})
            waits.append(time.monotonic() - started)
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        response = client.post(
            "/api/v1/suggestions", data={"text": "The street lights on Wuxing Road are out."}
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
        assert max(waits) < 1.0, waits  # a dead broker does not hold the villager up
        assert fetch(db, "SELECT count(*) FROM audio") == [(2,)]
        time.sleep(2.0)  # the worker's sweeper keeps trying while Redis is down
        assert fetch(db, "SELECT state, attempts FROM jobs") == [("queued", 0)] * 3

        redis_server.start()  # back, and empty: everything it held is gone
        wait_for(lambda: _all_final(client, ids), 180, "the notes to be processed after Redis came back", 0.3)
    assert fetch(db, "SELECT state, attempts FROM jobs ORDER BY id") == [("done", 1)] * 3
    assert fetch(db, "SELECT count(*) FROM transcripts") == [(2,)]
    assert fetch(db, "SELECT count(*) FROM predictions") == [(3,)]


def test_several_worker_processes_on_one_queue_process_each_job_once(
    tmp_path: Path,
    weights_cache: Path,
    data_dir: Path,
    redis_server: RedisServer,
    workers: list[Worker],
) -> None:
    """The multi-machine layout of the README on one host: an API node, two worker nodes, Redis,
    and an S3-compatible object store for the audio (no disk shared between the nodes)."""
    data = tmp_path / "var"
    s3 = S3Server()
    s3.client().create_bucket(Bucket="audio")
    store = {
        "MINSHENG_AUDIO_STORE": "s3://audio/notes",
        "MINSHENG_S3_ENDPOINT_URL": s3.url,
        "MINSHENG_S3_REGION": "us-east-1",
        "MINSHENG_S3_ACCESS_KEY_ID": CREDENTIALS["access_key_id"],
        "MINSHENG_S3_SECRET_ACCESS_KEY": CREDENTIALS["secret_access_key"],
    }
    api_store = {k.removeprefix("MINSHENG_").lower(): v for k, v in store.items()}
    texts = [
        "The bus to the county town should come every half hour.",
        "Please repair the broken water pipe near the school.",
        "The river behind the village smells of waste.",
        "Power cuts every evening in the east of the village.",
        "We need a new bridge over the canal.",
        "Rubbish is burned next to the fields.",
        "The road to the market is full of holes.",
        "Please put up street lights on the main road.",
    ]
    try:
        _several_workers(tmp_path, weights_cache, data_dir, redis_server, workers, store, api_store, texts)
        assert len(s3.client().list_objects_v2(Bucket="audio", Prefix="notes/")["Contents"]) == 2
    finally:
        s3.stop()
    assert not list((data / "audio").rglob("*.ogg"))  # the audio lives in the object store only


def _several_workers(
    tmp_path: Path,
    weights_cache: Path,
    data_dir: Path,
    redis_server: RedisServer,
    workers: list[Worker],
    store: dict[str, str],
    api_store: dict[str, str],
    texts: list[str],
) -> None:
    data = tmp_path / "var"
    db = fresh_database_url()
    with _api(data, db, weights_cache, redis_server.url, **api_store) as client:
        # Two worker nodes (two parents, two sweepers): one process in the first, two in the
        # second, so three worker processes take jobs from one queue.
        nodes = [
            Worker(data, db, weights_cache, redis_server.url, tmp_path / "w1.log", concurrency=1, env=store),
            Worker(data, db, weights_cache, redis_server.url, tmp_path / "w2.log", concurrency=2, env=store),
        ]
        workers.extend(nodes)
        checks = client.get("/readyz", headers=reader_headers(client)).json()["checks"]
        assert (
            checks["jobs"].startswith("published to the broker")
            and checks["audio_store"] == "s3://audio/notes"
        )
        for node in nodes:
            node.wait_ready()
        ids = []
        for name in ("voice_power.ogg", "voice_environment.ogg"):
            with (data_dir / name).open("rb") as fh:
                ids.append(client.post("/api/v1/suggestions", files={"audio": (name, fh)}).json()["id"])
        for text in texts:
            ids.append(client.post("/api/v1/suggestions", data={"text": text}).json()["id"])
        wait_for(lambda: _all_final(client, ids), 180, "every note to be processed", 0.3)
    n = len(ids)
    assert fetch(db, "SELECT state, attempts, count(*) FROM jobs GROUP BY state, attempts") == [
        ("done", 1, n)
    ]
    assert fetch(db, "SELECT count(*) FROM transcripts") == [(2,)]
    assert fetch(db, "SELECT count(*), count(DISTINCT suggestion_id) FROM predictions") == [(n, n)]
    assert fetch(db, "SELECT count(*) FROM events WHERE kind = 'classified'") == [(n,)]
    holders = {row[0].rsplit("-", 1)[0] for row in fetch(db, "SELECT locked_by FROM jobs")}
    assert len(holders) >= 2, holders  # the work really was shared between processes
    for node in nodes:  # models loaded once per process, not per job
        assert node.log.read_text().count("ready to run jobs") == node.concurrency

"""What Celery dispatch costs an upload, and how fast the sweeper republishes a backlog.

Usage (from the repository root; needs /usr/bin/redis-server)::

    nice -n 10 .venv-test/bin/python bench/dispatch.py [--uploads 200] [--backlog 1000]

Runs the app in-process (no HTTP socket) on a fresh SQLite database per mode and submits typed
suggestions (no audio decoding, so the figure is the dispatch path alone). Modes: ``embedded``
(no broker; the in-process worker is switched off so it does not compete), ``broker_up``
(a private redis-server; no worker consumes, messages just wait) and ``broker_down`` (the same
server killed: each upload tries the broker, fails, and leaves the job to the sweeper). Then
``sweep``: ``--backlog`` queued jobs published by one sweep. One JSON line per result.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _uploads(mode: str, n: int, broker: str | None, data: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    settings = Settings(data_dir=data, broker_url=broker, worker_enabled=False, broker_connect_timeout=1.0)
    times = []
    with TestClient(create_app(settings)) as client:
        for i in range(n):
            started = time.perf_counter()
            response = client.post(
                "/api/v1/suggestions", data={"text": f"The road near house {i} is broken."}
            )
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 202, response.text
    return {
        "bench": "upload_acceptance",
        "mode": mode,
        "n": n,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(_percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
    }


def _sweep(n: int, broker: str, data: Path) -> dict[str, Any]:
    from intake.broker import BrokerQueue, make_celery
    from models.db import make_engine, make_session_factory, unit_of_work, upgrade
    from models.jobs import queue as job_queue

    engine = make_engine(f"sqlite:///{data / 'sweep.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        for _ in range(n):
            job_queue.enqueue(session, "bench", None)
    queue = BrokerQueue(
        factory,
        make_celery(broker, queue="bench", visibility_timeout=3600),
        "bench",
        timedelta(minutes=30),
    )
    started = time.perf_counter()
    sent = queue.sweep()
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "bench": "sweep",
        "jobs": n,
        "published": sent,
        "seconds": round(seconds, 3),
        "jobs_per_s": round(sent / seconds, 1),
    }


def main() -> int:
    """Run every mode and print one JSON line each."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=1000)
    args = parser.parse_args()

    from tests.api.nodes import RedisServer

    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as tmp:
        root = Path(tmp)
        redis = RedisServer(root / "redis")
        redis.start()
        try:
            print(json.dumps(_uploads("embedded", args.uploads, None, root / "embedded")), flush=True)
            print(json.dumps(_uploads("broker_up", args.uploads, redis.url, root / "up")), flush=True)
            print(json.dumps(_sweep(args.backlog, redis.url, root)), flush=True)
            url = redis.url
            redis.kill()
            print(json.dumps(_uploads("broker_down", args.uploads, url, root / "down")), flush=True)
        finally:
            redis.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

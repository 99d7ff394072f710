"""``minsheng serve --processes 2``: two API processes, exactly one embedded worker, which another
process takes over when its holder is killed with ``kill -9``."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from api.worker_lock import worker_lock_path
from models.jobs.tables import Job
from tests.api.conftest import create_staff_headers
from tests.server import Server, start_server

FINAL = {"routed", "needs_review"}


def _children(pid: int) -> set[int]:
    """Process ids of ``pid``'s children."""
    kids: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids.update(int(k) for k in (task / "children").read_text().split())
    return kids


def _api_processes(server: Server) -> set[int]:
    """The uvicorn processes serving HTTP (multiprocessing also starts a resource tracker)."""
    found = set()
    for kid in _children(server.process.pid):
        try:
            cmdline = Path(f"/proc/{kid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline:
            found.add(kid)
    return found


def _worker_holder(server: Server, not_pid: int | None = None, timeout: float = 60) -> int:
    """The process id written in the worker lock, once it names a live API process (not ``not_pid``)."""
    lock = worker_lock_path(server.data_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = lock.read_text().strip() if lock.exists() else ""
        if text and int(text) != not_pid and int(text) in _api_processes(server):
            return int(text)
        time.sleep(0.2)
    raise AssertionError(f"no process took the worker lock:\n{server.log.read_text()[-3000:]}")


def _processed_by(server: Server, text: str, timeout: float = 60) -> set[int]:
    """Submit a typed suggestion (on a new connection, so it may reach either process), wait until
    the worker has classified it, and return the ids of the processes that ran its jobs
    (``Job.locked_by`` names the worker's host and process)."""
    receipt = httpx.post(f"{server.url}/api/v1/suggestions", data={"text": text}, timeout=30).json()
    deadline = time.monotonic() + timeout
    status = ""
    while status not in FINAL:
        if time.monotonic() > deadline:
            raise AssertionError(f"suggestion {receipt} still {status!r} after {timeout} s")
        time.sleep(0.3)
        status = httpx.get(f"{server.url}/api/v1/track/{receipt['tracking_code']}").json()["status"]
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as db:
            workers = db.execute(select(Job.locked_by).where(Job.target_id == receipt["id"])).scalars().all()
    finally:
        engine.dispose()
    # worker_name(): "embedded-<host>-<pid>-<6 hex>", then "-<thread name>".
    pids = {re.search(r"-(\d+)-[0-9a-f]{6}-minsheng-worker", name or "") for name in workers}
    assert workers and None not in pids, workers
    return {int(match.group(1)) for match in pids if match}


@pytest.fixture()
def server(tmp_path: Path, weights_cache: Path) -> Iterator[Server]:
    running = start_server(tmp_path / "var", weights_cache, env={"MINSHENG_API_PROCESSES": "2"})
    yield running
    running.stop()


def test_two_api_processes_share_one_worker_that_survives_kill_9(server: Server) -> None:
    holder = _worker_holder(server)
    processes = _api_processes(server)
    assert len(processes) == 2 and holder in processes
    # Whichever process answers, /readyz says ready and (to staff) names the one process that runs
    # the jobs.
    staff = create_staff_headers(server.database_url, "reviewer")
    for _ in range(10):
        ready = httpx.get(f"{server.url}/readyz", headers=staff, timeout=30)
        assert ready.status_code == 200, ready.text
        jobs = ready.json()["checks"]["jobs"]
        assert f"this process ({holder})" in jobs or "another process" in jobs, jobs

    # Submissions reach either process; only the lock holder runs jobs.
    for i in range(4):
        text = f"Wuxing Road is full of parked cars again ({i}), the school bus cannot pass"
        assert _processed_by(server, text) == {holder}

    os.kill(holder, signal.SIGKILL)
    successor = _worker_holder(server, not_pid=holder)
    # The server kept answering, and the process that took the lock over runs the jobs.
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert _processed_by(server, "村口的路灯坏了一个月，晚上很黑") == {successor}
    # uvicorn replaced the killed process.
    deadline = time.monotonic() + 60
    while len(_api_processes(server)) < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(_api_processes(server)) == 2

    serving = _api_processes(server)
    server.stop()
    assert server.process.returncode == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in serving)

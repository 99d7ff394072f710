"""api.worker_lock: one holder at a time; the next waiter takes over on release; cancel stops waiting."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from api.worker_lock import WorkerLock

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


def test_one_holder_and_the_waiter_takes_over_on_release(tmp_path: Path) -> None:
    path = tmp_path / "var" / "embedded-worker.lock"
    first_started, second_started = threading.Event(), threading.Event()
    first = WorkerLock(path, first_started.set, poll_seconds=0.05)
    second = WorkerLock(path, second_started.set, poll_seconds=0.05)
    first.start()
    assert first_started.wait(5) and first.held
    second.start()
    assert not second_started.wait(0.5) and not second.held

    first.release()
    assert second_started.wait(5) and second.held and not first.held
    second.release()


def test_cancel_means_never_started(tmp_path: Path) -> None:
    path = tmp_path / "embedded-worker.lock"
    held = threading.Event()
    holder = WorkerLock(path, held.set, poll_seconds=0.05)
    holder.start()
    # The holder must hold the lock first: on a busy machine the waiter's thread could win it.
    assert held.wait(5) and holder.held
    started = threading.Event()
    waiter = WorkerLock(path, started.set, poll_seconds=0.05)
    waiter.start()
    waiter.cancel()
    holder.release()
    assert not started.wait(0.5)
    waiter.release()


def test_a_failing_start_gives_the_lock_up(tmp_path: Path) -> None:
    path = tmp_path / "embedded-worker.lock"
    attempts = 0

    def broken() -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("no worker today")

    failing = WorkerLock(path, broken, poll_seconds=0.05)
    failing.start()
    # The failing one must have taken the lock (and failed) first: on a busy machine the healthy
    # one's thread could otherwise win the lock before the failing one ever ran.
    deadline = time.monotonic() + 5
    while attempts < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert attempts >= 1
    started = threading.Event()
    healthy = WorkerLock(path, started.set, poll_seconds=0.05)
    healthy.start()
    assert started.wait(5)
    failing.release()
    healthy.release()

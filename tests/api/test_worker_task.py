"""The Celery task body run in this process (eagerly): database faults keep the message."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api import worker
from api.settings import Settings
from intake.broker import RUN_JOB_TASK
from intake.jobs import JobExecutor
from models.db import make_engine, make_session_factory, unit_of_work
from models.jobs import queue as job_queue


def _task(tmp_path: Path, factory: sessionmaker[Session], seen: list[int]) -> object:
    settings = Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:1/0")
    app = worker.build_worker_app(settings)
    worker._Process.executor = JobExecutor(
        factory, {"k": (seen.append, lambda _i, _e: None)}, timedelta(seconds=5), timedelta(0)
    )
    worker._Process.name = "eager"
    return app.tasks[RUN_JOB_TASK]


def test_the_task_claims_runs_and_drops_duplicates(tmp_path: Path, db_factory: sessionmaker[Session]) -> None:
    seen: list[int] = []
    task = _task(tmp_path, db_factory, seen)
    with unit_of_work(db_factory) as session:
        job_id = job_queue.enqueue(session, "k", None).id
    assert task.apply(args=[job_id]).get() == "ran"  # type: ignore[attr-defined]
    assert task.apply(args=[job_id]).get() == "skipped"  # type: ignore[attr-defined]
    assert seen == [0]


def test_a_database_that_cannot_be_reached_makes_the_task_retry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database file that cannot be opened: every connection fails, as when the server is down.
    engine = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'minsheng.db'}")
    try:
        task = _task(tmp_path, make_session_factory(engine), [])
        assert task.max_retries is None  # type: ignore[attr-defined]  # in production: until it is back
        # Run eagerly, a retry runs again at once (no countdown), so cap the retries for the test.
        task.max_retries = 3  # type: ignore[attr-defined]
        with caplog.at_level(logging.WARNING, logger="api.worker"):
            result = task.apply(args=[1])  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    delays = [r.getMessage().rsplit(" ", 1)[-1] for r in caplog.records if "cannot claim" in r.getMessage()]
    assert delays == ["1s", "2s", "4s", "8s"]  # the message was kept and retried, backing off
    assert result.state == "FAILURE"  # only because the test capped the retries


def test_a_process_that_cannot_load_its_models_keeps_the_message(
    tmp_path: Path, db_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    # A database without the schema (a worker pointed at the wrong database): start-up fails.
    settings = Settings(data_dir=tmp_path / "empty", broker_url="redis://127.0.0.1:1/0")
    app = worker.build_worker_app(settings)
    worker._Process.executor = None
    worker._Process.context = None
    task = app.tasks[RUN_JOB_TASK]
    task.max_retries = 1  # eager retries run at once: cap them for the test
    with caplog.at_level(logging.ERROR, logger="api.worker"):
        result = task.apply(args=[1])
    failures = [r.getMessage() for r in caplog.records if "cannot run jobs" in r.getMessage()]
    assert len(failures) == 2 and "no such table" in failures[0]  # retried, not dropped
    assert result.state == "FAILURE"  # only because the test capped the retries
    assert worker._Process.executor is None

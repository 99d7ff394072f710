"""The job executor on a real app context: idempotent re-runs, heartbeats, crash loops, job kinds."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.context import AppContext
from intake.jobs import JobExecutor
from intake.submission import PROCESS_JOB
from models.db import unit_of_work
from models.jobs import queue as job_queue
from models.jobs.tables import Job
from models.suggestions import queries
from models.suggestions.tables import Event, Prediction, Suggestion, Transcript
from tests.api.conftest import make_client, reader_headers


@pytest.fixture()
def app(tmp_path: Path, weights_cache: Path) -> Iterator[tuple[TestClient, AppContext]]:
    """An app with its embedded worker off: the tests run jobs by hand."""
    with make_client(tmp_path / "var", weights_cache, worker_enabled=False) as client:
        yield client, client.app.state.context  # type: ignore[attr-defined]


def _stored(context: AppContext, suggestion_id: int) -> dict[str, Any]:
    """Everything a job stores for a suggestion, in comparable form."""
    with context.factory() as session:
        suggestion = session.get(Suggestion, suggestion_id)
        assert suggestion is not None

        def count(model: Any) -> int:
            return int(
                session.scalar(
                    select(func.count()).select_from(model).where(model.suggestion_id == suggestion_id)
                )
                or 0
            )

        return {
            "status": suggestion.status,
            "text": suggestion.text,
            "category": suggestion.category,
            "department": suggestion.department_id,
            "transcripts": count(Transcript),
            "predictions": count(Prediction),
            "events": [e.kind for e in queries.history(session, suggestion_id)],
        }


def _run_twice(context: AppContext, job_id: int, suggestion_id: int) -> tuple[dict[str, Any], Job]:
    """First worker stores everything and dies before marking the job done; a second runs it again."""
    executor = JobExecutor(context.factory, context.handlers, timedelta(seconds=0.3), timedelta(0))
    first = executor.claim(job_id, "first")
    assert first is not None
    context.handlers[first.kind][0](suggestion_id)  # ... and the process is killed here
    after_first = _stored(context, suggestion_id)
    time.sleep(0.4)  # no heartbeat any more: the lease runs out
    second = executor.claim(job_id, "second")
    assert second is not None and second.attempt == 2
    executor.run(second, "second")
    with context.factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
    return after_first, job


def test_running_a_text_job_twice_stores_the_same_result_once(app: tuple[TestClient, AppContext]) -> None:
    client, context = app
    sid = client.post(
        "/api/v1/suggestions", data={"text": "The road to the market is full of holes."}
    ).json()["id"]
    with context.factory() as session:
        job_id = job_queue.jobs_for(session, PROCESS_JOB, sid)[0].id
    after_first, job = _run_twice(context, job_id, sid)
    assert after_first["predictions"] == 1 and after_first["status"] in {"routed", "needs_review"}
    assert _stored(context, sid) == after_first
    assert (job.state, job.attempts) == ("done", 2)


@pytest.mark.slow
def test_running_a_voice_job_twice_stores_one_transcript(
    app: tuple[TestClient, AppContext], data_dir: Path
) -> None:
    client, context = app
    with (data_dir / "voice_power.ogg").open("rb") as fh:
        sid = client.post("/api/v1/suggestions", files={"audio": ("n.ogg", fh)}).json()["id"]
    with context.factory() as session:
        job_id = job_queue.jobs_for(session, PROCESS_JOB, sid)[0].id
    after_first, job = _run_twice(context, job_id, sid)
    assert after_first["transcripts"] == 1 and "power" in (after_first["text"] or "").lower()
    assert _stored(context, sid) == after_first
    assert (job.state, job.attempts) == ("done", 2)


def test_a_long_job_keeps_its_lease_by_heartbeat(app: tuple[TestClient, AppContext]) -> None:
    _, context = app
    started, release = threading.Event(), threading.Event()

    def slow(_: int) -> None:
        started.set()
        release.wait(10)

    context.handlers["slow"] = (slow, lambda _id, _err: None)
    with unit_of_work(context.factory) as session:
        job_id = job_queue.enqueue(session, "slow", None).id
    executor = JobExecutor(context.factory, context.handlers, timedelta(seconds=0.3), timedelta(0))
    job = executor.claim(job_id, "busy")
    assert job is not None
    runner = threading.Thread(target=executor.run, args=(job, "busy"))
    runner.start()
    started.wait(5)
    time.sleep(1.0)  # more than three leases
    assert executor.claim(job_id, "thief") is None  # the lease was renewed all along
    release.set()
    runner.join(10)
    with context.factory() as session:
        row = session.get(Job, job_id)
        assert row is not None and (row.state, row.attempts) == ("done", 1)


def test_a_job_that_keeps_killing_its_worker_is_given_up(app: tuple[TestClient, AppContext]) -> None:
    client, context = app
    sid = client.post("/api/v1/suggestions", data={"text": "Please fix the bridge."}).json()["id"]
    executor = JobExecutor(context.factory, context.handlers, timedelta(seconds=0.05), timedelta(0))
    with context.factory() as session:
        job_id = job_queue.jobs_for(session, PROCESS_JOB, sid)[0].id
    for n in range(3):  # max_attempts: three workers claimed it and died without a word
        assert executor.claim(job_id, f"dies-{n}") is not None
        time.sleep(0.1)
    job = executor.claim(job_id, "fourth")
    assert job is not None and job.attempt == 4
    executor.run(job, "fourth")
    with context.factory() as session:
        row = session.get(Job, job_id)
        assert row is not None and row.state == "failed" and "stopped 3 time(s)" in (row.last_error or "")
        assert session.scalar(select(func.count()).select_from(Prediction)) == 0
    body = client.get(f"/api/v1/suggestions/{sid}", headers=reader_headers(client)).json()
    assert body["status"] == "failed"


def test_a_new_job_kind_registered_in_the_handler_table_is_run(app: tuple[TestClient, AppContext]) -> None:
    _, context = app
    seen: list[int] = []
    context.handlers["retrain"] = (seen.append, lambda _id, _err: None)
    with unit_of_work(context.factory) as session:
        job_id = job_queue.enqueue(session, "retrain", None).id
    assert context.runner.drain() == 1  # the embedded runner shares the table with Celery workers
    assert seen == [0]
    with context.factory() as session:
        row = session.get(Job, job_id)
        assert row is not None and row.state == "done"
        assert session.scalar(select(func.count()).select_from(Event)) == 0

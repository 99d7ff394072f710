"""A queued job is announced once, only after its row is committed, whichever code queued it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.jobs import queue as job_queue
from models.jobs.queue import announce_jobs
from models.jobs.tables import Job


def test_jobs_are_announced_after_commit_and_each_once(db_factory: sessionmaker[Session]) -> None:
    seen: list[tuple[int, str | None]] = []

    def announce(job_id: int) -> None:
        with db_factory() as other:  # another connection: the row must already be visible
            job = other.get(Job, job_id)
            seen.append((job_id, job.state if job is not None else None))

    announce_jobs(db_factory, announce)
    with unit_of_work(db_factory) as session:
        first = job_queue.enqueue(session, "recompute_themes", None).id
        second = job_queue.enqueue(session, "retrain", None).id
        assert seen == []  # nothing before the commit
    assert seen == [(first, "queued"), (second, "queued")]
    with unit_of_work(db_factory) as session:
        job_queue.enqueue(session, "retrain", None)
        session.commit()  # an early commit announces it; the unit of work's own commit does not again
    assert len(seen) == 3


def test_a_rolled_back_job_is_never_announced(db_factory: sessionmaker[Session]) -> None:
    seen: list[int] = []
    announce_jobs(db_factory, seen.append)
    with pytest.raises(RuntimeError), unit_of_work(db_factory) as session:
        job_queue.enqueue(session, "retrain", None)
        raise RuntimeError("the request failed after queueing")
    with unit_of_work(db_factory) as session:
        assert session.query(Job).count() == 0
    assert seen == []

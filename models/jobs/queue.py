"""The job queue: enqueue (announced after commit), claim with a lease, renew, finish, retry, and
the outbox of jobs a broker message must still announce. Nothing here commits."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, event, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from models.db import utcnow
from models.jobs.tables import Job

#: What a kind of job runs with its target, and what it runs once the last attempt has failed.
Handler = Callable[[int], None]
GiveUp = Callable[[int, str], None]
#: kind -> (handler, give_up); each module that owns a kind of job hands out its own part.
Handlers = dict[str, tuple[Handler, GiveUp]]

#: Where a session keeps the ids of the jobs it queued until it commits (``enqueue``).
NEW_JOBS = "minsheng_new_jobs"


def announce_jobs(factory: sessionmaker[Session], announce: Callable[[int], None]) -> None:
    """After every commit of a session from ``factory``, hand each job it queued to ``announce``
    (a local worker wakes, or a broker message goes out); a rollback forgets them. The one way a
    new job is announced: a job is never announced before its row is committed, nor forgotten."""

    # The factory keeps this listener for its lifetime, and the announcer (a job queue) usually
    # holds the factory: a weak reference to a bound method keeps that from becoming a cycle that
    # pins the engine and its connections until the garbage collector's slowest pass.
    target: Callable[[], Callable[[int], None] | None] = (
        weakref.WeakMethod(announce) if inspect.ismethod(announce) else (lambda: announce)
    )

    def committed(session: Session) -> None:
        call = target()
        for job_id in session.info.pop(NEW_JOBS, ()):
            if call is not None:
                call(job_id)

    def rolled_back(session: Session) -> None:
        session.info.pop(NEW_JOBS, None)

    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_rollback", rolled_back)


def enqueue(session: Session, kind: str, target: int | None, *, max_attempts: int = 3) -> Job:
    """Add a queued job row (committed together with the data it refers to); once it is committed,
    the factory's ``announce_jobs`` listener announces it."""
    now = utcnow()
    job = Job(
        kind=kind,
        target_id=target,
        state="queued",
        attempts=0,
        max_attempts=max_attempts,
        run_after=now,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    session.info.setdefault(NEW_JOBS, []).append(job.id)  # announced after commit (announce_jobs)
    return job


def _runnable(now: datetime) -> ColumnElement[bool]:
    """Queued and due, or running under a lease that has run out (its worker vanished)."""
    return or_(
        (Job.state == "queued") & (Job.run_after <= now),
        (Job.state == "running") & (Job.lease_until < now),
    )


def _take(session: Session, job_id: int, worker: str, lease: timedelta, now: datetime) -> Job | None:
    """The conditional UPDATE behind every claim: exactly one racer sees a row count of 1."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, _runnable(now))
        .values(
            state="running",
            locked_by=worker,
            lease_until=now + lease,
            attempts=Job.attempts + 1,
            published_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = session.get(Job, job_id, populate_existing=True)
    assert job is not None
    return job


def claim_job(session: Session, worker: str, lease: timedelta, now: datetime | None = None) -> Job | None:
    """Take the oldest runnable job: queued and due, or running with an expired lease.

    The conditional UPDATE makes the claim atomic on every backend: when two workers race for
    the same row, only one sees a row count of 1.
    """
    now = now or utcnow()
    # On PostgreSQL, FOR UPDATE SKIP LOCKED lets concurrent workers pass over rows another worker
    # is claiming instead of queueing behind it; SQLite ignores it (its writers are serialised).
    candidates = session.scalars(
        select(Job.id)
        .where(_runnable(now))
        .order_by(Job.run_after, Job.id)
        .limit(5)
        .with_for_update(skip_locked=True)
    ).all()
    for job_id in candidates:
        job = _take(session, job_id, worker, lease, now)
        if job is not None:
            return job
    return None


def claim_job_by_id(
    session: Session, job_id: int, worker: str, lease: timedelta, now: datetime | None = None
) -> Job | None:
    """Take one named job if it is runnable (a broker message names it); None if it is not.

    None means another worker holds a live lease, the job is finished, or it is backing off:
    in every case the message that named it can be dropped, because the row decides.
    """
    return _take(session, job_id, worker, lease, now or utcnow())


def renew_lease(
    session: Session, job_id: int, worker: str, lease: timedelta, now: datetime | None = None
) -> bool:
    """Extend a running job's lease (the worker's heartbeat). False if the worker lost the job."""
    now = now or utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == "running", Job.locked_by == worker)
        .values(lease_until=now + lease, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _needs_message(now: datetime, stale_before: datetime) -> ColumnElement[bool]:
    return _runnable(now) & or_(Job.published_at.is_(None), Job.published_at < stale_before)


def jobs_needing_a_message(
    session: Session, stale: timedelta, now: datetime | None = None, limit: int = 500
) -> Sequence[int]:
    """Runnable jobs that no broker message carries (or whose message is older than ``stale``).

    These are jobs queued while the broker was down, jobs backing off after a failure that are
    due again, and jobs whose worker vanished (lease expired).
    """
    now = now or utcnow()
    return session.scalars(
        select(Job.id).where(_needs_message(now, now - stale)).order_by(Job.run_after, Job.id).limit(limit)
    ).all()


def mark_published(session: Session, job_id: int, stale: timedelta, now: datetime | None = None) -> bool:
    """Record that a message for a runnable job is about to be published.

    Conditional like a claim: when an API node and sweepers race to publish the same job, only
    one of them gets True and publishes, so the queue does not fill with duplicates.
    """
    now = now or utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, _needs_message(now, now - stale))
        .values(published_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def unmark_published(session: Session, job_id: int) -> None:
    """The publish failed: leave the job to the next sweep."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(published_at=None)
        .execution_options(synchronize_session=False)
    )


def finish_job(session: Session, job: Job) -> None:
    """Mark a job done."""
    job.state = "done"
    job.lease_until = None
    job.updated_at = utcnow()


def retry_or_fail_job(session: Session, job: Job, error: str, backoff: timedelta) -> bool:
    """Record a failure; requeue after ``backoff`` unless attempts are used up. True if it gave up."""
    job.last_error = error[:4000]
    job.updated_at = utcnow()
    job.lease_until = None
    if job.attempts >= job.max_attempts:
        job.state = "failed"
        return True
    job.state = "queued"
    job.run_after = utcnow() + backoff
    return False


def jobs_for(session: Session, kind: str, target: int) -> Sequence[Job]:
    """The jobs of one kind on one target, oldest first."""
    stmt = select(Job).where(Job.kind == kind, Job.target_id == target).order_by(Job.id)
    return session.scalars(stmt).all()

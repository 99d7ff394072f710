"""The job queue: one claimant, leases, back-off, heartbeats and the broker outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work, utcnow
from models.jobs import queue as job_queue
from models.jobs.tables import Job


def _job(db_factory: sessionmaker[Session], max_attempts: int = 2) -> int:
    with unit_of_work(db_factory) as session:
        return job_queue.enqueue(session, "k", None, max_attempts=max_attempts).id


def test_a_job_is_claimed_by_one_worker_only(db_factory: sessionmaker[Session]) -> None:
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        first = job_queue.claim_job(session, "w1", timedelta(minutes=5))
    with unit_of_work(db_factory) as session:
        second = job_queue.claim_job(session, "w2", timedelta(minutes=5))
    assert first is not None and first.id == job_id and first.attempts == 1
    assert second is None


def test_an_expired_lease_lets_another_worker_take_the_job(db_factory: sessionmaker[Session]) -> None:
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert job_queue.claim_job(session, "dead", timedelta(seconds=1)) is not None
    with unit_of_work(db_factory) as session:
        job = job_queue.claim_job(session, "alive", timedelta(minutes=5), now=utcnow() + timedelta(seconds=5))
    assert job is not None and job.id == job_id and job.locked_by == "alive" and job.attempts == 2


def test_failures_back_off_then_give_up(db_factory: sessionmaker[Session]) -> None:
    _job(db_factory, max_attempts=2)
    with unit_of_work(db_factory) as session:
        job = job_queue.claim_job(session, "w", timedelta(minutes=5))
        assert job is not None
        assert job_queue.retry_or_fail_job(session, job, "boom 1", timedelta(minutes=1)) is False
    with unit_of_work(db_factory) as session:
        assert job_queue.claim_job(session, "w", timedelta(minutes=5)) is None  # backing off
        job = job_queue.claim_job(session, "w", timedelta(minutes=5), now=utcnow() + timedelta(minutes=2))
        assert job is not None
        assert job_queue.retry_or_fail_job(session, job, "boom 2", timedelta(minutes=1)) is True
    with db_factory() as session:
        stored = session.get(Job, job.id)
        assert stored is not None and stored.state == "failed" and stored.last_error == "boom 2"


def test_a_named_job_is_claimed_only_when_runnable(db_factory: sessionmaker[Session]) -> None:
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        first = job_queue.claim_job_by_id(session, job_id, "w1", timedelta(seconds=1))
        assert first is not None and first.locked_by == "w1" and first.attempts == 1
    with unit_of_work(db_factory) as session:  # a duplicate message while the lease is live
        assert job_queue.claim_job_by_id(session, job_id, "w2", timedelta(seconds=1)) is None
    later = utcnow() + timedelta(seconds=5)
    with unit_of_work(db_factory) as session:  # the lease ran out: the worker vanished
        again = job_queue.claim_job_by_id(session, job_id, "w2", timedelta(minutes=1), now=later)
        assert again is not None and again.locked_by == "w2" and again.attempts == 2
        job_queue.finish_job(session, again)
    with unit_of_work(db_factory) as session:  # finished: a stale message is dropped
        assert job_queue.claim_job_by_id(session, job_id, "w3", timedelta(seconds=1), now=later) is None


def test_a_heartbeat_keeps_the_lease_of_its_own_worker_only(db_factory: sessionmaker[Session]) -> None:
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert job_queue.claim_job(session, "w1", timedelta(seconds=1)) is not None
    soon = utcnow() + timedelta(seconds=0.5)
    with unit_of_work(db_factory) as session:
        assert job_queue.renew_lease(session, job_id, "w1", timedelta(seconds=10), now=soon)
        assert not job_queue.renew_lease(session, job_id, "someone-else", timedelta(seconds=10), now=soon)
    with unit_of_work(db_factory) as session:  # renewed: still held two seconds later
        assert (
            job_queue.claim_job(session, "w2", timedelta(seconds=1), now=soon + timedelta(seconds=2)) is None
        )


def test_only_one_publisher_marks_a_job_and_a_claim_clears_the_mark(
    db_factory: sessionmaker[Session],
) -> None:
    stale = timedelta(minutes=30)
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert list(job_queue.jobs_needing_a_message(session, stale)) == [job_id]
        assert job_queue.mark_published(session, job_id, stale) is True
    with unit_of_work(db_factory) as session:
        assert job_queue.mark_published(session, job_id, stale) is False  # racing sweeper: no duplicate
        assert list(job_queue.jobs_needing_a_message(session, stale)) == []
        # A message lost with Redis's memory: published again once the mark is stale.
        later = utcnow() + stale + timedelta(seconds=1)
        assert list(job_queue.jobs_needing_a_message(session, stale, now=later)) == [job_id]
    with unit_of_work(db_factory) as session:
        assert job_queue.claim_job_by_id(session, job_id, "w", timedelta(seconds=1)) is not None
    with db_factory() as session:
        assert session.get(Job, job_id).published_at is None  # type: ignore[union-attr]
        # Running under a live lease: nothing to publish; once the lease expires, it needs a message.
        assert list(job_queue.jobs_needing_a_message(session, stale)) == []
        later = utcnow() + timedelta(seconds=5)
        assert list(job_queue.jobs_needing_a_message(session, stale, now=later)) == [job_id]


def test_a_failed_job_needs_a_message_again_once_its_retry_is_due(db_factory: sessionmaker[Session]) -> None:
    stale = timedelta(minutes=30)
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert job_queue.mark_published(session, job_id, stale)
        job = job_queue.claim_job_by_id(session, job_id, "w", timedelta(minutes=1))
        assert job is not None
        job_queue.retry_or_fail_job(session, job, "boom", timedelta(minutes=1))
    with db_factory() as session:
        assert list(job_queue.jobs_needing_a_message(session, stale)) == []  # backing off
        due = utcnow() + timedelta(minutes=2)
        assert list(job_queue.jobs_needing_a_message(session, stale, now=due)) == [job_id]


def test_a_failed_publish_leaves_the_job_to_the_sweeper(db_factory: sessionmaker[Session]) -> None:
    stale = timedelta(minutes=30)
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert job_queue.mark_published(session, job_id, stale)
        job_queue.unmark_published(session, job_id)
    with db_factory() as session:
        assert list(job_queue.jobs_needing_a_message(session, stale)) == [job_id]

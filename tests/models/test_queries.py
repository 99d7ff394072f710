"""Storage behaviour on a real SQLite database built by the Alembic migrations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from models import queries
from models.base import Base
from models.db import make_engine, unit_of_work, upgrade, utcnow
from models.errors import NotFound
from models.tables import Job, RoutingRule
from models.vocabulary import Status
from tests.databases import TestDatabases


def test_migrations_build_exactly_the_declared_schema(db_factory: sessionmaker[Session]) -> None:
    with db_factory() as session:
        diff = compare_metadata(MigrationContext.configure(session.connection()), Base.metadata)
    assert diff == []


def test_upgrade_builds_an_empty_database_and_is_idempotent(test_databases: TestDatabases) -> None:
    engine = make_engine(test_databases.new(migrated=False))
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    upgrade(engine)
    upgrade(engine)
    engine.dispose()


def test_default_departments_route_every_category(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        queries.seed_departments(session)
        queries.seed_departments(session)  # idempotent
    with db_factory() as session:
        codes = {
            cat: getattr(queries.department_for(session, cat, None), "code", None)
            for cat in ("transport", "urban_construction", "environment", "power", "other")
        }
    assert codes == {
        "transport": "transport_bureau",
        "urban_construction": "housing_bureau",
        "environment": "ecology_bureau",
        "power": "power_station",
        "other": "general_office",
    }


def test_village_rule_wins_over_general_rule(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        queries.seed_departments(session)
        office = queries.department_for(session, "other", None)
        assert office is not None
        session.add(
            RoutingRule(category="power", village="河西村", department_id=office.id, created_at=utcnow())
        )
    with db_factory() as session:
        assert getattr(queries.department_for(session, "power", "河西村"), "code", None) == "general_office"
        assert getattr(queries.department_for(session, "power", "东山村"), "code", None) == "power_station"


def test_tracking_codes_are_unambiguous_and_found_loosely(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        s = queries.create_suggestion(
            session, status=Status.RECEIVED, actor="villager", channel="text", text="x"
        )
        code = s.tracking_code
    assert len(code) == 9 and code[4] == "-"
    assert not set(code.replace("-", "")) & set("01OIL")
    with db_factory() as session:
        assert queries.get_by_tracking_code(session, code.lower().replace("-", " ")).id == s.id
        with pytest.raises(NotFound, match="tracking code"):
            queries.get_by_tracking_code(session, "AAAA-AAAA")


def test_status_changes_append_history(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        s = queries.create_suggestion(
            session, status=Status.RECEIVED, actor="villager", channel="text", text="x"
        )
        queries.set_status(session, s, Status.ROUTED, actor="worker", kind="routed", detail={"d": 1})
    with db_factory() as session:
        events = queries.history(session, s.id)
    assert [(e.kind, e.from_status, e.to_status) for e in events] == [
        ("received", None, "received"),
        ("routed", "received", "routed"),
    ]
    assert events[1].at.tzinfo is not None


def _job(db_factory: sessionmaker[Session], max_attempts: int = 2) -> int:
    with unit_of_work(db_factory) as session:
        return queries.enqueue(session, "k", None, max_attempts=max_attempts).id


def test_a_job_is_claimed_by_one_worker_only(db_factory: sessionmaker[Session]) -> None:
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        first = queries.claim_job(session, "w1", timedelta(minutes=5))
    with unit_of_work(db_factory) as session:
        second = queries.claim_job(session, "w2", timedelta(minutes=5))
    assert first is not None and first.id == job_id and first.attempts == 1
    assert second is None


def test_an_expired_lease_lets_another_worker_take_the_job(db_factory: sessionmaker[Session]) -> None:
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert queries.claim_job(session, "dead", timedelta(seconds=1)) is not None
    with unit_of_work(db_factory) as session:
        job = queries.claim_job(session, "alive", timedelta(minutes=5), now=utcnow() + timedelta(seconds=5))
    assert job is not None and job.id == job_id and job.locked_by == "alive" and job.attempts == 2


def test_failures_back_off_then_give_up(db_factory: sessionmaker[Session]) -> None:
    _job(db_factory, max_attempts=2)
    with unit_of_work(db_factory) as session:
        job = queries.claim_job(session, "w", timedelta(minutes=5))
        assert job is not None
        assert queries.retry_or_fail_job(session, job, "boom 1", timedelta(minutes=1)) is False
    with unit_of_work(db_factory) as session:
        assert queries.claim_job(session, "w", timedelta(minutes=5)) is None  # backing off
        job = queries.claim_job(session, "w", timedelta(minutes=5), now=utcnow() + timedelta(minutes=2))
        assert job is not None
        assert queries.retry_or_fail_job(session, job, "boom 2", timedelta(minutes=1)) is True
    with db_factory() as session:
        stored = session.get(Job, job.id)
        assert stored is not None and stored.state == "failed" and stored.last_error == "boom 2"


def test_a_named_job_is_claimed_only_when_runnable(db_factory: sessionmaker[Session]) -> None:
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        first = queries.claim_job_by_id(session, job_id, "w1", timedelta(seconds=1))
        assert first is not None and first.locked_by == "w1" and first.attempts == 1
    with unit_of_work(db_factory) as session:  # a duplicate message while the lease is live
        assert queries.claim_job_by_id(session, job_id, "w2", timedelta(seconds=1)) is None
    later = utcnow() + timedelta(seconds=5)
    with unit_of_work(db_factory) as session:  # the lease ran out: the worker vanished
        again = queries.claim_job_by_id(session, job_id, "w2", timedelta(minutes=1), now=later)
        assert again is not None and again.locked_by == "w2" and again.attempts == 2
        queries.finish_job(session, again)
    with unit_of_work(db_factory) as session:  # finished: a stale message is dropped
        assert queries.claim_job_by_id(session, job_id, "w3", timedelta(seconds=1), now=later) is None


def test_a_heartbeat_keeps_the_lease_of_its_own_worker_only(db_factory: sessionmaker[Session]) -> None:
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert queries.claim_job(session, "w1", timedelta(seconds=1)) is not None
    soon = utcnow() + timedelta(seconds=0.5)
    with unit_of_work(db_factory) as session:
        assert queries.renew_lease(session, job_id, "w1", timedelta(seconds=10), now=soon)
        assert not queries.renew_lease(session, job_id, "someone-else", timedelta(seconds=10), now=soon)
    with unit_of_work(db_factory) as session:  # renewed: still held two seconds later
        assert queries.claim_job(session, "w2", timedelta(seconds=1), now=soon + timedelta(seconds=2)) is None


def test_only_one_publisher_marks_a_job_and_a_claim_clears_the_mark(
    db_factory: sessionmaker[Session],
) -> None:
    stale = timedelta(minutes=30)
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert list(queries.jobs_needing_a_message(session, stale)) == [job_id]
        assert queries.mark_published(session, job_id, stale) is True
    with unit_of_work(db_factory) as session:
        assert queries.mark_published(session, job_id, stale) is False  # racing sweeper: no duplicate
        assert list(queries.jobs_needing_a_message(session, stale)) == []
        # A message lost with Redis's memory: published again once the mark is stale.
        later = utcnow() + stale + timedelta(seconds=1)
        assert list(queries.jobs_needing_a_message(session, stale, now=later)) == [job_id]
    with unit_of_work(db_factory) as session:
        assert queries.claim_job_by_id(session, job_id, "w", timedelta(seconds=1)) is not None
    with db_factory() as session:
        assert session.get(Job, job_id).published_at is None  # type: ignore[union-attr]
        # Running under a live lease: nothing to publish; once the lease expires, it needs a message.
        assert list(queries.jobs_needing_a_message(session, stale)) == []
        later = utcnow() + timedelta(seconds=5)
        assert list(queries.jobs_needing_a_message(session, stale, now=later)) == [job_id]


def test_a_failed_job_needs_a_message_again_once_its_retry_is_due(db_factory: sessionmaker[Session]) -> None:
    stale = timedelta(minutes=30)
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert queries.mark_published(session, job_id, stale)
        job = queries.claim_job_by_id(session, job_id, "w", timedelta(minutes=1))
        assert job is not None
        queries.retry_or_fail_job(session, job, "boom", timedelta(minutes=1))
    with db_factory() as session:
        assert list(queries.jobs_needing_a_message(session, stale)) == []  # backing off
        due = utcnow() + timedelta(minutes=2)
        assert list(queries.jobs_needing_a_message(session, stale, now=due)) == [job_id]


def test_a_failed_publish_leaves_the_job_to_the_sweeper(db_factory: sessionmaker[Session]) -> None:
    stale = timedelta(minutes=30)
    job_id = _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert queries.mark_published(session, job_id, stale)
        queries.unmark_published(session, job_id)
    with db_factory() as session:
        assert list(queries.jobs_needing_a_message(session, stale)) == [job_id]


def test_one_active_classifier_at_a_time(db_factory: sessionmaker[Session]) -> None:
    fields = dict(artefact_path="a", sha256="0" * 64, data_fingerprint="f", n_examples=1)
    with unit_of_work(db_factory) as session:
        v1 = queries.add_classifier_version(session, **fields)
        v2 = queries.add_classifier_version(session, **fields)
        queries.activate_classifier(session, v1.id)
        queries.activate_classifier(session, v2.id)
    with db_factory() as session:
        active = queries.active_classifier(session)
        assert active is not None and active.id == v2.id
        assert session.get(type(active), v1.id).state == "retired"  # type: ignore[union-attr]


def test_a_record_brings_the_transcript_and_the_newest_prediction(db_factory: sessionmaker[Session]) -> None:
    fields = dict(artefact_path="a", sha256="0" * 64, data_fingerprint="f", n_examples=1)
    with unit_of_work(db_factory) as session:
        version = queries.add_classifier_version(session, **fields).id
        bare = queries.create_suggestion(session, status=Status.RECEIVED, actor="villager", channel="text")
        voiced = queries.create_suggestion(session, status=Status.RECEIVED, actor="villager", channel="voice")
        other = queries.create_suggestion(session, status=Status.RECEIVED, actor="villager", channel="text")
        queries.add_transcript(
            session, voiced.id, engine="e", model="m", language="zh", language_probability=1.0,
            text="路灯坏了", confidence=0.9, seconds=1.0,
        )  # fmt: skip
        for suggestion, label in ((voiced, "transport"), (other, "environment"), (voiced, "power")):
            queries.add_prediction(
                session, suggestion.id, classifier_version_id=version, label=label, confidence=0.5
            )
    with db_factory() as session:
        record = queries.get_record(session, bare.id)
        assert (record.suggestion.id, record.transcript, record.prediction) == (bare.id, None, None)
        record = queries.get_record(session, voiced.id)
        assert record.transcript is not None and record.transcript.text == "路灯坏了"
        assert record.prediction is not None and record.prediction.label == "power"
        record = queries.get_record(session, other.id)
        assert record.transcript is None
        assert record.prediction is not None and record.prediction.label == "environment"
        with pytest.raises(NotFound):
            queries.get_record(session, 999_999)

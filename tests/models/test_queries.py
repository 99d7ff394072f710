"""Storage behaviour on a real SQLite database built by the Alembic migrations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from models import queries
from models.db import make_engine, unit_of_work, upgrade, utcnow
from models.errors import NotFound
from models.tables import Base, Job, RoutingRule, Status
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
        return queries.enqueue_job(session, "k", None, max_attempts=max_attempts).id


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


def test_release_requeues_jobs_cut_off_by_a_crash(db_factory: sessionmaker[Session]) -> None:
    _job(db_factory)
    with unit_of_work(db_factory) as session:
        assert queries.claim_job(session, "crashed", timedelta(hours=1)) is not None
    with unit_of_work(db_factory) as session:
        assert queries.release_jobs_of(session) == 1
    with unit_of_work(db_factory) as session:
        assert queries.claim_job(session, "new", timedelta(minutes=5)) is not None


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

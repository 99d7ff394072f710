""" "问题解决了吗？" after a poor rating: "not fixed" reopens the suggestion to its department, once per
rating, and the report counts it; on a real database with the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.directory import queries as directory
from models.errors import Conflict
from models.reporting import reports
from models.suggestions import lifecycle, queries, questionnaire, rating
from models.suggestions.lifecycle import IllegalTransition
from models.suggestions.questionnaire import AlreadyAnswered, NotAsked
from models.suggestions.rating import RatingRefused
from models.vocabulary import Status

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
KEY = rating.new_rating_key()


def resolved(factory: sessionmaker[Session], at: datetime = T0) -> tuple[int, str]:
    """A villager's suggestion that the power station handled and resolved: (id, tracking code)."""
    with unit_of_work(factory) as session:
        directory.seed_departments(session)
        dept = directory.department_for(session, "power", None)
        assert dept is not None
        s = queries.create_suggestion(
            session,
            status=Status.ROUTED,
            actor="worker",
            channel="text",
            text="路灯坏了",
            category="power",
            department_id=dept.id,
            rating_key_hash=rating.rating_key_hash(KEY),
        )
        sid, code = s.id, s.tracking_code
        lifecycle.dispatch(session, sid, actor="admin1", now=at)
        lifecycle.accept(session, sid, actor="li", now=at + timedelta(hours=1))
        lifecycle.start(session, sid, actor="li", now=at + timedelta(hours=2))
        lifecycle.resolve(session, sid, actor="li", now=at + timedelta(hours=3), result_note="已更换路灯")
    return sid, code


def rate(factory: sessionmaker[Session], code: str, score: int, at: datetime) -> None:
    with unit_of_work(factory) as session:
        rating.rate_as_villager(session, code, KEY, score=score, comment="还是不亮", now=at)


def answer(factory: sessionmaker[Session], code: str, *, fixed: bool, at: datetime, key: str = KEY) -> None:
    with unit_of_work(factory) as session:
        questionnaire.answer(session, code, key, fixed=fixed, now=at)


def kinds(factory: sessionmaker[Session], sid: int) -> list[str]:
    with factory() as session:
        return [e.kind for e in queries.history(session, sid)]


def test_not_fixed_after_a_poor_rating_reopens_to_the_same_department_once(
    db_factory: sessionmaker[Session],
) -> None:
    sid, code = resolved(db_factory)
    with db_factory() as session:
        assert not questionnaire.asks(session, queries.get_suggestion(session, sid))  # not rated yet
    t1 = T0 + timedelta(days=1)
    rate(db_factory, code, 2, t1)
    with db_factory() as session:
        s = queries.get_suggestion(session, sid)
        assert s.status == Status.CLOSED and questionnaire.asks(session, s)

    t2 = t1 + timedelta(hours=1)
    answer(db_factory, code, fixed=False, at=t2)
    with db_factory() as session:
        s = queries.get_suggestion(session, sid)
        assignment = lifecycle.assignment_of(session, sid)
        assert assignment is not None and assignment.department is not None
        assert (s.status, s.department.code if s.department else None) == (Status.DISPATCHED, "power_station")
        assert assignment.department.code == "power_station"
        assert (assignment.accepted_at, assignment.resolved_at, s.closed_at) == (None, None, None)
        assert s.due_at == t2 + timedelta(days=7)  # a fresh deadline from the reopening
        assert (s.satisfaction, s.satisfaction_comment) == (None, None)  # the next result gets rated
        event = queries.history(session, sid)[-1]
        assert (event.kind, event.actor, event.from_status, event.to_status) == (
            "reopened",
            "villager",
            "closed",
            "dispatched",
        )
        assert event.detail["satisfaction"] == 2 and event.detail["comment"] == "还是不亮"
        assert questionnaire.reopened_by_villager(session, s) and not questionnaire.asks(session, s)

    with pytest.raises(AlreadyAnswered) as second:  # the same rating answered again: refused
        answer(db_factory, code, fixed=False, at=t2 + timedelta(minutes=1))
    assert isinstance(second.value, Conflict) and "already answered" in second.value.detail
    assert kinds(db_factory, sid).count("reopened") == 1

    # The department handles it again; the villager rates the new result, and may be asked again.
    with unit_of_work(db_factory) as session:
        lifecycle.accept(session, sid, actor="li", now=t2 + timedelta(hours=1))
        lifecycle.start(session, sid, actor="li", now=t2 + timedelta(hours=2))
        lifecycle.resolve(session, sid, actor="li", now=t2 + timedelta(hours=3), result_note="换了新灯杆")
    rate(db_factory, code, 1, t2 + timedelta(days=1))
    with db_factory() as session:
        assert questionnaire.asks(session, queries.get_suggestion(session, sid))


def test_fixed_is_recorded_and_closes_the_question(db_factory: sessionmaker[Session]) -> None:
    sid, code = resolved(db_factory)
    rate(db_factory, code, 1, T0 + timedelta(days=1))
    answer(db_factory, code, fixed=True, at=T0 + timedelta(days=2))
    with db_factory() as session:
        s = queries.get_suggestion(session, sid)
        assert (s.status, s.satisfaction) == (Status.CLOSED, 1)
        assert not questionnaire.asks(session, s) and not questionnaire.reopened_by_villager(session, s)
    assert kinds(db_factory, sid)[-1] == "confirmed_fixed"
    with pytest.raises(AlreadyAnswered):
        answer(db_factory, code, fixed=False, at=T0 + timedelta(days=3))


def test_only_a_poor_rating_with_the_receipts_key_is_asked(db_factory: sessionmaker[Session]) -> None:
    _sid, code = resolved(db_factory)
    with pytest.raises(NotAsked):  # resolved, not rated
        answer(db_factory, code, fixed=False, at=T0 + timedelta(days=1))
    rate(db_factory, code, 4, T0 + timedelta(days=1))
    with pytest.raises(NotAsked, match="2 stars or fewer"):
        answer(db_factory, code, fixed=False, at=T0 + timedelta(days=2))

    _sid2, code2 = resolved(db_factory)
    rate(db_factory, code2, 2, T0 + timedelta(days=1))
    for forged in (None, "", rating.new_rating_key()):
        with pytest.raises(RatingRefused):
            answer(db_factory, code2, fixed=False, at=T0 + timedelta(days=2), key=forged)  # type: ignore[arg-type]


def test_reopen_only_from_a_finished_state(db_factory: sessionmaker[Session]) -> None:
    sid, _code = resolved(db_factory)
    with unit_of_work(db_factory) as session:
        lifecycle.reopen(session, sid, actor="villager", now=T0 + timedelta(days=1))
    with (
        pytest.raises(IllegalTransition, match="only a resolved or closed"),
        unit_of_work(db_factory) as session,
    ):
        lifecycle.reopen(session, sid, actor="villager", now=T0 + timedelta(days=2))
    assert kinds(db_factory, sid).count("reopened") == 1


def test_the_report_counts_reopenings_by_villagers_in_the_period(db_factory: sessionmaker[Session]) -> None:
    sid, code = resolved(db_factory)
    rate(db_factory, code, 2, T0 + timedelta(days=1))
    answer(db_factory, code, fixed=False, at=T0 + timedelta(days=2))
    _other, other_code = resolved(db_factory)
    rate(db_factory, other_code, 1, T0 + timedelta(days=1))
    answer(db_factory, other_code, fixed=True, at=T0 + timedelta(days=2))  # fixed: not counted

    with db_factory() as session:
        month = reports.build_report(session, period="month", anchor=T0.date(), now=T0 + timedelta(days=3))
        assert month.reopened_by_villager == 1
        station = [d for d in month.departments if d.code == "power_station"]
        assert [d.reopened_by_villager for d in station] == [1]
        scoped = reports.build_report(
            session,
            period="month",
            anchor=T0.date(),
            scope="department",
            key="power_station",
            now=T0 + timedelta(days=3),
        )
        assert scoped.reopened_by_villager == 1
        later = reports.build_report(
            session, period="month", anchor=(T0 + timedelta(days=40)).date(), now=T0 + timedelta(days=41)
        )
        assert later.reopened_by_villager == 0
    assert sid != _other

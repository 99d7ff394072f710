"""The workflow after routing, on a real SQLite database, with the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.directory import queries as directory
from models.errors import InvalidInput
from models.reporting import supervision
from models.suggestions import lifecycle, queries
from models.suggestions.lifecycle import AlreadyRated, IllegalTransition, NotPermitted, WorkflowConflict
from models.vocabulary import Status

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def routed(factory: sessionmaker[Session], category: str = "power", village: str | None = None) -> int:
    """A suggestion the pipeline has routed to the category's department."""
    with unit_of_work(factory) as session:
        directory.seed_departments(session)
        dept = directory.department_for(session, category, village)
        s = queries.create_suggestion(
            session,
            status=Status.ROUTED,
            actor="worker",
            channel="text",
            text="路灯坏了",
            category=category,
            village=village,
            department_id=dept.id if dept else None,
        )
        return s.id


def statuses(factory: sessionmaker[Session], sid: int) -> list[tuple[str | None, str | None, str]]:
    with factory() as session:
        return [(e.from_status, e.to_status, e.actor) for e in queries.history(session, sid) if e.to_status]


def test_full_happy_path_records_every_transition_with_actor_and_time(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory)
    steps = [
        (lambda s, t: lifecycle.dispatch(s, sid, actor="admin1", now=t)),
        (lambda s, t: lifecycle.accept(s, sid, actor="li", now=t)),
        (lambda s, t: lifecycle.start(s, sid, actor="li", now=t)),
        (lambda s, t: lifecycle.resolve(s, sid, actor="li", now=t, result_note="已更换路灯")),
        (lambda s, t: lifecycle.close(s, sid, actor="admin1", now=t)),
    ]
    for hour, step in enumerate(steps):
        with unit_of_work(db_factory) as session:
            step(session, T0 + timedelta(hours=hour))
    assert statuses(db_factory, sid)[1:] == [
        ("routed", "dispatched", "admin1"),
        ("dispatched", "accepted", "li"),
        ("accepted", "in_progress", "li"),
        ("in_progress", "resolved", "li"),
        ("resolved", "closed", "admin1"),
    ]
    with db_factory() as session:
        events = [e for e in queries.history(session, sid) if e.kind != "received"]
        assert [e.at for e in events] == [T0 + timedelta(hours=h) for h in range(5)]
        s = queries.get_suggestion(session, sid)
        assert s.result_note == "已更换路灯"
        assert s.assignee == "li"
        assert s.closed_at == T0 + timedelta(hours=4)
        assert s.due_at == T0 + timedelta(days=7)  # power's default deadline, from dispatch


@pytest.mark.parametrize(
    ("action", "status"),
    [("accept", "routed"), ("start", "dispatched"), ("resolve", "accepted"), ("close", "in_progress")],
)
def test_illegal_transitions_are_refused_and_change_nothing(
    db_factory: sessionmaker[Session], action: str, status: str
) -> None:
    sid = routed(db_factory)
    path = ["dispatch", "accept", "start"]
    with unit_of_work(db_factory) as session:
        for step in path[: ["routed", "dispatched", "accepted", "in_progress"].index(status)]:
            getattr(lifecycle, step)(session, sid, actor="a", now=T0)
    before = statuses(db_factory, sid)
    with pytest.raises(IllegalTransition, match=f"is '{status}'"), unit_of_work(db_factory) as session:
        if action == "resolve":
            lifecycle.resolve(session, sid, actor="a", now=T0, result_note="done")
        else:
            getattr(lifecycle, action)(session, sid, actor="a", now=T0)
    assert statuses(db_factory, sid) == before
    with db_factory() as session:
        assert queries.get_suggestion(session, sid).status == status


def test_resolve_needs_a_result_note(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory)
    with unit_of_work(db_factory) as session:
        for step in ("dispatch", "accept", "start"):
            getattr(lifecycle, step)(session, sid, actor="a", now=T0)
    with pytest.raises(InvalidInput, match="result note"), unit_of_work(db_factory) as session:
        lifecycle.resolve(session, sid, actor="a", now=T0, result_note="   ")
    with db_factory() as session:
        assert queries.get_suggestion(session, sid).status == "in_progress"


def test_return_needs_a_reason_goes_back_to_triage_and_clears_the_holder(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory)
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
        lifecycle.accept(session, sid, actor="li", now=T0)
    with pytest.raises(InvalidInput, match="reason"), unit_of_work(db_factory) as session:
        lifecycle.return_to_triage(session, sid, actor="li", now=T0, reason="")
    with unit_of_work(db_factory) as session:
        lifecycle.return_to_triage(session, sid, actor="li", now=T0, reason="不归我们管，是水利的事")
    with db_factory() as session:
        s = queries.get_suggestion(session, sid)
        assert s.status == Status.NEEDS_REVIEW
        assert s.assignee is None and s.due_at is None
        assert "不归我们管" in (s.review_reason or "")
        assert lifecycle.assignment_of(session, sid) is None
        last = queries.history(session, sid)[-1]
        assert (last.kind, last.actor, last.detail["returned_by"]) == ("returned", "li", "li")
        assert last.detail["reason"] == "不归我们管，是水利的事"


def test_dispatch_to_a_deputy_and_only_that_deputy_may_act(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "environment")
    with unit_of_work(db_factory) as session:
        wang = directory.save_deputy(
            session, actor="admin1", now=T0, username="wang", name="王代表", village="河西村"
        )
        lifecycle.dispatch(session, sid, actor="admin1", now=T0, deputy_id=wang.id)
    with db_factory() as session:
        s = queries.get_suggestion(session, sid)
        assert s.assignee == "王代表"
        assert queries.history(session, sid)[-1].detail["deputy"] == "wang"
        lifecycle.check_may_handle(session, s, lifecycle.Actor("wang", ("deputy",)))
        lifecycle.check_may_handle(session, s, lifecycle.Actor("boss", ("admin",)))
        with pytest.raises(NotPermitted):
            lifecycle.check_may_handle(session, s, lifecycle.Actor("zhao", ("deputy",)))
        with pytest.raises(NotPermitted):
            lifecycle.check_may_handle(session, s, lifecycle.Actor("eco", ("handler",), "ecology_bureau"))


def test_only_the_holding_departments_handler_may_act(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
    with db_factory() as session:
        s = queries.get_suggestion(session, sid)
        lifecycle.check_may_handle(session, s, lifecycle.Actor("p", ("handler",), "power_station"))
        with pytest.raises(NotPermitted):
            lifecycle.check_may_handle(session, s, lifecycle.Actor("t", ("handler",), "transport_bureau"))


def test_extension_needs_admin_approval_and_moves_the_deadline(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
        request = lifecycle.request_extension(session, sid, actor="li", now=T0, days=5, reason="等材料")
        rid = request.id
    with db_factory() as session:
        assert queries.get_suggestion(session, sid).due_at == T0 + timedelta(days=7)  # not yet moved
    with pytest.raises(WorkflowConflict, match="already has"), unit_of_work(db_factory) as session:
        lifecycle.request_extension(session, sid, actor="li", now=T0, days=3, reason="again")
    with unit_of_work(db_factory) as session:
        lifecycle.decide_extension(session, rid, actor="admin1", now=T0, approve=True)
    with db_factory() as session:
        assert queries.get_suggestion(session, sid).due_at == T0 + timedelta(days=12)
        kinds = [(e.kind, e.actor) for e in queries.history(session, sid)][-2:]
        assert kinds == [("extension_requested", "li"), ("extension_approved", "admin1")]
    with pytest.raises(WorkflowConflict, match="already been approved"), unit_of_work(db_factory) as session:
        lifecycle.decide_extension(session, rid, actor="admin1", now=T0, approve=False)


def test_rejected_extension_keeps_the_deadline(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
        rid = lifecycle.request_extension(session, sid, actor="li", now=T0, days=5, reason="x").id
        lifecycle.decide_extension(session, rid, actor="admin1", now=T0, approve=False, note="按期办")
    with db_factory() as session:
        assert queries.get_suggestion(session, sid).due_at == T0 + timedelta(days=7)


def test_extension_outside_the_clock_is_illegal(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory)
    with pytest.raises(IllegalTransition), unit_of_work(db_factory) as session:
        lifecycle.request_extension(session, sid, actor="li", now=T0, days=5, reason="x")


def test_deadlines_are_configurable_and_overdue_is_computed_in_sql(db_factory: sessionmaker[Session]) -> None:
    fast, slow = routed(db_factory, "transport"), routed(db_factory, "urban_construction")
    with unit_of_work(db_factory) as session:
        directory.set_deadline(session, actor="admin1", now=T0, category="transport", days=2)
        lifecycle.dispatch(session, fast, actor="admin1", now=T0)
        lifecycle.dispatch(session, slow, actor="admin1", now=T0)
    with db_factory() as session:
        assert queries.get_suggestion(session, fast).due_at == T0 + timedelta(days=2)
        assert queries.get_suggestion(session, slow).due_at == T0 + timedelta(days=30)
        assert supervision.chase_list(session, T0 + timedelta(days=2)) == []  # due exactly now: not late
        late = supervision.chase_list(session, T0 + timedelta(days=2, seconds=1))
        assert [i.id for i in late] == [fast]
        assert late[0].overdue and late[0].department_code == "transport_bureau"
        assert [i.id for i in supervision.chase_list(session, T0 + timedelta(days=31))] == [fast, slow]
        entry = directory.audit_log(session)[0]
        assert (entry.entity, entry.key if hasattr(entry, "key") else entry.entity_key) == (
            "deadline",
            "transport",
        )
        assert (entry.before, entry.after) == ({"days": 15}, {"days": 2})


def test_resolved_suggestions_are_never_overdue(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="a", now=T0)
        lifecycle.accept(session, sid, actor="li", now=T0)
        lifecycle.start(session, sid, actor="li", now=T0)
        lifecycle.resolve(session, sid, actor="li", now=T0 + timedelta(days=30), result_note="修好了")
    with db_factory() as session:
        assert supervision.chase_list(session, T0 + timedelta(days=60)) == []


def test_chase_only_overdue(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="a", now=T0)
    with pytest.raises(WorkflowConflict, match="not overdue"), unit_of_work(db_factory) as session:
        lifecycle.chase(session, sid, actor="admin1", now=T0 + timedelta(days=1), note=None)
    with unit_of_work(db_factory) as session:
        lifecycle.chase(session, sid, actor="admin1", now=T0 + timedelta(days=8), note="请尽快")
    with db_factory() as session:
        last = queries.history(session, sid)[-1]
        assert (last.kind, last.actor, last.detail["note"]) == ("chased", "admin1", "请尽快")


def test_board_counts_per_department_and_handler(db_factory: sessionmaker[Session]) -> None:
    a, b, c = routed(db_factory, "power"), routed(db_factory, "power"), routed(db_factory, "transport")
    with unit_of_work(db_factory) as session:
        for sid in (a, b):
            lifecycle.dispatch(session, sid, actor="admin1", now=T0)
        lifecycle.accept(session, a, actor="li", now=T0)
        lifecycle.start(session, a, actor="li", now=T0)
        lifecycle.resolve(session, a, actor="li", now=T0 + timedelta(days=2), result_note="ok")
    with unit_of_work(db_factory) as session:
        lifecycle.rate(
            session, queries.get_suggestion(session, a).tracking_code, score=4, comment=None, now=T0
        )
    with db_factory() as session:
        depts, handlers = supervision.board(session, T0 + timedelta(days=10))
    by_code = {d.key: d for d in depts}
    power = by_code["power_station"]
    assert (power.waiting, power.dispatched, power.overdue, power.resolved) == (0, 1, 1, 1)
    assert power.oldest_since == T0
    assert power.mean_days_to_resolve == pytest.approx(2.0)
    assert power.mean_satisfaction == pytest.approx(4.0)
    assert by_code["transport_bureau"].waiting == 1 and c
    assert [(h.key, h.resolved, h.open) for h in handlers] == [("li", 1, 0)]


def test_rating_once_after_resolution_closes_it(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with db_factory() as session:
        code = queries.get_suggestion(session, sid).tracking_code
    with pytest.raises(IllegalTransition, match="resolved"), unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=5, comment=None, now=T0)
    with unit_of_work(db_factory) as session:
        for step in ("dispatch", "accept", "start"):
            getattr(lifecycle, step)(session, sid, actor="a", now=T0)
        lifecycle.resolve(session, sid, actor="a", now=T0, result_note="done")
    with pytest.raises(InvalidInput, match="1 to 5"), unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=6, comment=None, now=T0)
    with unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=2, comment="太慢了", now=T0)
    with pytest.raises(AlreadyRated), unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=5, comment="改主意了", now=T0)
    with db_factory() as session:
        s = queries.get_suggestion(session, sid)
        assert (s.satisfaction, s.satisfaction_comment, s.status) == (2, "太慢了", "closed")


def test_admin_changes_are_audited(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        directory.seed_departments(session)
        directory.save_department(
            session, actor="admin1", now=T0, code="water", name_zh="水利站", name_en="Water"
        )
        directory.save_department(
            session, actor="admin1", now=T0, code="water", name_zh="水务站", name_en="Water"
        )
        directory.set_routing_rule(
            session, actor="admin1", now=T0, category="environment", village="河西村", department_code="water"
        )
    with db_factory() as session:
        assert getattr(directory.department_for(session, "environment", "河西村"), "code", None) == "water"
        log = [(e.entity, e.entity_key, e.action, e.before, e.after) for e in directory.audit_log(session)]
    assert log[0] == ("routing_rule", "environment@河西村", "create", None, {"department": "water"})
    assert log[1][:4] == (
        "department",
        "water",
        "update",
        {"code": "water", "name_zh": "水利站", "name_en": "Water"},
    )
    assert log[2][:3] == ("department", "water", "create")
    with pytest.raises(InvalidInput, match="Latin"), unit_of_work(db_factory) as session:
        directory.save_department(session, actor="a", now=T0, code="水", name_zh="x", name_en="x")


def test_two_people_acting_at_once_only_one_wins(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
    first, second = db_factory(), db_factory()
    try:
        # Both have loaded it as 'dispatched' (held, so the identity map keeps the stale copy).
        seen = [queries.get_suggestion(first, sid), queries.get_suggestion(second, sid)]
        assert [s.status for s in seen] == ["dispatched", "dispatched"]
        lifecycle.accept(first, sid, actor="li", now=T0)
        first.commit()
        with pytest.raises(IllegalTransition, match="someone else"):
            lifecycle.accept(second, sid, actor="wang", now=T0)
        second.rollback()
    finally:
        first.close()
        second.close()
    with db_factory() as session:
        assert [a for _, _, a in statuses(db_factory, sid)].count("li") == 1
        assert queries.get_suggestion(session, sid).assignee == "li"


def test_an_extension_cannot_be_approved_once_the_work_is_done(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with unit_of_work(db_factory) as session:
        for step in ("dispatch", "accept", "start"):
            getattr(lifecycle, step)(session, sid, actor="a", now=T0)
        rid = lifecycle.request_extension(session, sid, actor="li", now=T0, days=5, reason="x").id
        lifecycle.resolve(session, sid, actor="li", now=T0, result_note="done anyway")
    with pytest.raises(WorkflowConflict, match="no deadline left"), unit_of_work(db_factory) as session:
        lifecycle.decide_extension(session, rid, actor="admin1", now=T0, approve=True)
    with unit_of_work(db_factory) as session:
        assert (
            lifecycle.decide_extension(session, rid, actor="admin1", now=T0, approve=False).state
            == "rejected"
        )

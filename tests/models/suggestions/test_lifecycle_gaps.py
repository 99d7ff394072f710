"""The workflow's edges that test_lifecycle.py leaves open (issue 25's surviving mutants).

Each test names the change it catches: who may be dispatched to, what an accept records, which
extension requests still count as pending, what may be chased and from when, the length limits
of notes and comments, and the error messages staff see.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.directory import queries as directory
from models.errors import InvalidInput, NotFound
from models.suggestions import lifecycle, queries, reasons
from models.suggestions.lifecycle import (
    MAX_EXTENSION_DAYS,
    MAX_NOTE_CHARS,
    Actor,
    AlreadyRated,
    IllegalTransition,
    NotPermitted,
    WorkflowConflict,
)
from models.suggestions.tables import Assignment, Suggestion
from models.vocabulary import Status
from tests.models.suggestions.test_lifecycle import T0, routed


def _get(factory: sessionmaker[Session], sid: int) -> tuple[Suggestion, Assignment | None, list[tuple]]:
    """The suggestion, its assignment and its events as (kind, actor, from, to, detail), detached."""
    with factory() as session:
        s = queries.get_suggestion(session, sid)
        a = lifecycle.assignment_of(session, sid)
        events = [
            (e.kind, e.actor, e.from_status, e.to_status, e.detail) for e in queries.history(session, sid)
        ]
        session.expunge_all()
        return s, a, events


def _deputy(
    factory: sessionmaker[Session], username: str = "wang", *, active: bool = True, dept: str | None = None
) -> int:
    with unit_of_work(factory) as session:
        directory.seed_departments(session)
        return directory.save_deputy(
            session, actor="admin1", now=T0, username=username, name=f"{username}代表", active=active,
            department_code=dept,
        ).id  # fmt: skip


def _walk(factory: sessionmaker[Session], sid: int, *steps: str, actor: str = "li") -> None:
    with unit_of_work(factory) as session:
        for step in steps:
            if step == "dispatch":
                lifecycle.dispatch(session, sid, actor="admin1", now=T0)
            elif step == "resolve":
                lifecycle.resolve(session, sid, actor=actor, now=T0, result_note="修好了")
            else:
                getattr(lifecycle, step)(session, sid, actor=actor, now=T0)


# --- dispatch ---------------------------------------------------------------------------------------


def test_dispatch_to_a_retired_or_unknown_deputy_is_refused_and_changes_nothing(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory, "environment")
    retired = _deputy(db_factory, "old.zhang", active=False)
    for deputy_id in (retired, retired + 1000):
        with (
            pytest.raises(NotFound, match=f"No active deputy with id {deputy_id}"),
            unit_of_work(db_factory) as session,
        ):
            lifecycle.dispatch(session, sid, actor="admin1", now=T0, deputy_id=deputy_id)
    s, assignment, events = _get(db_factory, sid)
    assert (s.status, s.assignee, s.due_at, assignment) == (Status.ROUTED, None, None, None)
    assert [e[0] for e in events] == ["received"]


def test_dispatch_to_an_unknown_department_or_without_one_is_refused(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory, "power")
    with pytest.raises(NotFound, match="'water_bureau'"), unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0, department_code="water_bureau")
    with unit_of_work(db_factory) as session:
        orphan = queries.create_suggestion(
            session, status=Status.ROUTED, actor="worker", channel="text", text="x", category="other"
        ).id
    with (
        pytest.raises(
            InvalidInput, match=r"^This suggestion has no department yet; choose a department or a deputy\.$"
        ),
        unit_of_work(db_factory) as session,
    ):
        lifecycle.dispatch(session, orphan, actor="admin1", now=T0)
    assert _get(db_factory, sid)[0].status == _get(db_factory, orphan)[0].status == Status.ROUTED


def test_dispatch_records_holder_deadline_and_note_and_a_redispatch_keeps_the_deadline(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory, "power")
    wang = _deputy(db_factory, "wang", dept="transport_bureau")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0, note="  请尽快  ")
    s, a, events = _get(db_factory, sid)
    assert s.due_at == T0 + timedelta(days=7) and s.assignee is None
    assert a is not None and (a.dispatched_by, a.dispatched_at, a.deputy_id) == ("admin1", T0, None)
    assert events[-1][:4] == ("dispatched", "admin1", "routed", "dispatched")
    assert events[-1][4] == {
        "department": "power_station",
        "deputy": None,
        "note": "请尽快",
        "due_at": (T0 + timedelta(days=7)).isoformat(),
    }

    later = T0 + timedelta(days=2)
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin2", now=later, deputy_id=wang, note="   ")
    s, a, events = _get(db_factory, sid)
    assert s.due_at == T0 + timedelta(days=7)  # a re-dispatch keeps the clock running
    assert s.assignee == "wang代表" and s.department.code == "power_station"  # type: ignore[union-attr]
    assert a is not None and (a.dispatched_by, a.dispatched_at, a.deputy_id) == ("admin2", later, wang)
    assert a.department_id is not None  # the deputy's own department
    assert events[-1][4] == {"department": "transport_bureau", "deputy": "wang"}  # no blank note, no due_at

    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=later, department_code="transport_bureau")
    s, a, _ = _get(db_factory, sid)
    assert s.assignee is None and s.department.code == "transport_bureau"  # type: ignore[union-attr]
    assert a is not None and a.deputy_id is None


def test_a_long_dispatch_note_is_cut_to_the_limit(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0, note="长" * (MAX_NOTE_CHARS + 7))
    assert _get(db_factory, sid)[2][-1][4]["note"] == "长" * MAX_NOTE_CHARS


def test_a_suggestion_without_a_category_gets_no_deadline(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        directory.seed_departments(session)
        dept = directory.department_for(session, "power", None)
        assert dept is not None
        sid = queries.create_suggestion(
            session, status=Status.ROUTED, actor="worker", channel="text", text="x", department_id=dept.id
        ).id
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
    s, _, events = _get(db_factory, sid)
    assert s.due_at is None and "due_at" not in events[-1][4]


# --- accept, start, resolve, close -----------------------------------------------------------------


def test_accept_records_who_and_when_and_the_department_handler_becomes_the_assignee(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory, "power")
    accepted, started, resolved = T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=3)
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
        lifecycle.accept(session, sid, actor="li", now=accepted)
    s, a, events = _get(db_factory, sid)
    assert s.assignee == "li" and a is not None and (a.accepted_by, a.accepted_at) == ("li", accepted)
    assert a.started_at is None
    with unit_of_work(db_factory) as session:
        lifecycle.start(session, sid, actor="li", now=started)
        lifecycle.resolve(session, sid, actor="zhou", now=resolved, result_note="  换了新灯泡  ")
    s, a, events = _get(db_factory, sid)
    assert a is not None and a.started_at == started and (a.resolved_by, a.resolved_at) == ("zhou", resolved)
    assert s.result_note == "换了新灯泡" and s.updated_at == resolved
    assert [e[0] for e in events[-2:]] == ["in_progress", "resolved"]
    assert events[-1][4] == {"result_note": "换了新灯泡"}


def test_a_deputys_accept_is_recorded_and_keeps_the_deputy_as_the_assignee(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory, "environment")
    wang = _deputy(db_factory, "wang")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0, deputy_id=wang)
        lifecycle.accept(session, sid, actor="wang", now=T0 + timedelta(minutes=5))
    s, a, _ = _get(db_factory, sid)
    assert s.assignee == "wang代表"  # the deputy's name, not overwritten by the accepting account
    assert a is not None and (a.accepted_by, a.accepted_at) == ("wang", T0 + timedelta(minutes=5))


def test_result_notes_and_reasons_are_limited_in_length(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    _walk(db_factory, sid, "dispatch", "accept", "start")
    with (
        pytest.raises(
            InvalidInput, match=f"too long \\({MAX_NOTE_CHARS + 1} characters; at most {MAX_NOTE_CHARS}\\)"
        ),
        unit_of_work(db_factory) as session,
    ):
        lifecycle.resolve(session, sid, actor="li", now=T0, result_note="x" * (MAX_NOTE_CHARS + 1))
    with (
        pytest.raises(InvalidInput, match="A reason for returning the suggestion is required"),
        unit_of_work(db_factory) as session,
    ):
        lifecycle.return_to_triage(session, sid, actor="li", now=T0, reason=None)
    with unit_of_work(db_factory) as session:
        lifecycle.resolve(session, sid, actor="li", now=T0, result_note=" " + "x" * MAX_NOTE_CHARS + " ")
    assert _get(db_factory, sid)[0].result_note == "x" * MAX_NOTE_CHARS


def test_close_records_when_and_a_closed_suggestion_allows_no_action(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory, "power")
    _walk(db_factory, sid, "dispatch", "accept", "start", "resolve")
    closed = T0 + timedelta(days=3)
    with unit_of_work(db_factory) as session:
        lifecycle.close(session, sid, actor="admin1", now=closed)
    s, _, events = _get(db_factory, sid)
    assert (s.status, s.closed_at, s.updated_at) == ("closed", closed, closed)
    assert events[-1][:4] == ("closed", "admin1", "resolved", "closed")
    assert lifecycle.allowed_actions("closed") == []
    with (
        pytest.raises(
            IllegalTransition, match=r"is 'closed'; it cannot be returned \(allowed from 'closed': none\)"
        ),
        unit_of_work(db_factory) as session,
    ):
        lifecycle.return_to_triage(session, sid, actor="admin1", now=closed, reason="重新处理")


def test_an_illegal_action_names_the_allowed_ones(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with (
        pytest.raises(
            IllegalTransition,
            match=r"is 'routed'; it cannot be started \(allowed from 'routed': dispatch, return\)",
        ),
        unit_of_work(db_factory) as session,
    ):
        lifecycle.start(session, sid, actor="li", now=T0)
    assert lifecycle.allowed_actions("dispatched") == ["dispatch", "accept", "return"]
    assert lifecycle.allowed_actions("in_progress") == ["resolve", "return"]
    assert lifecycle.allowed_actions("needs_review") == []


def test_return_rejects_the_pending_extension_and_drops_the_assignment(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory, "power")
    back = T0 + timedelta(days=1)
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
        rid = lifecycle.request_extension(session, sid, actor="li", now=T0, days=3, reason="等材料").id
        lifecycle.return_to_triage(session, sid, actor="li", now=back, reason="  不归我们管  ")
    with db_factory() as session:
        request = session.get(lifecycle.ExtensionRequest, rid)
        assert request is not None
        assert (request.state, request.decided_by, request.decided_at) == ("rejected", "li", back)
        assert request.decision_note == "The suggestion was returned to triage."
        s = queries.get_suggestion(session, sid)
        assert reasons.english(s.review_reason) == "Returned by li: 不归我们管"


# --- permissions -------------------------------------------------------------------------------------


def test_who_may_handle_before_and_after_dispatch(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    power = Actor("p", ("handler",), "power_station")
    with db_factory() as session:
        s = queries.get_suggestion(session, sid)
        lifecycle.check_may_handle(session, s, power)  # not dispatched yet: the routed department
        for outsider in (
            Actor("p2", ("handler",), None),
            Actor("p3", ("reviewer",), "power_station"),
            Actor("p4", ("deputy",), "power_station"),
        ):
            with pytest.raises(NotPermitted) as refused:
                lifecycle.check_may_handle(session, s, outsider)
            assert refused.value.detail == (
                f"{outsider.username} may not act on suggestion {sid}: it is held by another department "
                "or deputy."
            )
    wang = _deputy(db_factory, "wang", dept="power_station")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0, deputy_id=wang)
    with db_factory() as session:
        s = queries.get_suggestion(session, sid)
        with pytest.raises(NotPermitted):  # point-to-point: the department's handler no longer holds it
            lifecycle.check_may_handle(session, s, power)
        with pytest.raises(NotPermitted):  # the deputy's user name, but without the deputy role
            lifecycle.check_may_handle(session, s, Actor("wang", ("handler",), "power_station"))
        lifecycle.check_may_handle(session, s, Actor("wang", ("deputy",)))


# --- extensions -------------------------------------------------------------------------------------


def test_a_decided_extension_no_longer_blocks_a_new_request(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with unit_of_work(db_factory) as session:
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
        first = lifecycle.request_extension(session, sid, actor="li", now=T0, days=2, reason="等材料").id
        lifecycle.decide_extension(session, first, actor="admin1", now=T0, approve=False)
        second = lifecycle.request_extension(session, sid, actor="li", now=T0, days=3, reason="还在等").id
        lifecycle.decide_extension(session, second, actor="admin1", now=T0, approve=True, note="  同意 ")
        third = lifecycle.request_extension(session, sid, actor="li", now=T0, days=4, reason="再等等").id
    with db_factory() as session:
        assert [r.id for r in lifecycle.extension_requests(session)] == [third]  # only the pending one
        assert [r.id for r in lifecycle.extension_requests(session, sid)] == [third, second, first]
        approved = session.get(lifecycle.ExtensionRequest, second)
        assert approved is not None and approved.decision_note == "同意"
        assert (approved.previous_due_at, approved.new_due_at) == (
            T0 + timedelta(days=7),
            T0 + timedelta(days=10),
        )
        rejected = session.get(lifecycle.ExtensionRequest, first)
        assert rejected is not None and rejected.decision_note is None and rejected.new_due_at is None
        events = [(e.kind, e.detail) for e in queries.history(session, sid) if e.kind.startswith("extension")]
    assert events[0] == ("extension_requested", {"request": first, "days": 2, "reason": "等材料"})
    assert events[1] == ("extension_rejected", {"request": first, "days": 2})
    assert events[3] == (
        "extension_approved",
        {"request": second, "days": 3, "due_at": (T0 + timedelta(days=10)).isoformat(), "note": "同意"},
    )


@pytest.mark.parametrize(
    ("days", "allowed"), [(0, False), (1, True), (MAX_EXTENSION_DAYS, True), (MAX_EXTENSION_DAYS + 1, False)]
)
def test_extension_days_are_between_one_and_the_maximum(
    db_factory: sessionmaker[Session], days: int, allowed: bool
) -> None:
    sid = routed(db_factory, "power")
    _walk(db_factory, sid, "dispatch")
    if allowed:
        with unit_of_work(db_factory) as session:
            assert (
                lifecycle.request_extension(session, sid, actor="li", now=T0, days=days, reason="x").days
                == days
            )
        return
    with (
        pytest.raises(InvalidInput, match=f"between 1 and {MAX_EXTENSION_DAYS} days, not {days}"),
        unit_of_work(db_factory) as session,
    ):
        lifecycle.request_extension(session, sid, actor="li", now=T0, days=days, reason="x")


def test_an_extension_needs_a_reason_and_an_unknown_request_is_not_found(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory, "power")
    _walk(db_factory, sid, "dispatch")
    with (
        pytest.raises(InvalidInput, match=r"^A reason for the extension is required\.$"),
        unit_of_work(db_factory) as session,
    ):
        lifecycle.request_extension(session, sid, actor="li", now=T0, days=2, reason="  ")
    with pytest.raises(NotFound, match="No extension request 424242"), unit_of_work(db_factory) as session:
        lifecycle.decide_extension(session, 424242, actor="admin1", now=T0, approve=True)


def test_an_approved_extension_without_a_deadline_counts_from_now(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        directory.seed_departments(session)
        dept = directory.department_for(session, "power", None)
        assert dept is not None
        sid = queries.create_suggestion(
            session, status=Status.ROUTED, actor="worker", channel="text", text="x", department_id=dept.id
        ).id
        lifecycle.dispatch(session, sid, actor="admin1", now=T0)
        rid = lifecycle.request_extension(session, sid, actor="li", now=T0, days=4, reason="x").id
        lifecycle.decide_extension(session, rid, actor="admin1", now=T0 + timedelta(days=1), approve=True)
    s, _, _ = _get(db_factory, sid)
    assert s.due_at == T0 + timedelta(days=5) and s.updated_at == T0 + timedelta(days=1)


# --- chasing ----------------------------------------------------------------------------------------


def test_chasing_starts_just_after_the_due_time(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    _walk(db_factory, sid, "dispatch")
    due = T0 + timedelta(days=7)
    with pytest.raises(WorkflowConflict, match="not overdue"), unit_of_work(db_factory) as session:
        lifecycle.chase(session, sid, actor="admin1", now=due, note="请尽快")
    with unit_of_work(db_factory) as session:
        lifecycle.chase(session, sid, actor="admin1", now=due + timedelta(seconds=1), note="   ")
    _, _, events = _get(db_factory, sid)
    assert events[-1][:2] == ("chased", "admin1") and events[-1][4] == {"due_at": due.isoformat()}


@pytest.mark.parametrize(
    "steps",
    [(), ("dispatch", "accept", "start", "resolve"), ("dispatch", "accept", "start", "resolve", "close")],
    ids=["routed", "resolved", "closed"],
)
def test_what_is_not_on_the_clock_cannot_be_chased_however_late(
    db_factory: sessionmaker[Session], steps: tuple[str, ...]
) -> None:
    sid = routed(db_factory, "power")
    _walk(db_factory, sid, *steps)
    before = _get(db_factory, sid)[2]
    with pytest.raises(WorkflowConflict, match="not overdue"), unit_of_work(db_factory) as session:
        lifecycle.chase(session, sid, actor="admin1", now=T0 + timedelta(days=365), note=None)
    assert _get(db_factory, sid)[2] == before


# --- rating -----------------------------------------------------------------------------------------


def test_rating_bounds_comment_length_and_a_closed_suggestion(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    _walk(db_factory, sid, "dispatch", "accept", "start", "resolve", "close")
    code = _get(db_factory, sid)[0].tracking_code
    for score in (0, 6):
        with (
            pytest.raises(InvalidInput, match=f"from 1 to 5, not {score}"),
            unit_of_work(db_factory) as session,
        ):
            lifecycle.rate(session, code, score=score, comment=None, now=T0)
    with (
        pytest.raises(InvalidInput, match=r"too long \(1001 characters; at most 1000\)"),
        unit_of_work(db_factory) as session,
    ):
        lifecycle.rate(session, code, score=3, comment="好" * 1001, now=T0)
    rated = T0 + timedelta(days=9)
    with unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=5, comment=" " + "好" * 1000 + " ", now=rated)
    s, _, events = _get(db_factory, sid)
    assert (s.satisfaction, s.satisfaction_comment, s.status) == (5, "好" * 1000, "closed")
    assert s.updated_at == rated and s.closed_at == T0  # already closed: closing is not repeated
    assert events[-1] == ("rated", "villager", None, None, {"satisfaction": 5})
    with pytest.raises(AlreadyRated), unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=1, comment=None, now=rated)


def test_rating_a_resolved_suggestion_closes_it_as_the_villager(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    _walk(db_factory, sid, "dispatch", "accept", "start", "resolve")
    code = _get(db_factory, sid)[0].tracking_code
    rated = T0 + timedelta(days=2)
    with unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=1, comment="   ", now=rated, actor="villager")
    s, _, events = _get(db_factory, sid)
    assert (s.satisfaction, s.satisfaction_comment, s.status, s.closed_at) == (1, None, "closed", rated)
    assert [e[:4] for e in events[-2:]] == [
        ("rated", "villager", None, None),
        ("closed", "villager", "resolved", "closed"),
    ]


RATED_ONCE = "This suggestion has already been rated; a rating can be given only once."


def test_a_rating_before_resolution_or_a_second_one_is_refused_in_plain_words(
    db_factory: sessionmaker[Session],
) -> None:
    sid = routed(db_factory, "power")
    code = _get(db_factory, sid)[0].tracking_code
    with pytest.raises(IllegalTransition) as early, unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=4, comment=None, now=T0)
    assert early.value.detail == "You can rate the handling once the suggestion has been resolved."
    _walk(db_factory, sid, "dispatch", "accept", "start", "resolve")
    with unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=4, comment=None, now=T0)
    assert _get(db_factory, sid)[0].satisfaction_comment is None  # no comment stays no comment
    with pytest.raises(AlreadyRated) as again, unit_of_work(db_factory) as session:
        lifecycle.rate(session, code, score=5, comment=None, now=T0)
    assert again.value.detail == RATED_ONCE


def test_of_two_ratings_at_once_only_the_first_counts(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    _walk(db_factory, sid, "dispatch", "accept", "start", "resolve")
    code = _get(db_factory, sid)[0].tracking_code
    first, second = db_factory(), db_factory()
    try:
        # Both have loaded it unrated (held, so the identity map keeps the stale copy).
        seen = [queries.get_suggestion(first, sid), queries.get_suggestion(second, sid)]
        assert [s.satisfaction for s in seen] == [None, None]
        lifecycle.rate(first, code, score=2, comment="太慢了", now=T0)
        first.commit()
        with pytest.raises(AlreadyRated) as late:
            lifecycle.rate(second, code, score=5, comment="很好", now=T0)
        assert late.value.detail == RATED_ONCE
        second.rollback()
    finally:
        first.close()
        second.close()
    s, _, events = _get(db_factory, sid)
    assert (s.satisfaction, s.satisfaction_comment) == (2, "太慢了")
    assert [e[0] for e in events].count("rated") == 1


def test_refusals_say_what_is_missing_or_when_it_is_allowed(db_factory: sessionmaker[Session]) -> None:
    sid = routed(db_factory, "power")
    with pytest.raises(IllegalTransition) as early, unit_of_work(db_factory) as session:
        lifecycle.request_extension(session, sid, actor="li", now=T0, days=3, reason="等材料")
    assert early.value.detail == (
        f"Suggestion {sid} is 'routed'; an extension can only be asked for while it is dispatched, "
        "accepted or in progress."
    )
    _walk(db_factory, sid, "dispatch", "accept", "start")
    with pytest.raises(InvalidInput) as blank, unit_of_work(db_factory) as session:
        lifecycle.resolve(session, sid, actor="li", now=T0, result_note="  ")
    assert blank.value.detail == "A result note telling the villager what was done is required."

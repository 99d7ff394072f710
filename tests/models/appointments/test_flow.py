"""The appointment with the township head (乡长有约) on a real database, with the clock passed in:
what a deputy and the township head can do to a topic, its session and its agenda items, and what
they are refused.

Who may call each step (deputies raise and rate, the township head does the rest) is the API's
role check (tests/api/test_appointments.py); the module itself enforces only that the deputy who
raised a topic is the one who rates its items.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models.appointments import flow
from models.appointments.tables import AgendaItem, AppointmentRequest, AppointmentSession
from models.db import unit_of_work
from models.directory import queries as directory
from models.errors import InvalidInput, NotFound
from models.suggestions import lifecycle, queries
from models.suggestions.lifecycle import AlreadyRated, IllegalTransition, NotPermitted
from models.suggestions.tables import Suggestion
from models.vocabulary import DONE, ON_THE_CLOCK, Channel, Status

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEAD = "xiangzhang"  # the township head (an administrator)
WANG, ZHAO = "wang", "zhao"  # deputies
STAGE_KEYS = [key for key, _, _ in flow.STAGES]


@pytest.fixture()
def factory(db_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A fresh database with the default departments, as a served one has."""
    with unit_of_work(db_factory) as session:
        directory.seed_departments(session)
    return db_factory


def run(factory: sessionmaker[Session], step: Callable[[Session], Any]) -> Any:
    """One step in its own committed unit of work (as one request would be); returns its result's id
    when it has one, so nothing outside the session is touched after it closed."""
    with unit_of_work(factory) as session:
        result = step(session)
        return getattr(result, "id", result)


def topic(
    factory: sessionmaker[Session],
    *,
    mode: str = "invitation",
    by: str = WANG,
    origin: str = "deputy",
    title: str = "青山村的路灯常年不亮",
    suggestion_ids: list[int] | None = None,
) -> int:
    """A topic raised at T0; returns the request id."""
    return int(
        run(
            factory,
            lambda s: flow.raise_request(
                s,
                origin=origin,
                mode=mode,
                title=title,
                detail="村民反映多次",
                requested_by=by,
                suggestion_ids=suggestion_ids or [],
                theme_ids=[],
                now=T0,
            ),
        )
    )


def accepted(factory: sessionmaker[Session], request_id: int, on: datetime = T0 + timedelta(days=7)) -> int:
    """The township head accepts the invitation for ``on``; returns the new session's id."""
    return int(run(factory, lambda s: flow.accept_invitation(s, request_id, on=on, actor=HEAD, now=T0)))


def item(
    factory: sessionmaker[Session],
    session_id: int,
    request_id: int | None,
    department_code: str = "power_station",
    deadline: datetime = T0 + timedelta(days=30),
    now: datetime = T0 + timedelta(days=7),
) -> int:
    """An agenda item added by the township head; returns its id."""
    return int(
        run(
            factory,
            lambda s: flow.add_item(
                s,
                session_id,
                request_id=request_id,
                title="更换青山村路灯",
                actions="供电所一个月内更换全部损坏路灯",
                department_code=department_code,
                deadline=deadline,
                actor=HEAD,
                now=now,
            ),
        )
    )


def handle(factory: sessionmaker[Session], item_id: int, now: datetime = T0 + timedelta(days=10)) -> None:
    """The owner department accepts, starts and resolves the item through the ordinary workflow."""
    with unit_of_work(factory) as session:
        sid = flow.get_item(session, item_id).suggestion_id
        lifecycle.accept(session, sid, actor="li", now=now)
        lifecycle.start(session, sid, actor="li", now=now)
        lifecycle.resolve(session, sid, actor="li", now=now, result_note="已更换路灯")


def rate(factory: sessionmaker[Session], item_id: int, deputy: str, score: int = 5) -> None:
    run(
        factory,
        lambda s: flow.rate_item(
            s, item_id, score=score, comment="换得很快", deputy=deputy, now=T0 + timedelta(days=12)
        ),
    )


def stage(factory: sessionmaker[Session], request_id: int) -> str:
    """The key of the stage the request has reached (what the deputy's page shows)."""
    with factory() as session:
        request = flow.get_request(session, request_id)
        return flow.STAGES[flow.stage_index(request, flow.items(session, request_ids=[request_id]))][0]


def request_state(factory: sessionmaker[Session], request_id: int) -> tuple[str, int | None]:
    with factory() as session:
        request = flow.get_request(session, request_id)
        return request.state, request.session_id


def count(factory: sessionmaker[Session], model: type[Any]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def refused(
    factory: sessionmaker[Session], error: type[Exception], match: str, step: Callable[[Session], Any]
) -> None:
    """The step raises ``error`` and nothing it did is kept."""
    tables = (AppointmentRequest, AppointmentSession, AgendaItem, Suggestion)
    before = [count(factory, t) for t in tables]
    with pytest.raises(error, match=match), unit_of_work(factory) as session:
        step(session)
    assert [count(factory, t) for t in tables] == before


# ---- the main path ---------------------------------------------------------------------------------


def test_a_deputy_topic_goes_from_invitation_to_rating_through_the_six_stages(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        linked = queries.create_suggestion(
            session, status=Status.ROUTED, actor="worker", channel=Channel.TEXT, text="路灯不亮"
        ).id
    rid = topic(factory, suggestion_ids=[linked, linked])
    with factory() as session:
        request = flow.get_request(session, rid)
        assert (request.origin, request.mode, request.state, request.requested_by) == (
            "deputy",
            "invitation",
            "requested",
            WANG,
        )
        assert request.links == {"suggestions": [linked], "themes": []}
        assert [r.id for r in flow.requests(session, requested_by=WANG)] == [rid]
        assert flow.requests(session, requested_by=ZHAO) == []
    assert stage(factory, rid) == "raise"

    on = T0 + timedelta(days=7)
    sid = accepted(factory, rid, on)
    with factory() as session:
        meeting = flow.get_session(session, sid)
        assert (meeting.kind, meeting.state, meeting.scheduled_for, meeting.created_by) == (
            "invitation",
            "planned",
            on,
            HEAD,
        )
        request = flow.get_request(session, rid)
        assert (request.state, request.session_id, request.decided_by, request.decided_at) == (
            "scheduled",
            sid,
            HEAD,
            T0,
        )
        assert [m.id for m, _ in flow.upcoming(session, T0)] == [sid]

    run(
        factory,
        lambda s: flow.record_visit(s, rid, note="  路灯线路老化  ", actor=HEAD, now=T0 + timedelta(days=3)),
    )
    with factory() as session:
        request = flow.get_request(session, rid)
        assert (request.visited_at, request.visit_note) == (T0 + timedelta(days=3), "路灯线路老化")
    assert stage(factory, rid) == "visit"

    run(factory, lambda s: flow.hold(s, sid, actor=HEAD, now=on))
    assert request_state(factory, rid) == ("discussed", sid)
    assert stage(factory, rid) == "discuss"
    with factory() as session:
        assert flow.get_session(session, sid).held_at == on
        assert flow.upcoming(session, T0) == []  # a held meeting is no longer upcoming

    lights = item(factory, sid, rid, "power_station", deadline=on + timedelta(days=30), now=on)
    drains = item(factory, sid, rid, "housing_bureau", deadline=on + timedelta(days=60), now=on)
    assert stage(factory, rid) == "handle"
    with factory() as session:
        views = flow.items(session, request_ids=[rid])
        assert [(v.id, v.status, v.department_code, v.due_at) for v in views] == [
            (lights, Status.DISPATCHED, "power_station", on + timedelta(days=30)),
            (drains, Status.DISPATCHED, "housing_bureau", on + timedelta(days=60)),
        ]
        assert flow.items(session, session_id=sid) == views

    handle(factory, lights)
    assert stage(factory, rid) == "handle"  # one item still open
    handle(factory, drains)
    assert stage(factory, rid) == "supervise"  # every item done: congress supervises
    rate(factory, lights, WANG, 5)
    assert stage(factory, rid) == "supervise"
    rate(factory, drains, WANG, 3)
    assert stage(factory, rid) == "rate"
    with factory() as session:
        views = flow.items(session, request_ids=[rid])
        assert [(v.status, v.satisfaction, v.satisfaction_comment) for v in views] == [
            (Status.CLOSED, 5, "换得很快"),
            (Status.CLOSED, 3, "换得很快"),
        ]


def test_an_item_is_a_suggestion_dispatched_to_its_department_at_once(factory: sessionmaker[Session]) -> None:
    rid = topic(factory)
    sid = accepted(factory, rid)
    now = T0 + timedelta(days=7)
    deadline = now + timedelta(days=20)
    iid = item(factory, sid, rid, "ecology_bureau", deadline=deadline, now=now)
    with factory() as session:
        s = queries.get_suggestion(session, flow.get_item(session, iid).suggestion_id)
        assert s.status == Status.DISPATCHED and s.status in ON_THE_CLOCK
        assert (s.channel, s.category_source) == (Channel.APPOINTMENT, "staff")
        assert s.department is not None and s.department.code == "ecology_bureau"
        assert s.due_at == deadline  # the meeting's deadline, not the category's default
        assert s.text == "更换青山村路灯\n供电所一个月内更换全部损坏路灯"
        dispatched = [e for e in queries.history(session, s.id) if e.to_status == Status.DISPATCHED]
        assert [(e.from_status, e.actor, e.at) for e in dispatched] == [(Status.ROUTED, HEAD, now)]
        assert lifecycle.assignment_of(session, s.id) is not None


def test_items_of_a_planned_session_are_counted_by_status_on_the_upcoming_list(
    factory: sessionmaker[Session],
) -> None:
    soon = accepted(factory, topic(factory), T0 + timedelta(days=7))
    later = accepted(factory, topic(factory), T0 + timedelta(days=14))
    first = item(factory, soon, None, now=T0)
    item(factory, soon, None, now=T0)
    with unit_of_work(factory) as session:
        lifecycle.accept(session, flow.get_item(session, first).suggestion_id, actor="li", now=T0)
    with factory() as session:
        assert [(m.id, counts) for m, counts in flow.upcoming(session, T0)] == [
            (soon, {Status.DISPATCHED: 1, Status.ACCEPTED: 1}),
            (later, {}),
        ]
        # A meeting more than a day in the past is not upcoming, even if nobody marked it held.
        assert [m.id for m, _ in flow.upcoming(session, T0 + timedelta(days=9))] == [later]


# ---- raising a topic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"origin": "villager"}, InvalidInput, "Unknown origin"),
        ({"mode": "whenever"}, InvalidInput, "Unknown mode"),
        ({"title": "   "}, InvalidInput, "Please write the topic"),
        ({"title": "路" * 301}, InvalidInput, "too long"),
        ({"suggestion_ids": [999]}, NotFound, "No suggestion with id 999"),
        ({"theme_ids": [999]}, NotFound, "No theme with id 999"),
    ],
    ids=["origin", "mode", "blank-title", "long-title", "unknown-suggestion", "unknown-theme"],
)
def test_a_topic_needs_a_known_origin_and_mode_a_title_and_existing_links(
    factory: sessionmaker[Session], change: dict[str, Any], error: type[Exception], match: str
) -> None:
    fields: dict[str, Any] = {
        "origin": "deputy",
        "mode": "session",
        "title": "路灯",
        "detail": None,
        "requested_by": WANG,
        "suggestion_ids": [],
        "theme_ids": [],
        "now": T0,
        **change,
    }
    refused(factory, error, match, lambda s: flow.raise_request(s, **fields))


# ---- the township head's answer --------------------------------------------------------------------


def test_a_declined_topic_carries_the_reason_and_cannot_be_taken_up_again(
    factory: sessionmaker[Session],
) -> None:
    rid = topic(factory)
    refused(
        factory,
        InvalidInput,
        "reason for declining",
        lambda s: flow.decline(s, rid, reason="  ", actor=HEAD, now=T0),
    )
    assert request_state(factory, rid) == ("requested", None)

    run(factory, lambda s: flow.decline(s, rid, reason="  已列入明年预算  ", actor=HEAD, now=T0))
    with factory() as session:
        request = flow.get_request(session, rid)
        assert (request.state, request.decline_reason, request.decided_by) == (
            "declined",
            "已列入明年预算",
            HEAD,
        )
    sid = accepted(factory, topic(factory))
    for step in (
        lambda s: flow.accept_invitation(s, rid, on=T0 + timedelta(days=7), actor=HEAD, now=T0),
        lambda s: flow.schedule(s, rid, sid, actor=HEAD, now=T0),
        lambda s: flow.decline(s, rid, reason="再次拒绝", actor=HEAD, now=T0),
    ):
        refused(factory, flow.AppointmentConflict, f"Request {rid} is declined already", step)
    refused(
        factory,
        flow.AppointmentConflict,
        "declined",
        lambda s: flow.record_visit(s, rid, note=None, actor=HEAD, now=T0),
    )
    assert stage(factory, rid) == "raise"


@pytest.mark.parametrize(
    ("on", "match"),
    [
        (T0 - timedelta(minutes=1), "in the future"),
        (datetime(2101, 1, 1, 1, 0, tzinfo=UTC), "before the year 2100"),
    ],
    ids=["past", "after-2100"],
)
def test_an_invitation_is_accepted_only_for_a_date_ahead_and_before_2100(
    factory: sessionmaker[Session], on: datetime, match: str
) -> None:
    rid = topic(factory)
    refused(factory, InvalidInput, match, lambda s: flow.accept_invitation(s, rid, on=on, actor=HEAD, now=T0))
    assert request_state(factory, rid) == ("requested", None)


def test_only_an_open_invitation_is_accepted_and_only_once(factory: sessionmaker[Session]) -> None:
    waits_for_session = topic(factory, mode="session")
    refused(
        factory,
        flow.AppointmentConflict,
        "waits for the next fixed session",
        lambda s: flow.accept_invitation(s, waits_for_session, on=T0 + timedelta(days=7), actor=HEAD, now=T0),
    )
    rid = topic(factory)
    sid = accepted(factory, rid)
    refused(
        factory,
        flow.AppointmentConflict,
        "is scheduled already",
        lambda s: flow.accept_invitation(s, rid, on=T0 + timedelta(days=8), actor=HEAD, now=T0),
    )
    assert request_state(factory, rid) == ("scheduled", sid)
    refused(
        factory,
        NotFound,
        "No appointment request with id 999",
        lambda s: flow.decline(s, 999, reason="x", actor=HEAD, now=T0),
    )


def test_a_topic_is_scheduled_only_on_a_session_not_yet_held(factory: sessionmaker[Session]) -> None:
    planned = run(
        factory,
        lambda s: flow.plan_fixed_sessions(
            s, first=date(2026, 12, 1), every_months=2, count=2, hour=9, zone=SHANGHAI, actor=HEAD, now=T0
        )[0],
    )
    rid = topic(factory, mode="session")
    run(factory, lambda s: flow.schedule(s, rid, planned, actor=HEAD, now=T0))
    assert request_state(factory, rid) == ("scheduled", planned)
    refused(
        factory,
        flow.AppointmentConflict,
        "is scheduled already",
        lambda s: flow.schedule(s, rid, planned, actor=HEAD, now=T0),
    )

    run(factory, lambda s: flow.hold(s, planned, actor=HEAD, now=T0 + timedelta(days=30)))
    late = topic(factory, mode="session", by=ZHAO)
    refused(
        factory,
        flow.AppointmentConflict,
        "has already been held",
        lambda s: flow.schedule(s, late, planned, actor=HEAD, now=T0),
    )
    refused(
        factory,
        NotFound,
        "No appointment session with id 999",
        lambda s: flow.schedule(s, late, 999, actor=HEAD, now=T0),
    )
    assert request_state(factory, late) == ("requested", None)


def test_holding_a_session_moves_only_its_scheduled_topics_to_discussion_and_happens_once(
    factory: sessionmaker[Session],
) -> None:
    on_agenda = topic(factory)
    sid = accepted(factory, on_agenda)
    elsewhere = topic(factory, by=ZHAO)
    other_sid = accepted(factory, elsewhere, T0 + timedelta(days=20))
    waiting = topic(factory, mode="session")
    run(factory, lambda s: flow.hold(s, sid, actor=HEAD, now=T0 + timedelta(days=7)))
    assert request_state(factory, on_agenda) == ("discussed", sid)
    assert request_state(factory, elsewhere) == ("scheduled", other_sid)
    assert request_state(factory, waiting) == ("requested", None)
    refused(
        factory,
        flow.AppointmentConflict,
        "has already been held",
        lambda s: flow.hold(s, sid, actor=HEAD, now=T0 + timedelta(days=8)),
    )
    with factory() as session:
        assert flow.get_session(session, sid).held_at == T0 + timedelta(days=7)


# ---- fixed sessions --------------------------------------------------------------------------------


def test_fixed_sessions_fall_every_n_months_at_the_local_hour_and_are_not_planned_twice(
    factory: sessionmaker[Session],
) -> None:
    def plan(first: date, count: int) -> list[datetime]:
        with unit_of_work(factory) as session:
            created = flow.plan_fixed_sessions(
                session, first=first, every_months=2, count=count, hour=9, zone=SHANGHAI, actor=HEAD, now=T0
            )
            return [m.scheduled_for for m in created]

    nine_in_shanghai = [datetime(y, m, 15, 1, 0, tzinfo=UTC) for y, m in ((2026, 12), (2027, 2), (2027, 4))]
    assert plan(date(2026, 12, 15), 3) == nine_in_shanghai
    # Planning again from the second date adds only the one that is new.
    assert plan(date(2027, 2, 15), 3) == [datetime(2027, 6, 15, 1, 0, tzinfo=UTC)]
    with factory() as session:
        assert [(m.kind, m.scheduled_for) for m, _ in flow.upcoming(session, T0)] == [
            ("fixed", at) for at in [*nine_in_shanghai, datetime(2027, 6, 15, 1, 0, tzinfo=UTC)]
        ]


def test_fixed_sessions_late_in_the_month_stay_in_their_month(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        created = flow.plan_fixed_sessions(
            session, first=date(2026, 11, 28), every_months=1, count=4, hour=9, zone=UTC, actor=HEAD, now=T0
        )
        assert [m.scheduled_for.date() for m in created] == [
            date(2026, 11, 28),
            date(2026, 12, 28),
            date(2027, 1, 28),
            date(2027, 2, 28),
        ]


def test_the_first_fixed_session_is_on_the_day_the_head_chose(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        [first] = flow.plan_fixed_sessions(
            session, first=date(2027, 1, 30), every_months=2, count=1, hour=9, zone=UTC, actor=HEAD, now=T0
        )
        assert first.scheduled_for.date() == date(2027, 1, 30)


@pytest.mark.parametrize(
    ("first", "every", "count", "match"),
    [
        (date(2027, 1, 15), 2, 0, "between 1 and 24"),
        (date(2027, 1, 15), 2, 25, "between 1 and 24"),
        (date(2027, 1, 15), 0, 3, "at least one month"),
        (date(1999, 12, 1), 2, 3, "between the years 2000 and 2100"),
        (date(2101, 1, 1), 2, 3, "between the years 2000 and 2100"),
    ],
)
def test_a_calendar_of_fixed_sessions_must_be_sensible(
    factory: sessionmaker[Session], first: date, every: int, count: int, match: str
) -> None:
    refused(
        factory,
        InvalidInput,
        match,
        lambda s: flow.plan_fixed_sessions(
            s, first=first, every_months=every, count=count, hour=9, zone=SHANGHAI, actor=HEAD, now=T0
        ),
    )


# ---- agenda items ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"deadline": T0}, InvalidInput, "deadline must be in the future"),
        ({"deadline": T0 - timedelta(days=1)}, InvalidInput, "deadline must be in the future"),
        ({"deadline": datetime(2101, 1, 1, tzinfo=UTC)}, InvalidInput, "before the year 2100"),
        ({"department_code": "fire_brigade"}, NotFound, "No department with the code 'fire_brigade'"),
        ({"title": " "}, InvalidInput, "Please write the item"),
        ({"actions": ""}, InvalidInput, "Please write the actions"),
        ({"actions": "做" * 5001}, InvalidInput, "actions is too long"),
        ({"session_id": 999}, NotFound, "No appointment session with id 999"),
        ({"request_id": "other"}, InvalidInput, "is not on session"),
    ],
    ids=[
        "deadline-now",
        "deadline-past",
        "deadline-after-2100",
        "unknown-department",
        "blank-title",
        "blank-actions",
        "long-actions",
        "unknown-session",
        "topic-of-another-session",
    ],
)
def test_an_item_needs_a_future_deadline_a_known_department_and_a_topic_of_its_session(
    factory: sessionmaker[Session], change: dict[str, Any], error: type[Exception], match: str
) -> None:
    rid = topic(factory)
    sid = accepted(factory, rid)
    other = topic(factory, by=ZHAO)
    accepted(factory, other, T0 + timedelta(days=14))
    fields: dict[str, Any] = {
        "session_id": sid,
        "request_id": rid,
        "title": "更换路灯",
        "actions": "一个月内更换",
        "department_code": "power_station",
        "deadline": T0 + timedelta(days=30),
        "actor": HEAD,
        "now": T0,
        **change,
    }
    if fields["request_id"] == "other":
        fields["request_id"] = other
    refused(factory, error, match, lambda s: flow.add_item(s, **fields))
    assert stage(factory, rid) == "raise"


# ---- the deputy's rating ---------------------------------------------------------------------------


def test_only_the_deputy_who_raised_the_topic_rates_an_item_once_it_is_handled(
    factory: sessionmaker[Session],
) -> None:
    rid = topic(factory, by=WANG)
    sid = accepted(factory, rid)
    iid = item(factory, sid, rid)

    def rating_by(deputy: str, score: int = 4) -> Callable[[Session], Any]:
        return lambda s: flow.rate_item(s, iid, score=score, comment=None, deputy=deputy, now=T0)

    refused(factory, IllegalTransition, "once the suggestion has been resolved", rating_by(WANG))
    handle(factory, iid)
    refused(factory, NotPermitted, "Only the deputy who raised this topic", rating_by(ZHAO))
    refused(factory, NotPermitted, "Only the deputy who raised this topic", rating_by(HEAD))
    for score in (0, 6):
        refused(factory, InvalidInput, "from 1 to 5", rating_by(WANG, score))
    rate(factory, iid, WANG, 4)
    refused(factory, AlreadyRated, "only once", rating_by(WANG, 1))
    with factory() as session:
        [view] = flow.items(session, request_ids=[rid])
        assert (view.status, view.satisfaction) == (Status.CLOSED, 4)
        assert view.status in DONE
        rated = [e for e in queries.history(session, view.suggestion_id) if e.kind == "rated"]
        assert [(e.actor, e.detail["satisfaction"]) for e in rated] == [(WANG, 4)]
    refused(
        factory,
        NotFound,
        "No agenda item with id 999",
        lambda s: flow.rate_item(s, 999, score=4, comment=None, deputy=WANG, now=T0),
    )


def test_an_item_added_without_a_topic_cannot_be_rated_by_any_deputy(factory: sessionmaker[Session]) -> None:
    sid = accepted(factory, topic(factory, by=WANG))
    iid = item(factory, sid, None)
    handle(factory, iid)
    refused(
        factory,
        NotPermitted,
        "Only the deputy who raised this topic",
        lambda s: flow.rate_item(s, iid, score=5, comment=None, deputy=WANG, now=T0),
    )
    with factory() as session:
        assert [v.status for v in flow.items(session, session_id=sid)] == [Status.RESOLVED]


def test_the_deputys_rating_closes_the_item_in_the_deputys_name(factory: sessionmaker[Session]) -> None:
    rid = topic(factory, by=WANG)
    iid = item(factory, accepted(factory, rid), rid)
    handle(factory, iid)
    rate(factory, iid, WANG)
    with factory() as session:
        sid = flow.get_item(session, iid).suggestion_id
        [closed] = [e for e in queries.history(session, sid) if e.to_status == Status.CLOSED]
        assert closed.actor == WANG


def test_the_items_history_shows_the_meetings_deadline(factory: sessionmaker[Session]) -> None:
    rid = topic(factory)
    deadline = T0 + timedelta(days=60)
    iid = item(factory, accepted(factory, rid), rid, deadline=deadline, now=T0)
    with factory() as session:
        sid = flow.get_item(session, iid).suggestion_id
        [dispatched] = [e for e in queries.history(session, sid) if e.to_status == Status.DISPATCHED]
        assert dispatched.detail["due_at"] == deadline.isoformat()


# ---- what the page shows: stages that happened, sessions after they are held ------------------------


def reached(factory: sessionmaker[Session], request_id: int) -> set[str]:
    with factory() as session:
        request = flow.get_request(session, request_id)
        return flow.stages_reached(request, flow.items(session, request_ids=[request_id]))


def test_a_stage_lights_only_when_it_happened(factory: sessionmaker[Session]) -> None:
    rid = topic(factory)
    sid = accepted(factory, rid)
    assert reached(factory, rid) == {"raise"}
    run(factory, lambda s: flow.hold(s, sid, actor=HEAD, now=T0 + timedelta(days=7)))
    assert reached(factory, rid) == {"raise", "discuss"}, "no site visit happened: 实地看 stays dark"
    iid = item(factory, sid, rid)
    assert reached(factory, rid) == {"raise", "discuss", "handle"}
    handle(factory, iid)
    assert reached(factory, rid) == {"raise", "discuss", "handle", "supervise"}
    assert stage(factory, rid) == "supervise"
    rate(factory, iid, WANG)
    assert reached(factory, rid) == {"raise", "discuss", "handle", "supervise", "rate"}
    assert "visit" not in reached(factory, rid)


def test_a_held_session_and_one_whose_day_is_gone_stay_listed_as_past(factory: sessionmaker[Session]) -> None:
    held_id = accepted(factory, topic(factory), T0 + timedelta(days=7))
    run(factory, lambda s: flow.hold(s, held_id, actor=HEAD, now=T0 + timedelta(days=7)))
    missed_id = accepted(factory, topic(factory, title="白水村的桥"), T0 + timedelta(days=8))
    later_id = accepted(factory, topic(factory, title="东山村的水"), T0 + timedelta(days=40))
    item(factory, held_id, None, now=T0 + timedelta(days=7))
    now = T0 + timedelta(days=20)
    with factory() as session:
        assert [m.id for m, _ in flow.upcoming(session, now)] == [later_id]
        past = flow.past(session, now)
        assert [m.id for m, _ in past] == [missed_id, held_id]  # newest first
        assert dict(past)[flow.get_session(session, held_id)] == {Status.DISPATCHED: 1}
        held_now = flow.past(session, T0 + timedelta(days=7, hours=1))
        assert [m.id for m, _ in held_now] == [held_id], "held today: listed at once, not only after a day"

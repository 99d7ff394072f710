"""Staff pages of the appointment with the township head (乡长有约).

``/staff/appointments``: a deputy sees their own topics with the six stages, their items and the
ratings still to give, and raises a new topic; the township head (an admin) also sees every
topic waiting for a decision, the upcoming sessions with their items by status, and the forms to
accept, decline, plan sessions, hold them and add agenda items. Forms post back and redirect (303).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.accounts import ADMIN, DEPUTY
from api.appointment_views import END_OF_DAY, MEETING_TIME, RequestOut, request_out
from api.deps import ContextDep, SessionDep
from api.ids import MAX_ID, PathId, form_id, form_ids, form_number
from api.local_time import in_township, local, parse_form_time
from api.staff import AdminDep, ClockDep, StaffDep
from api.web.done import redirect_done
from api.web.templating import render
from models.appointments import flow
from models.appointments.tables import AppointmentSession
from models.directory import queries as directory
from models.directory.queries import MAX_DEADLINE_DAYS
from models.errors import N_, InvalidInput
from models.staff import queries as staff_queries
from models.suggestions.lifecycle import NotPermitted
from models.vocabulary import VILLAGER_STATUS_WORDS

router = APIRouter(prefix="/staff/appointments", include_in_schema=False)

Text = Annotated[str | None, Form()]
BACK = "/staff/appointments"


def _back(done: str) -> RedirectResponse:
    return redirect_done(BACK, done)


@dataclass(frozen=True)
class _Meeting:
    """A session as the page shows it: its time on the township's clock."""

    id: int
    kind: str
    scheduled_for: datetime
    state: str


def _local_items(items: list[flow.ItemView], zone: tzinfo) -> list[flow.ItemView]:
    return [replace(i, due_at=local(i.due_at, zone) if i.due_at else None) for i in items]


def _local_request(r: RequestOut, zone: tzinfo) -> RequestOut:
    items = [i.model_copy(update={"due_at": local(i.due_at, zone) if i.due_at else None}) for i in r.items]
    return r.model_copy(update={"items": items})


@router.get("", response_class=HTMLResponse)
def appointments_page(
    request: Request, session: SessionDep, context: ContextDep, actor: StaffDep, clock: ClockDep
) -> HTMLResponse:
    """A deputy's topics and ratings to give; for the township head also decisions and sessions.

    Times show on the township's clock, as they are typed into the forms.
    """
    zone = context.settings.timezone
    head = ADMIN in actor.roles
    mine = [request_out(session, r) for r in flow.requests(session, requested_by=actor.username)]
    every = [_local_request(request_out(session, r), zone) for r in flow.requests(session)] if head else []
    agenda: dict[int, list[RequestOut]] = {}
    for r in every:
        if r.session_id is not None:
            agenda.setdefault(r.session_id, []).append(r)

    def meetings(
        found: list[tuple[AppointmentSession, dict[str, int]]],
    ) -> list[tuple[_Meeting, dict[str, int]]]:
        return [(_Meeting(m.id, m.kind, local(m.scheduled_for, zone), m.state), c) for m, c in found]

    now = clock()
    return render(
        request,
        "staff_appointments.html",
        {
            "mine": [_local_request(r, zone) for r in mine],
            "waiting": [r for r in every if r.state == "requested"],
            "scheduled": [r for r in every if r.state == "scheduled"],
            "sessions": meetings(flow.upcoming(session, now)) if head else [],
            "past_sessions": meetings(flow.past(session, now)) if head else [],
            "agenda": agenda,
            "actor_names": staff_queries.display_names(session, (r.requested_by for r in every)),
            "state_names": flow.STATE_NAMES,
            "mode_names": flow.MODE_NAMES,
            "department_names": {d.code: (d.name_zh, d.name_en) for d in directory.departments(session)},
            "items": _local_items(flow.items(session), zone) if head else [],
            "head": head,
            "deputy": DEPUTY in actor.roles or head,
            "stages": flow.STAGES,
            "status_words": VILLAGER_STATUS_WORDS,
            "departments": directory.departments(session),
            "today": local(now, zone).date(),
            "actor": actor,
        },
    )


@router.post("/raise")
def raise_form(
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
    title: Text = None,
    detail: Text = None,
    mode: Text = None,
    origin: Text = None,
    suggestion_ids: Text = None,
    theme_ids: Text = None,
) -> RedirectResponse:
    """Raise a topic (deputies) or publish one (the township head)."""
    origin = origin or "deputy"
    if DEPUTY not in actor.roles and ADMIN not in actor.roles:
        raise NotPermitted("Only deputies and the township government raise topics.")
    if origin == "government" and ADMIN not in actor.roles:
        raise NotPermitted("Only the township government (an administrator) publishes topics.")
    flow.raise_request(
        session,
        origin=origin,
        mode=mode or "session",
        title=title or "",
        detail=detail,
        requested_by=actor.username,
        suggestion_ids=form_ids(suggestion_ids, N_("suggestion numbers")),
        theme_ids=form_ids(theme_ids, N_("theme numbers")),
        now=clock(),
    )
    return _back("raised")


@router.post("/{request_id}/accept")
def accept_form(
    request_id: PathId,
    session: SessionDep,
    context: ContextDep,
    actor: AdminDep,
    clock: ClockDep,
    on: Text = None,
) -> RedirectResponse:
    """Accept an invitation with a date (the browser sends the township's wall-clock time)."""
    when = parse_form_time(on, N_("meeting date"), context.settings.timezone, day_time=MEETING_TIME)
    flow.accept_invitation(session, request_id, on=when, actor=actor.username, now=clock())
    return _back("accepted_invitation")


@router.post("/{request_id}/decline")
def decline_form(
    request_id: PathId, session: SessionDep, actor: AdminDep, clock: ClockDep, reason: Text = None
) -> RedirectResponse:
    """Decline with a reason."""
    flow.decline(session, request_id, reason=reason, actor=actor.username, now=clock())
    return _back("declined")


@router.post("/{request_id}/schedule")
def schedule_form(
    request_id: PathId, session: SessionDep, actor: AdminDep, clock: ClockDep, session_id: Text = None
) -> RedirectResponse:
    """Put a request on a planned session."""
    meeting = form_number(session_id, N_("session number"), low=1, high=MAX_ID)
    flow.schedule(session, request_id, meeting, actor=actor.username, now=clock())
    return _back("scheduled")


@router.post("/{request_id}/visit")
def visit_form(
    request_id: PathId, session: SessionDep, actor: AdminDep, clock: ClockDep, note: Text = None
) -> RedirectResponse:
    """Record the site visit."""
    flow.record_visit(session, request_id, note=note, actor=actor.username, now=clock())
    return _back("visited")


@router.post("/sessions/plan")
def plan_form(
    session: SessionDep,
    context: ContextDep,
    actor: AdminDep,
    clock: ClockDep,
    first: Text = None,
    count: Text = None,
) -> RedirectResponse:
    """Plan fixed sessions on the configured calendar."""
    try:
        start = date.fromisoformat((first or "").strip())
    except ValueError as exc:
        raise InvalidInput("Choose the date of the first session.") from exc
    flow.plan_fixed_sessions(
        session, first=start, every_months=context.settings.appointment_every_months,
        count=form_number(count, N_("number of sessions"), low=1, high=24, default=3), hour=flow.SESSION_HOUR,
        zone=context.settings.timezone, actor=actor.username, now=clock(),
    )  # fmt: skip
    return _back("planned")


@router.post("/sessions/{session_id}/held")
def held_form(session_id: PathId, session: SessionDep, actor: AdminDep, clock: ClockDep) -> RedirectResponse:
    """The meeting took place."""
    flow.hold(session, session_id, actor=actor.username, now=clock())
    return _back("held")


@router.post("/sessions/{session_id}/items")
def item_form(
    session_id: PathId,
    session: SessionDep,
    context: ContextDep,
    actor: AdminDep,
    clock: ClockDep,
    request_id: Text = None,
    title: Text = None,
    actions: Text = None,
    department_code: Text = None,
    days: Text = None,
) -> RedirectResponse:
    """Add an agenda item (dispatched to its department through the workflow), due by the end of the
    day ``days`` from today on the township's clock."""
    within = form_number(days, N_("number of days"), low=1, high=MAX_DEADLINE_DAYS, default=30)
    due_day = local(clock(), context.settings.timezone).date() + timedelta(days=within)
    deadline = in_township(due_day, context.settings.timezone, day_time=END_OF_DAY)
    flow.add_item(
        session, session_id, request_id=form_id(request_id, N_("topic number")), title=title or "",
        actions=actions or "", department_code=department_code or "", deadline=deadline,
        actor=actor.username, now=clock(),
    )  # fmt: skip
    return _back("item")


@router.post("/items/{item_id}/rating")
def rating_form(
    item_id: PathId,
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
    score: Text = None,
    comment: Text = None,
) -> RedirectResponse:
    """The requesting deputy rates a handled item."""
    stars = form_number(score, N_("rating"), low=1, high=5)
    flow.rate_item(session, item_id, score=stars, comment=comment, deputy=actor.username, now=clock())
    return _back("rated")

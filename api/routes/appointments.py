"""The appointment with the township head (乡长有约) over HTTP.

Deputies (role ``deputy``) raise topics and rate the items of their own topics; the township head
(an ``admin``) publishes topics, accepts or declines invitations, plans fixed sessions, records site
visits, holds sessions and adds agenda items. Items are then handled through the ordinary
suggestion workflow endpoints (accept, start, resolve) using each item's ``suggestion_id``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.accounts import ADMIN, DEPUTY, Staff
from api.appointment_views import END_OF_DAY, MEETING_TIME, ItemOut, RequestOut, item_out, request_out
from api.auth import require_roles
from api.deps import ContextDep, SessionDep
from api.ids import BodyId, PathId
from api.local_time import DayOrTime, in_township
from api.staff import AdminDep, ClockDep, StaffDep
from models.appointments import flow
from models.appointments.tables import AppointmentSession
from models.suggestions.lifecycle import NotPermitted

router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"])

DeputyOrAdmin = Annotated[Staff, Depends(require_roles(DEPUTY))]


class RequestIn(BaseModel):
    """A topic for the township head."""

    title: str = Field(max_length=300)
    detail: str | None = Field(None, max_length=5000)
    origin: str = Field("deputy", description="deputy (代表出题) or government (政府点题, admins only).")
    mode: str = Field("session", description="session (next fixed session) or invitation (on demand).")
    suggestion_ids: list[BodyId] = Field(default_factory=list, max_length=200)
    theme_ids: list[BodyId] = Field(default_factory=list, max_length=50)


class SessionOut(BaseModel):
    """A meeting and its items by workflow status."""

    id: int
    kind: str
    scheduled_for: datetime
    state: str
    items_by_status: dict[str, int]


class AcceptIn(BaseModel):
    """The date the township head accepts: a day (then at the fixed sessions' hour) or a day and time."""

    on: DayOrTime


class DeclineIn(BaseModel):
    """Why the township head declines."""

    reason: str = Field(max_length=2000)


class ScheduleIn(BaseModel):
    """The planned session to put the request on."""

    session_id: BodyId


class VisitIn(BaseModel):
    """Notes of the site visit."""

    note: str | None = Field(None, max_length=5000)


class PlanIn(BaseModel):
    """Fixed sessions on the calendar."""

    first: date
    every_months: int | None = Field(None, ge=1, le=12, description="Default: the configured interval.")
    count: int = Field(3, ge=1, le=24)
    hour: int = Field(flow.SESSION_HOUR, ge=0, le=23, description="Local time (MINSHENG_TIMEZONE).")


class ItemIn(BaseModel):
    """An agreed action: owner department, actions, deadline."""

    request_id: BodyId | None = None
    title: str = Field(max_length=300)
    actions: str = Field(max_length=5000)
    department_code: str
    deadline: DayOrTime = Field(
        description="A day (done by its end) or a day and time; local without a zone."
    )


class RatingIn(BaseModel):
    """The deputy's satisfaction with an item (1-5) and a comment."""

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=1000)


def _session_out(meeting: AppointmentSession, counts: dict[str, int]) -> SessionOut:
    return SessionOut(
        id=meeting.id, kind=meeting.kind, scheduled_for=meeting.scheduled_for, state=meeting.state,
        items_by_status=counts,
    )  # fmt: skip


@router.post("", response_model=RequestOut, status_code=201)
def raise_request(body: RequestIn, session: SessionDep, staff: DeputyOrAdmin, clock: ClockDep) -> RequestOut:
    """Raise a topic (deputies) or publish one (the government: admins only)."""
    if body.origin == "government" and ADMIN not in staff.roles:
        raise NotPermitted("Only the township government (an administrator) publishes topics.")
    request = flow.raise_request(
        session,
        origin=body.origin,
        mode=body.mode,
        title=body.title,
        detail=body.detail,
        requested_by=staff.username,
        suggestion_ids=body.suggestion_ids,
        theme_ids=body.theme_ids,
        now=clock(),
    )
    return request_out(session, request)


@router.get("", response_model=list[RequestOut])
def list_requests(session: SessionDep, actor: StaffDep, mine: bool = False) -> list[RequestOut]:
    """Every request, newest first, or only the signed-in deputy's own with ``?mine=true``."""
    return [
        request_out(session, r) for r in flow.requests(session, requested_by=actor.username if mine else None)
    ]


@router.get("/sessions", response_model=list[SessionOut])
def upcoming_sessions(session: SessionDep, actor: StaffDep, clock: ClockDep) -> list[SessionOut]:
    """The township head's upcoming sessions with their items by status."""
    return [_session_out(m, counts) for m, counts in flow.upcoming(session, clock())]


@router.post("/sessions/plan", response_model=list[SessionOut], status_code=201)
def plan_sessions(
    body: PlanIn, session: SessionDep, context: ContextDep, actor: AdminDep, clock: ClockDep
) -> list[SessionOut]:
    """Plan fixed sessions on the calendar (every ``appointment_every_months`` months by default)."""
    every = body.every_months or context.settings.appointment_every_months
    created = flow.plan_fixed_sessions(
        session, first=body.first, every_months=every, count=body.count, hour=body.hour,
        zone=context.settings.timezone, actor=actor.username, now=clock(),
    )  # fmt: skip
    return [_session_out(m, {}) for m in created]


@router.post("/sessions/{session_id}/held", response_model=SessionOut)
def hold_session(session_id: PathId, session: SessionDep, actor: AdminDep, clock: ClockDep) -> SessionOut:
    """The meeting took place (座谈议)."""
    return _session_out(flow.hold(session, session_id, actor=actor.username, now=clock()), {})


@router.post("/sessions/{session_id}/items", response_model=ItemOut, status_code=201)
def add_item(
    session_id: PathId,
    body: ItemIn,
    session: SessionDep,
    context: ContextDep,
    actor: AdminDep,
    clock: ClockDep,
) -> ItemOut:
    """Add an agenda item; it is dispatched to the owner department through the workflow."""
    deadline = in_township(body.deadline, context.settings.timezone, day_time=END_OF_DAY)
    item = flow.add_item(
        session, session_id, request_id=body.request_id, title=body.title, actions=body.actions,
        department_code=body.department_code, deadline=deadline, actor=actor.username, now=clock(),
    )  # fmt: skip
    [view] = [v for v in flow.items(session, session_id=session_id) if v.id == item.id]
    return item_out(view)


@router.get("/sessions/{session_id}/items", response_model=list[ItemOut])
def session_items(session_id: PathId, session: SessionDep, actor: StaffDep) -> list[ItemOut]:
    """A session's agenda items with their workflow status."""
    flow.get_session(session, session_id)
    return [item_out(i) for i in flow.items(session, session_id=session_id)]


@router.post("/items/{item_id}/rating", response_model=ItemOut)
def rate_item(
    item_id: PathId, body: RatingIn, session: SessionDep, staff: DeputyOrAdmin, clock: ClockDep
) -> ItemOut:
    """The requesting deputy rates a handled item (满意度点评), once."""
    flow.rate_item(
        session, item_id, score=body.score, comment=body.comment, deputy=staff.username, now=clock()
    )
    [view] = [v for v in flow.items(session) if v.id == item_id]
    return item_out(view)


@router.get("/{request_id}", response_model=RequestOut)
def read_request(request_id: PathId, session: SessionDep, actor: StaffDep) -> RequestOut:
    """One request with its six stages and items."""
    return request_out(session, flow.get_request(session, request_id))


@router.post("/{request_id}/accept", response_model=SessionOut)
def accept(
    request_id: PathId,
    body: AcceptIn,
    session: SessionDep,
    context: ContextDep,
    actor: AdminDep,
    clock: ClockDep,
) -> SessionOut:
    """The township head accepts an invitation with a date."""
    on = in_township(body.on, context.settings.timezone, day_time=MEETING_TIME)
    meeting = flow.accept_invitation(session, request_id, on=on, actor=actor.username, now=clock())
    return _session_out(meeting, {})


@router.post("/{request_id}/decline", response_model=RequestOut)
def decline(
    request_id: PathId, body: DeclineIn, session: SessionDep, actor: AdminDep, clock: ClockDep
) -> RequestOut:
    """The township head declines with a reason."""
    return request_out(
        session, flow.decline(session, request_id, reason=body.reason, actor=actor.username, now=clock())
    )


@router.post("/{request_id}/schedule", response_model=RequestOut)
def schedule(
    request_id: PathId, body: ScheduleIn, session: SessionDep, actor: AdminDep, clock: ClockDep
) -> RequestOut:
    """Put the request on a planned session."""
    return request_out(
        session, flow.schedule(session, request_id, body.session_id, actor=actor.username, now=clock())
    )


@router.post("/{request_id}/visit", response_model=RequestOut)
def visit(
    request_id: PathId, body: VisitIn, session: SessionDep, actor: AdminDep, clock: ClockDep
) -> RequestOut:
    """Record the site visit (实地看)."""
    return request_out(
        session, flow.record_visit(session, request_id, note=body.note, actor=actor.username, now=clock())
    )

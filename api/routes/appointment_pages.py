"""Staff pages of the appointment with the township head (乡长有约).

``/staff/appointments``: a deputy sees their own topics with the six stages, their items and the
ratings still to give, and raises a new topic; the township head (an admin) also sees every
topic waiting for a decision, the upcoming sessions with their items by status, and the forms to
accept, decline, plan sessions, hold them and add agenda items. Forms post back and redirect (303).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.accounts import ADMIN, DEPUTY
from api.deps import ContextDep, SessionDep
from api.routes.appointments import request_out
from api.routes.suggestions import STATUS_WORDS
from api.staff import AdminDep, ClockDep, StaffDep
from api.web.templating import render
from models import appointment_flow as flow
from models import directory
from models.errors import InvalidInput
from models.lifecycle import NotPermitted

router = APIRouter(prefix="/staff/appointments", include_in_schema=False)

Text = Annotated[str | None, Form()]
BACK = "/staff/appointments"


def _back() -> RedirectResponse:
    return RedirectResponse(BACK, status_code=303)


def _ids(raw: str | None) -> list[int]:
    parts = [p for p in (raw or "").replace("，", ",").replace(" ", ",").split(",") if p]
    if not all(p.isdigit() for p in parts):
        raise InvalidInput("Write suggestion and theme numbers separated by commas, e.g. 12, 15.")
    return [int(p) for p in parts]


def _when(value: str | None, what: str) -> datetime:
    try:
        when = datetime.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise InvalidInput(f"Choose the {what} (a date and time).") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # the form's times are UTC, as shown elsewhere


@router.get("", response_class=HTMLResponse)
def appointments_page(
    request: Request, session: SessionDep, actor: StaffDep, clock: ClockDep
) -> HTMLResponse:
    """A deputy's topics and ratings to give; for the township head also decisions and sessions."""
    head = ADMIN in actor.roles
    mine = [request_out(session, r) for r in flow.requests(session, requested_by=actor.username)]
    waiting = (
        [request_out(session, r) for r in flow.requests(session) if r.state == "requested"] if head else []
    )
    return render(
        request,
        "staff_appointments.html",
        {
            "mine": mine,
            "waiting": waiting,
            "sessions": flow.upcoming(session, clock()) if head else [],
            "items": flow.items(session) if head else [],
            "head": head,
            "deputy": DEPUTY in actor.roles or head,
            "stages": flow.STAGES,
            "status_words": STATUS_WORDS,
            "departments": directory.departments(session),
            "today": clock().date(),
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
        raise NotPermitted("Only the township government (an administrator) publishes topics (政府点题).")
    flow.raise_request(
        session,
        origin=origin,
        mode=mode or "session",
        title=title or "",
        detail=detail,
        requested_by=actor.username,
        suggestion_ids=_ids(suggestion_ids),
        theme_ids=_ids(theme_ids),
        now=clock(),
    )
    return _back()


@router.post("/{request_id}/accept")
def accept_form(
    request_id: int, session: SessionDep, actor: AdminDep, clock: ClockDep, on: Text = None
) -> RedirectResponse:
    """Accept an invitation with a date."""
    flow.accept_invitation(
        session, request_id, on=_when(on, "meeting date"), actor=actor.username, now=clock()
    )
    return _back()


@router.post("/{request_id}/decline")
def decline_form(
    request_id: int, session: SessionDep, actor: AdminDep, clock: ClockDep, reason: Text = None
) -> RedirectResponse:
    """Decline with a reason."""
    flow.decline(session, request_id, reason=reason, actor=actor.username, now=clock())
    return _back()


@router.post("/{request_id}/schedule")
def schedule_form(
    request_id: int, session: SessionDep, actor: AdminDep, clock: ClockDep, session_id: Text = None
) -> RedirectResponse:
    """Put a request on a planned session."""
    flow.schedule(
        session, request_id, _ids(session_id)[0] if _ids(session_id) else 0, actor=actor.username, now=clock()
    )
    return _back()


@router.post("/{request_id}/visit")
def visit_form(
    request_id: int, session: SessionDep, actor: AdminDep, clock: ClockDep, note: Text = None
) -> RedirectResponse:
    """Record the site visit."""
    flow.record_visit(session, request_id, note=note, actor=actor.username, now=clock())
    return _back()


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
        count=int(count) if count and count.isdigit() else 3, hour=9, actor=actor.username, now=clock(),
    )  # fmt: skip
    return _back()


@router.post("/sessions/{session_id}/held")
def held_form(session_id: int, session: SessionDep, actor: AdminDep, clock: ClockDep) -> RedirectResponse:
    """The meeting took place."""
    flow.hold(session, session_id, actor=actor.username, now=clock())
    return _back()


@router.post("/sessions/{session_id}/items")
def item_form(
    session_id: int,
    session: SessionDep,
    actor: AdminDep,
    clock: ClockDep,
    request_id: Text = None,
    title: Text = None,
    actions: Text = None,
    department_code: Text = None,
    days: Text = None,
) -> RedirectResponse:
    """Add an agenda item (dispatched to its department through the workflow)."""
    ids = _ids(request_id)
    deadline = clock() + timedelta(days=int(days) if days and days.isdigit() else 30)
    flow.add_item(
        session, session_id, request_id=ids[0] if ids else None, title=title or "", actions=actions or "",
        department_code=department_code or "", deadline=deadline, actor=actor.username, now=clock(),
    )  # fmt: skip
    return _back()


@router.post("/items/{item_id}/rating")
def rating_form(
    item_id: int,
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
    score: Text = None,
    comment: Text = None,
) -> RedirectResponse:
    """The requesting deputy rates a handled item."""
    if not score or not score.isdigit():
        raise InvalidInput("Choose a rating from 1 to 5.")
    flow.rate_item(session, item_id, score=int(score), comment=comment, deputy=actor.username, now=clock())
    return _back()

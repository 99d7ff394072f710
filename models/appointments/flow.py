"""The appointment with the township head (乡长有约): requests, sessions, agenda items and their stages.

Agenda items are handled by the suggestion workflow, not a copy of it: each item owns a suggestion
(channel ``appointment``) that is dispatched to the owning department at once, then accepted,
started and resolved through ``models.lifecycle`` like any other; the requesting deputy's rating
is that suggestion's satisfaction. Nothing here commits; the clock is passed in.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.appointments.tables import AgendaItem, AppointmentRequest, AppointmentSession
from models.directory.tables import Department
from models.errors import N_, InvalidInput, NotFound
from models.suggestions import lifecycle, queries
from models.suggestions.lifecycle import NotPermitted, WorkflowConflict
from models.suggestions.tables import Suggestion
from models.themes.tables import Theme
from models.vocabulary import DONE, Channel, Status

ORIGINS = ("deputy", "government")
MODES = ("session", "invitation")
SESSION_HOUR = 9  # fixed sessions, and a meeting accepted for a day without a time, start then (local)
LATEST_YEAR = 2100  # meetings and deadlines beyond it are typing mistakes

#: The six stages every request shows: key, Chinese, English.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("raise", "互动提", "Raised"),
    ("visit", "实地看", "Site visit"),
    ("discuss", "座谈议", "Discussed"),
    ("handle", "政府办", "Government handles"),
    ("supervise", "人大督", "Congress supervises"),
    ("rate", "代表评", "Deputy rates"),
)

#: What people read for a request's state and its mode: (Chinese, English).
STATE_NAMES: dict[str, tuple[str, str]] = {
    "requested": ("待决定", "Waiting for a decision"),
    "scheduled": ("已安排约见", "Scheduled"),
    "discussed": ("已座谈", "Discussed"),
    "declined": ("未接受", "Declined"),
}
MODE_NAMES: dict[str, tuple[str, str]] = {
    "session": ("定期约见", "Next fixed session"),
    "invitation": ("随时约见", "Invitation"),
}
PAST_SESSIONS = 20  # held or past sessions the page keeps listing, newest first


class AppointmentConflict(WorkflowConflict):
    """The action does not fit the request's or session's current state."""

    kind = "AppointmentConflict"


def _text(value: str | None, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput("Please write the %(what)s.", what=what)
    if len(value) > limit:
        raise InvalidInput(
            "The %(what)s is too long (%(value)s characters; at most %(limit)s).",
            what=what,
            value=len(value),
            limit=limit,
        )
    return value


def get_request(session: Session, request_id: int) -> AppointmentRequest:
    """A request by id, or NotFound."""
    found = session.get(AppointmentRequest, request_id)
    if found is None:
        raise NotFound("No appointment request with id %(request_id)s.", request_id=request_id)
    return found


def get_session(session: Session, session_id: int) -> AppointmentSession:
    """A session by id, or NotFound."""
    found = session.get(AppointmentSession, session_id)
    if found is None:
        raise NotFound("No appointment session with id %(session_id)s.", session_id=session_id)
    return found


def get_item(session: Session, item_id: int) -> AgendaItem:
    """An agenda item by id, or NotFound."""
    found = session.get(AgendaItem, item_id)
    if found is None:
        raise NotFound("No agenda item with id %(item_id)s.", item_id=item_id)
    return found


def raise_request(
    session: Session,
    *,
    origin: str,
    mode: str,
    title: str,
    detail: str | None,
    requested_by: str,
    suggestion_ids: list[int],
    theme_ids: list[int],
    now: datetime,
) -> AppointmentRequest:
    """A deputy's topic (代表出题) or the government's (政府点题), maybe linking suggestions and themes."""
    if origin not in ORIGINS:
        raise InvalidInput("Unknown origin '%(origin)s'; use deputy or government.", origin=origin)
    if mode not in MODES:
        raise InvalidInput(
            "Unknown mode '%(mode)s'; use session (next fixed session) or invitation.", mode=mode
        )
    for sid in suggestion_ids:
        queries.get_suggestion(session, sid)
    for tid in theme_ids:
        if session.get(Theme, tid) is None:
            raise NotFound("No theme with id %(tid)s.", tid=tid)
    request = AppointmentRequest(
        origin=origin,
        mode=mode,
        title=_text(title, N_("topic"), 300),
        detail=(detail or "").strip() or None,
        requested_by=requested_by,
        links={"suggestions": sorted(set(suggestion_ids)), "themes": sorted(set(theme_ids))},
        state="requested",
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    return request


def _open_request(session: Session, request_id: int) -> AppointmentRequest:
    request = get_request(session, request_id)
    if request.state != "requested":
        raise AppointmentConflict("Request %(id)s is %(state)s already.", id=request.id, state=request.state)
    return request


def accept_invitation(
    session: Session, request_id: int, *, on: datetime, actor: str, now: datetime
) -> AppointmentSession:
    """The township head accepts an on-demand invitation with a date: a session is created for it."""
    request = _open_request(session, request_id)
    if request.mode != "invitation":
        raise AppointmentConflict("This request waits for the next fixed session; schedule it there instead.")
    if on < now:
        raise InvalidInput("Choose a date in the future for the meeting.")
    if on.year > LATEST_YEAR:
        raise InvalidInput("Choose a meeting date before the year %(latest_year)s.", latest_year=LATEST_YEAR)
    meeting = AppointmentSession(
        kind="invitation", scheduled_for=on, state="planned", created_by=actor, created_at=now
    )
    session.add(meeting)
    session.flush()
    request.state, request.session_id = "scheduled", meeting.id
    request.decided_by, request.decided_at, request.updated_at = actor, now, now
    return meeting


def decline(
    session: Session, request_id: int, *, reason: str | None, actor: str, now: datetime
) -> AppointmentRequest:
    """The township head declines, with a reason the deputy sees."""
    request = _open_request(session, request_id)
    request.decline_reason = _text(reason, N_("reason for declining"), 2000)
    request.state = "declined"
    request.decided_by, request.decided_at, request.updated_at = actor, now, now
    return request


def schedule(
    session: Session, request_id: int, session_id: int, *, actor: str, now: datetime
) -> AppointmentRequest:
    """Put a request on a planned session's agenda."""
    request = _open_request(session, request_id)
    meeting = get_session(session, session_id)
    if meeting.state != "planned":
        raise AppointmentConflict("Session %(id)s has already been held.", id=meeting.id)
    request.state, request.session_id = "scheduled", meeting.id
    request.decided_by, request.decided_at, request.updated_at = actor, now, now
    return request


def _add_months(d: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day when it is shorter."""
    index = d.year * 12 + d.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(d.day, monthrange(year, month)[1]))


def plan_fixed_sessions(
    session: Session,
    *,
    first: date,
    every_months: int,
    count: int,
    hour: int,
    zone: tzinfo,
    actor: str,
    now: datetime,
) -> list[AppointmentSession]:
    """Fixed sessions on the calendar (e.g. every two months) at ``hour`` o'clock in the township's
    ``zone``; dates that already have one are skipped."""
    if not 1 <= count <= 24:
        raise InvalidInput("Plan between 1 and 24 sessions at a time.")
    if every_months < 1:
        raise InvalidInput("The interval must be at least one month.")
    if not 2000 <= first.year <= LATEST_YEAR:
        raise InvalidInput(
            "Choose a first session date between the years 2000 and %(latest_year)s.", latest_year=LATEST_YEAR
        )
    created = []
    for i in range(count):
        day = _add_months(first, i * every_months)
        at = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
        exists = session.scalar(
            select(AppointmentSession.id).where(
                AppointmentSession.kind == "fixed", AppointmentSession.scheduled_for == at
            )
        )
        if exists is None:
            meeting = AppointmentSession(
                kind="fixed", scheduled_for=at, state="planned", created_by=actor, created_at=now
            )
            session.add(meeting)
            created.append(meeting)
    session.flush()
    return created


def record_visit(
    session: Session, request_id: int, *, note: str | None, actor: str, now: datetime
) -> AppointmentRequest:
    """The site visit (实地看) before the meeting."""
    request = get_request(session, request_id)
    if request.state == "declined":
        raise AppointmentConflict("This request was declined.")
    request.visited_at, request.visit_note, request.updated_at = now, (note or "").strip() or None, now
    return request


def hold(session: Session, session_id: int, *, actor: str, now: datetime) -> AppointmentSession:
    """Mark the meeting held (座谈议); its scheduled requests become discussed."""
    meeting = get_session(session, session_id)
    if meeting.state == "held":
        raise AppointmentConflict("Session %(id)s has already been held.", id=meeting.id)
    meeting.state, meeting.held_at = "held", now
    for request in session.scalars(
        select(AppointmentRequest).where(
            AppointmentRequest.session_id == meeting.id, AppointmentRequest.state == "scheduled"
        )
    ):
        request.state, request.updated_at = "discussed", now
    return meeting


def add_item(
    session: Session,
    session_id: int,
    *,
    request_id: int | None,
    title: str,
    actions: str,
    department_code: str,
    deadline: datetime,
    actor: str,
    now: datetime,
) -> AgendaItem:
    """An agenda item with an owner department, actions and a deadline, dispatched through the workflow."""
    meeting = get_session(session, session_id)
    if request_id is not None and get_request(session, request_id).session_id != meeting.id:
        raise InvalidInput(
            "Request %(request_id)s is not on session %(id)s's agenda.", request_id=request_id, id=meeting.id
        )
    if deadline <= now:
        raise InvalidInput("The deadline must be in the future.")
    if deadline.year > LATEST_YEAR:
        raise InvalidInput("Choose a deadline before the year %(latest_year)s.", latest_year=LATEST_YEAR)
    department = session.scalar(select(Department).where(Department.code == department_code))
    if department is None:
        raise NotFound("No department with the code '%(department_code)s'.", department_code=department_code)
    title = _text(title, N_("item"), 300)
    actions = _text(actions, N_("actions"), 5000)
    suggestion = queries.create_suggestion(
        session,
        status=Status.ROUTED,
        actor=actor,
        channel=Channel.APPOINTMENT,
        text=f"{title}\n{actions}",
        category="other",
        category_source="staff",
        department_id=department.id,
        now=now,
    )
    lifecycle.dispatch(
        session, suggestion.id, actor=actor, now=now, department_code=department.code, due_at=deadline
    )
    item = AgendaItem(
        session_id=meeting.id,
        request_id=request_id,
        suggestion_id=suggestion.id,
        title=title,
        actions=actions,
        created_by=actor,
        created_at=now,
    )
    session.add(item)
    session.flush()
    return item


def rate_item(
    session: Session, item_id: int, *, score: int, comment: str | None, deputy: str, now: datetime
) -> Suggestion:
    """The requesting deputy's satisfaction (满意度点评) once the item is handled."""
    item = get_item(session, item_id)
    if item.request_id is None or get_request(session, item.request_id).requested_by != deputy:
        raise NotPermitted("Only the deputy who raised this topic may rate its items.")
    suggestion = queries.get_suggestion(session, item.suggestion_id)
    return lifecycle.rate(
        session, suggestion.tracking_code, score=score, comment=comment, now=now, actor=deputy
    )


@dataclass(frozen=True)
class ItemView:
    """An agenda item with its workflow state."""

    id: int
    session_id: int
    request_id: int | None
    suggestion_id: int
    title: str
    actions: str
    status: str
    department_code: str | None
    due_at: datetime | None
    satisfaction: int | None
    satisfaction_comment: str | None


def items(
    session: Session, *, session_id: int | None = None, request_ids: list[int] | None = None
) -> list[ItemView]:
    """Agenda items with their suggestion's status (one joined query)."""
    stmt = (
        select(
            AgendaItem,
            Suggestion.status,
            Department.code,
            Suggestion.due_at,
            Suggestion.satisfaction,
            Suggestion.satisfaction_comment,
        )
        .join(Suggestion, Suggestion.id == AgendaItem.suggestion_id)
        .outerjoin(Department, Department.id == Suggestion.department_id)
        .order_by(AgendaItem.id)
    )
    if session_id is not None:
        stmt = stmt.where(AgendaItem.session_id == session_id)
    if request_ids is not None:
        stmt = stmt.where(AgendaItem.request_id.in_(request_ids))
    return [
        ItemView(
            i.id, i.session_id, i.request_id, i.suggestion_id, i.title, i.actions, status, code, due, sat, com
        )
        for i, status, code, due, sat, com in session.execute(stmt)
    ]


def stages_reached(request: AppointmentRequest, request_items: list[ItemView]) -> set[str]:
    """The keys of the ``STAGES`` that happened: a stage lights only when it did (a topic discussed
    without a site visit never shows 实地看 reached)."""
    reached = {"raise"}
    if request.visited_at is not None:
        reached.add("visit")
    if request.state == "discussed":
        reached.add("discuss")
    if request_items:
        reached.add("handle")
        if all(i.status in DONE for i in request_items):
            reached.add("supervise")
        if all(i.satisfaction is not None for i in request_items):
            reached.add("rate")
    return reached


def stage_index(request: AppointmentRequest, request_items: list[ItemView]) -> int:
    """The furthest of the ``STAGES`` reached (0 = raised … 5 = rated by the deputy)."""
    reached = stages_reached(request, request_items)
    return max(i for i, (key, _, _) in enumerate(STAGES) if key in reached)


def requests(session: Session, *, requested_by: str | None = None) -> list[AppointmentRequest]:
    """Requests, newest first (one deputy's when ``requested_by`` is given)."""
    stmt = select(AppointmentRequest).order_by(AppointmentRequest.id.desc())
    if requested_by is not None:
        stmt = stmt.where(AppointmentRequest.requested_by == requested_by)
    return list(session.scalars(stmt))


def upcoming(session: Session, now: datetime) -> list[tuple[AppointmentSession, dict[str, int]]]:
    """Planned sessions from today on, each with its items counted by workflow status (SQL)."""
    meetings = list(
        session.scalars(
            select(AppointmentSession)
            .where(
                AppointmentSession.state == "planned",
                AppointmentSession.scheduled_for >= now - timedelta(days=1),
            )
            .order_by(AppointmentSession.scheduled_for)
        )
    )
    return _with_counts(session, meetings)


def past(session: Session, now: datetime) -> list[tuple[AppointmentSession, dict[str, int]]]:
    """Sessions held, or planned for a day already gone, newest first (the latest ``PAST_SESSIONS``),
    each with its items counted by workflow status: a meeting stays listed after it is held, so
    its agenda items can still be added and followed."""
    meetings = list(
        session.scalars(
            select(AppointmentSession)
            .where(
                (AppointmentSession.state == "held")
                | (AppointmentSession.scheduled_for < now - timedelta(days=1))
            )
            .order_by(AppointmentSession.scheduled_for.desc())
            .limit(PAST_SESSIONS)
        )
    )
    return _with_counts(session, meetings)


def _with_counts(
    session: Session, meetings: list[AppointmentSession]
) -> list[tuple[AppointmentSession, dict[str, int]]]:
    counts: dict[int, dict[str, int]] = {m.id: {} for m in meetings}
    if meetings:
        for session_id, status, n in session.execute(
            select(AgendaItem.session_id, Suggestion.status, func.count())
            .join(Suggestion, Suggestion.id == AgendaItem.suggestion_id)
            .where(AgendaItem.session_id.in_(list(counts)))
            .group_by(AgendaItem.session_id, Suggestion.status)
        ):
            counts[session_id][status] = int(n)
    return [(m, counts[m.id]) for m in meetings]

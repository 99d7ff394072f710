"""The suggestion workflow after routing: the transition table and the actions that follow it.

Every action takes the acting person's name and the current time explicitly (so tests can move
the clock), checks the transition table, and appends an Event. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.directory.queries import deadline_days
from models.directory.tables import Department, Deputy
from models.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from models.suggestions import queries, reasons
from models.suggestions.action_table import ACTIONS, TRANSITIONS, allowed_from
from models.suggestions.tables import Assignment, Event, ExtensionRequest, Suggestion
from models.vocabulary import DONE, ON_THE_CLOCK, Role, Status

MAX_NOTE_CHARS = 5000
MAX_EXTENSION_DAYS = 90
#: History events outside the action table: the villager's rating, and a finished suggestion sent
#: back to its holder (the villager said the problem was not fixed).
RATED = "rated"
REOPENED = "reopened"


class WorkflowConflict(Conflict):
    """The request clashes with the suggestion's current state."""

    kind = "Conflict"


class IllegalTransition(WorkflowConflict):
    """An action that the transition table does not allow from the current state."""

    kind = "IllegalTransition"


class AlreadyRated(WorkflowConflict):
    """The villager has already rated this suggestion."""

    kind = "AlreadyRated"


class NotPermitted(Forbidden):
    """The person may not act on this suggestion (not its department's handler or deputy)."""

    kind = "NotPermitted"


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff username with roles (and a department for handlers)."""

    username: str
    roles: tuple[str, ...] = ()
    department_code: str | None = None


def allowed_actions(status: str) -> list[str]:
    """The transitions the action table allows from ``status`` (whoever acts)."""
    return allowed_from(status)


def _event(
    session: Session,
    suggestion: Suggestion,
    *,
    actor: str,
    kind: str,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        Event(
            suggestion_id=suggestion.id,
            at=now,
            actor=actor,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            detail=detail or {},
        )
    )


def _move(
    session: Session,
    suggestion: Suggestion,
    action: str,
    *,
    actor: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    step = TRANSITIONS[action]
    target = step.target
    assert target is not None
    if suggestion.status not in step.sources:
        allowed = ", ".join(allowed_actions(suggestion.status)) or "none"
        raise IllegalTransition(
            "Suggestion %(id)s is '%(status)s'; it cannot be %(past)s (allowed from "
            "'%(status)s': %(allowed)s).",
            id=suggestion.id,
            status=suggestion.status,
            past=step.past,
            allowed=allowed,
        )
    previous = suggestion.status
    session.flush()
    # Compare-and-set: of two people acting on the same suggestion at once, only one wins.
    result = session.execute(
        update(Suggestion)
        .where(Suggestion.id == suggestion.id, Suggestion.status == previous)
        .values(status=target, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise IllegalTransition(
            "Suggestion %(id)s was changed by someone else just now; reload it and try again.",
            id=suggestion.id,
        )
    session.expire(suggestion, ["status", "updated_at"])
    _event(
        session,
        suggestion,
        actor=actor,
        kind=step.event,
        now=now,
        from_status=previous,
        to_status=target,
        detail=detail,
    )


def _required_text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput("A %(what)s is required.", what=what)
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(
            "The %(what)s is too long (%(text)s characters; at most %(max_note_chars)s).",
            what=what,
            text=len(text),
            max_note_chars=MAX_NOTE_CHARS,
        )
    return text


def assignment_of(session: Session, suggestion_id: int) -> Assignment | None:
    """The current assignment of a suggestion, if it has been dispatched."""
    return session.get(Assignment, suggestion_id)


def holds(session: Session, suggestion: Suggestion, actor: Actor) -> bool:
    """Whether ``actor`` is a handler of the holding department or the deputy holding it (admins
    always are)."""
    if Role.ADMIN in actor.roles:
        return True
    assignment = assignment_of(session, suggestion.id)
    if assignment is not None and assignment.deputy is not None:
        # Point-to-point: only that deputy holds it.
        return Role.DEPUTY in actor.roles and assignment.deputy.username == actor.username
    holder = assignment.department if assignment is not None else suggestion.department
    return Role.HANDLER in actor.roles and holder is not None and holder.code == actor.department_code


def check_may_handle(session: Session, suggestion: Suggestion, actor: Actor) -> None:
    """Raise NotPermitted unless ``actor`` holds the suggestion (see ``holds``)."""
    if holds(session, suggestion, actor):
        return
    raise NotPermitted(
        "%(username)s may not act on suggestion %(id)s: it is held by another department or deputy.",
        username=actor.username,
        id=suggestion.id,
    )


def dispatch(
    session: Session,
    suggestion_id: int,
    *,
    actor: str,
    now: datetime,
    department_code: str | None = None,
    deputy_id: int | None = None,
    note: str | None = None,
    due_at: datetime | None = None,
) -> Suggestion:
    """Hand a routed suggestion to a department (default: the routed one) or to one deputy.

    The first dispatch starts the deadline clock: ``due_at`` = now + the category's days, unless
    the caller sets the deadline (an appointment's agenda item is due when the meeting said).
    A re-dispatch (from ``dispatched``) moves it to another holder and keeps the deadline.
    """
    suggestion = queries.get_suggestion(session, suggestion_id)
    deputy: Deputy | None = None
    department: Department | None
    if deputy_id is not None:
        deputy = session.get(Deputy, deputy_id)
        if deputy is None or not deputy.active:
            raise NotFound("No active deputy with id %(deputy_id)s.", deputy_id=deputy_id)
        department = deputy.department
    elif department_code:
        department = session.scalar(select(Department).where(Department.code == department_code))
        if department is None:
            raise NotFound(
                "No department with the code '%(department_code)s'.", department_code=department_code
            )
    else:
        department = suggestion.department
        if department is None:
            raise InvalidInput("This suggestion has no department yet; choose a department or a deputy.")
    first = suggestion.status == Status.ROUTED
    detail: dict[str, Any] = {
        "department": department.code if department else None,
        "deputy": deputy.username if deputy else None,
    }
    if note and note.strip():
        detail["note"] = note.strip()[:MAX_NOTE_CHARS]
    if first and (due_at is not None or suggestion.category is not None):
        suggestion.due_at = due_at or now + timedelta(days=deadline_days(session, suggestion.category or ""))
        detail["due_at"] = suggestion.due_at.isoformat()
    _move(session, suggestion, "dispatch", actor=actor, now=now, detail=detail)
    if department is not None and deputy is None:
        suggestion.department_id = department.id
    suggestion.assignee = deputy.name if deputy else None
    assignment = assignment_of(session, suggestion.id)
    if assignment is None:
        assignment = Assignment(suggestion_id=suggestion.id, dispatched_by=actor, dispatched_at=now)
        session.add(assignment)
    assignment.department_id = department.id if department else None
    assignment.deputy_id = deputy.id if deputy else None
    assignment.dispatched_by = actor
    assignment.dispatched_at = now
    assignment.accepted_by = assignment.accepted_at = assignment.started_at = None
    session.flush()
    return suggestion


def accept(session: Session, suggestion_id: int, *, actor: str, now: datetime) -> Suggestion:
    """The holder signs for the suggestion (签收); they become its assignee."""
    suggestion = queries.get_suggestion(session, suggestion_id)
    _move(session, suggestion, "accept", actor=actor, now=now)
    assignment = assignment_of(session, suggestion.id)
    if assignment is not None:
        assignment.accepted_by, assignment.accepted_at = actor, now
    if not (assignment is not None and assignment.deputy is not None):
        suggestion.assignee = actor
    return suggestion


def start(session: Session, suggestion_id: int, *, actor: str, now: datetime) -> Suggestion:
    """Work on the suggestion has begun."""
    suggestion = queries.get_suggestion(session, suggestion_id)
    _move(session, suggestion, "start", actor=actor, now=now)
    assignment = assignment_of(session, suggestion.id)
    if assignment is not None:
        assignment.started_at = now
    return suggestion


def resolve(
    session: Session, suggestion_id: int, *, actor: str, now: datetime, result_note: str | None
) -> Suggestion:
    """Finish the work (办结). The result note, shown to the villager, is required."""
    suggestion = queries.get_suggestion(session, suggestion_id)
    text = _required_text(result_note, N_("result note telling the villager what was done"))
    _move(session, suggestion, "resolve", actor=actor, now=now, detail={"result_note": text})
    suggestion.result_note = text
    assignment = assignment_of(session, suggestion.id)
    if assignment is not None:
        assignment.resolved_by, assignment.resolved_at = actor, now
    return suggestion


def close(session: Session, suggestion_id: int, *, actor: str, now: datetime) -> Suggestion:
    """Close a resolved suggestion (the villager's rating closes it too)."""
    suggestion = queries.get_suggestion(session, suggestion_id)
    _move(session, suggestion, "close", actor=actor, now=now)
    suggestion.closed_at = now
    return suggestion


def return_to_triage(
    session: Session, suggestion_id: int, *, actor: str, now: datetime, reason: str | None
) -> Suggestion:
    """Send a suggestion back to triage (退单): reason required; the holder and deadline are cleared."""
    suggestion = queries.get_suggestion(session, suggestion_id)
    text = _required_text(reason, N_("reason for returning the suggestion"))
    _move(
        session,
        suggestion,
        "return",
        actor=actor,
        now=now,
        detail={"reason": text, "returned_by": actor},
    )
    suggestion.review_reason = reasons.dump([reasons.returned_by(actor, text)])
    suggestion.assignee = None
    suggestion.due_at = None
    assignment = assignment_of(session, suggestion.id)
    if assignment is not None:
        session.delete(assignment)
    for pending in _pending_extensions(session, suggestion.id):
        pending.state, pending.decided_by, pending.decided_at = "rejected", actor, now
        pending.decision_note = "The suggestion was returned to triage."
    return suggestion


def _pending_extensions(session: Session, suggestion_id: int) -> list[ExtensionRequest]:
    return list(
        session.scalars(
            select(ExtensionRequest).where(
                ExtensionRequest.suggestion_id == suggestion_id, ExtensionRequest.state == "pending"
            )
        )
    )


def request_extension(
    session: Session, suggestion_id: int, *, actor: str, now: datetime, days: int, reason: str | None
) -> ExtensionRequest:
    """Ask for ``days`` more (延期); takes effect only when an admin approves it."""
    suggestion = queries.get_suggestion(session, suggestion_id)
    if suggestion.status not in ON_THE_CLOCK:
        raise IllegalTransition(
            "Suggestion %(id)s is '%(status)s'; an extension can only be asked for while it "
            "is dispatched, accepted or in progress.",
            id=suggestion.id,
            status=suggestion.status,
        )
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidInput(
            "An extension must be between 1 and %(max_extension_days)s days, not %(days)s.",
            max_extension_days=MAX_EXTENSION_DAYS,
            days=days,
        )
    text = _required_text(reason, N_("reason for the extension"))
    if _pending_extensions(session, suggestion.id):
        raise WorkflowConflict(
            "Suggestion %(id)s already has an extension request waiting for approval.", id=suggestion.id
        )
    request = ExtensionRequest(
        suggestion_id=suggestion.id,
        requested_by=actor,
        requested_at=now,
        days=days,
        reason=text,
        state="pending",
    )
    session.add(request)
    session.flush()
    _event(
        session,
        suggestion,
        actor=actor,
        kind=ACTIONS["extend"].event,
        now=now,
        detail={"request": request.id, "days": days, "reason": text},
    )
    return request


def decide_extension(
    session: Session,
    request_id: int,
    *,
    actor: str,
    now: datetime,
    approve: bool,
    note: str | None = None,
) -> ExtensionRequest:
    """An admin approves (the deadline moves by the days asked) or rejects an extension request."""
    request = session.get(ExtensionRequest, request_id)
    if request is None:
        raise NotFound("No extension request %(request_id)s.", request_id=request_id)
    if request.state != "pending":
        raise WorkflowConflict(
            "Extension request %(request_id)s has already been %(state)s.",
            request_id=request_id,
            state=request.state,
        )
    suggestion = queries.get_suggestion(session, request.suggestion_id)
    if approve and suggestion.status not in ON_THE_CLOCK:
        raise WorkflowConflict(
            "Suggestion %(id)s is '%(status)s' now; there is no deadline left to extend.",
            id=suggestion.id,
            status=suggestion.status,
        )
    request.state = "approved" if approve else "rejected"
    request.decided_by, request.decided_at = actor, now
    request.decision_note = (note or "").strip() or None
    detail: dict[str, Any] = {"request": request.id, "days": request.days}
    if approve:
        request.previous_due_at = suggestion.due_at
        base = suggestion.due_at or now
        suggestion.due_at = base + timedelta(days=request.days)
        request.new_due_at = suggestion.due_at
        detail["due_at"] = suggestion.due_at.isoformat()
    if request.decision_note:
        detail["note"] = request.decision_note
    suggestion.updated_at = now
    _event(
        session,
        suggestion,
        actor=actor,
        kind=ACTIONS["approve_extension" if approve else "reject_extension"].event,
        now=now,
        detail=detail,
    )
    return request


def extension_requests(session: Session, suggestion_id: int | None = None) -> list[ExtensionRequest]:
    """Extension requests, newest first (of one suggestion, or all pending ones)."""
    stmt = select(ExtensionRequest).order_by(ExtensionRequest.id.desc())
    if suggestion_id is None:
        stmt = stmt.where(ExtensionRequest.state == "pending")
    else:
        stmt = stmt.where(ExtensionRequest.suggestion_id == suggestion_id)
    return list(session.scalars(stmt))


def chase(session: Session, suggestion_id: int, *, actor: str, now: datetime, note: str | None) -> None:
    """Record a reminder (催办) to the holder of an overdue suggestion."""
    suggestion = queries.get_suggestion(session, suggestion_id)
    if suggestion.status not in ON_THE_CLOCK or suggestion.due_at is None or suggestion.due_at >= now:
        raise WorkflowConflict(
            "Suggestion %(id)s is not overdue; there is nothing to chase.", id=suggestion.id
        )
    detail: dict[str, Any] = {"due_at": suggestion.due_at.isoformat()}
    if note and note.strip():
        detail["note"] = note.strip()[:MAX_NOTE_CHARS]
    _event(session, suggestion, actor=actor, kind=ACTIONS["chase"].event, now=now, detail=detail)


def rate(
    session: Session,
    tracking_code: str,
    *,
    score: int,
    comment: str | None,
    now: datetime,
    actor: str = "villager",
) -> Suggestion:
    """The satisfaction rating (1–5, optional comment), once, after resolution; closes it.

    This records a rating and checks no right to give it: callers do. The villager rates through
    ``rating.rate_as_villager`` (with the receipt's rating key, not the tracking code alone);
    the deputy who raised an appointment topic rates its items through
    ``models.appointments.flow.rate_item``.
    """
    suggestion = queries.get_by_tracking_code(session, tracking_code)
    if suggestion.status not in DONE:
        raise IllegalTransition("You can rate the handling once the suggestion has been resolved.")
    if suggestion.satisfaction is not None:
        raise AlreadyRated("This suggestion has already been rated; a rating can be given only once.")
    if not 1 <= score <= 5:
        raise InvalidInput("The rating must be a whole number from 1 to 5, not %(score)s.", score=score)
    text = (comment or "").strip() or None
    if text is not None and len(text) > 1000:
        raise InvalidInput("The comment is too long (%(text)s characters; at most 1000).", text=len(text))
    # Conditional update: of two ratings racing, only one finds the column still empty.
    result = session.execute(
        update(Suggestion)
        .where(Suggestion.id == suggestion.id, Suggestion.satisfaction.is_(None))
        .values(satisfaction=score, satisfaction_comment=text)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyRated("This suggestion has already been rated; a rating can be given only once.")
    session.refresh(suggestion)
    _event(session, suggestion, actor=actor, kind=RATED, now=now, detail={"satisfaction": score})
    if suggestion.status == Status.RESOLVED:
        close(session, suggestion.id, actor=actor, now=now)
    suggestion.updated_at = now
    return suggestion


def reopen(
    session: Session, suggestion_id: int, *, actor: str, now: datetime, detail: dict[str, Any] | None = None
) -> Suggestion:
    """Send a resolved or closed suggestion back to the department or deputy that held it.

    It is dispatched again with a fresh deadline; the holder accepts and handles it anew, and the
    rating is cleared (kept in ``detail`` and in the history) so the next result can be rated.
    """
    suggestion = queries.get_suggestion(session, suggestion_id)
    assignment = assignment_of(session, suggestion.id)
    if suggestion.status not in DONE or assignment is None:
        raise IllegalTransition(
            "Suggestion %(id)s is '%(status)s'; only a resolved or closed suggestion that a "
            "department or deputy handled can be reopened.",
            id=suggestion.id,
            status=suggestion.status,
        )
    previous = suggestion.status
    session.flush()
    result = session.execute(  # compare-and-set, as in _move: one of two racing reopens wins
        update(Suggestion)
        .where(Suggestion.id == suggestion.id, Suggestion.status == previous)
        .values(status=Status.DISPATCHED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise IllegalTransition(
            "Suggestion %(id)s was changed by someone else just now; reload it and try again.",
            id=suggestion.id,
        )
    session.expire(suggestion, ["status", "updated_at"])
    suggestion.due_at = now + timedelta(days=deadline_days(session, suggestion.category or ""))
    suggestion.closed_at = None
    suggestion.satisfaction = suggestion.satisfaction_comment = None
    suggestion.assignee = assignment.deputy.name if assignment.deputy is not None else None
    assignment.accepted_by = assignment.accepted_at = assignment.started_at = None
    assignment.resolved_by = assignment.resolved_at = None
    _event(
        session,
        suggestion,
        actor=actor,
        kind=REOPENED,
        now=now,
        from_status=previous,
        to_status=Status.DISPATCHED,
        detail={**(detail or {}), "due_at": suggestion.due_at.isoformat()},
    )
    return suggestion

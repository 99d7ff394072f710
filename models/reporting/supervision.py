"""Supervision: overdue flags, the chase list (催办), the board and each holder's inbox (我的待办)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from models.directory.tables import Department
from models.suggestions import lifecycle, queries
from models.suggestions.lifecycle import Actor
from models.suggestions.tables import Assignment, Suggestion
from models.vocabulary import AWAITING_HANDLING, DONE, ON_THE_CLOCK, Role, Status

#: Open = someone must still act: waiting for dispatch or on the clock.


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """SQL condition: on the clock and past its due time."""
    return and_(Suggestion.status.in_(ON_THE_CLOCK), Suggestion.due_at.is_not(None), Suggestion.due_at < now)


def is_overdue(suggestion: Suggestion, now: datetime) -> bool:
    """The same rule as ``overdue_condition`` for one loaded suggestion."""
    return suggestion.status in ON_THE_CLOCK and suggestion.due_at is not None and suggestion.due_at < now


@dataclass(frozen=True)
class OpenItem:
    """One open suggestion on the board or the chase list."""

    id: int
    tracking_code: str
    status: str
    category: str | None
    department_code: str | None
    department_zh: str | None
    department_en: str | None
    assignee: str | None
    since: datetime
    due_at: datetime | None
    overdue: bool

    def age(self, now: datetime) -> timedelta:
        """How long it has been open in its current hands."""
        return now - self.since


def _holder_department() -> Any:
    return func.coalesce(Assignment.department_id, Suggestion.department_id)


def open_items(
    session: Session, now: datetime, *, overdue_only: bool = False, department_code: str | None = None
) -> list[OpenItem]:
    """Open suggestions (overdue ones first, then oldest due), with the overdue flag from SQL."""
    overdue = overdue_condition(now)
    since = func.coalesce(Assignment.dispatched_at, Suggestion.submitted_at)
    stmt = (
        select(
            Suggestion.id,
            Suggestion.tracking_code,
            Suggestion.status,
            Suggestion.category,
            Department.code,
            Department.name_zh,
            Department.name_en,
            Suggestion.assignee,
            since,
            Suggestion.due_at,
            case((overdue, 1), else_=0),
        )
        .select_from(Suggestion)
        .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
        .outerjoin(Department, Department.id == _holder_department())
        .where(Suggestion.status.in_(AWAITING_HANDLING))
    )
    if overdue_only:
        stmt = stmt.where(overdue)
    if department_code is not None:
        stmt = stmt.where(Department.code == department_code)
    stmt = stmt.order_by(case((overdue, 0), else_=1), Suggestion.due_at.is_(None), Suggestion.due_at, since)
    return [
        OpenItem(
            id=row[0],
            tracking_code=row[1],
            status=row[2],
            category=row[3],
            department_code=row[4],
            department_zh=row[5],
            department_en=row[6],
            assignee=row[7],
            since=row[8],
            due_at=row[9],
            overdue=bool(row[10]),
        )
        for row in session.execute(stmt)
    ]


def inbox(session: Session, now: datetime, actor: Actor, *, limit: int = 50) -> list[OpenItem]:
    """What waits for this handler or deputy (overdue first, then oldest due): the open suggestions
    they hold, by the workflow's one rule of holding (``lifecycle.holds``). Empty for others."""
    handler = Role.HANDLER in actor.roles and actor.department_code is not None
    deputy = Role.DEPUTY in actor.roles
    if not (handler or deputy):
        return []
    # A cheap first cut in SQL's order (the department's, or a deputy's point-to-point ones) ...
    candidates = [
        i
        for i in open_items(session, now)
        if (handler and i.department_code == actor.department_code) or (deputy and i.assignee is not None)
    ]
    # ... then the rule itself decides.
    mine = [i for i in candidates if lifecycle.holds(session, queries.get_suggestion(session, i.id), actor)]
    return mine[:limit]


def chase_list(session: Session, now: datetime) -> list[OpenItem]:
    """Overdue suggestions to chase, most overdue first."""
    return open_items(session, now, overdue_only=True)


@dataclass(frozen=True)
class GroupRow:
    """Counts for one department or one handler."""

    key: str
    name_zh: str
    name_en: str
    waiting: int
    dispatched: int
    accepted: int
    in_progress: int
    overdue: int
    oldest_since: datetime | None
    resolved: int
    mean_days_to_resolve: float | None
    mean_satisfaction: float | None

    @property
    def open(self) -> int:
        """Everything not yet resolved."""
        return self.waiting + self.dispatched + self.accepted + self.in_progress


def _count(state: str) -> Any:
    return func.sum(case((Suggestion.status == state, 1), else_=0))


def board(session: Session, now: datetime) -> tuple[list[GroupRow], list[GroupRow]]:
    """Per department and per handler: what is open, since when, how long it took, what is overdue."""
    since = func.coalesce(Assignment.dispatched_at, Suggestion.submitted_at)
    done = Suggestion.status.in_(DONE)
    counts = [
        _count(Status.ROUTED),
        _count(ON_THE_CLOCK[0]),
        _count(ON_THE_CLOCK[1]),
        _count(ON_THE_CLOCK[2]),
        func.sum(case((overdue_condition(now), 1), else_=0)),
        func.min(case((Suggestion.status.in_(AWAITING_HANDLING), since), else_=None)),
        func.sum(case((done, 1), else_=0)),
        func.avg(case((done, Suggestion.satisfaction), else_=None)),
    ]
    relevant = Suggestion.status.in_((*AWAITING_HANDLING, *DONE))
    dept_rows = session.execute(
        select(Department.code, Department.name_zh, Department.name_en, *counts)
        .select_from(Suggestion)
        .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
        .join(Department, Department.id == _holder_department())
        .where(relevant)
        .group_by(Department.code, Department.name_zh, Department.name_en)
        .order_by(Department.code)
    ).all()
    handler_rows = session.execute(
        select(Suggestion.assignee, *counts)
        .select_from(Suggestion)
        .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
        .where(relevant, Suggestion.assignee.is_not(None))
        .group_by(Suggestion.assignee)
        .order_by(Suggestion.assignee)
    ).all()
    durations = _resolution_days(session)
    departments = [
        _group(row[0], row[1], row[2], row[3:], durations["dept"].get(row[0])) for row in dept_rows
    ]
    handlers = [
        _group(row[0], row[0], row[0], row[1:], durations["handler"].get(row[0])) for row in handler_rows
    ]
    return departments, handlers


def _group(key: str, zh: str, en: str, values: Any, mean_days: float | None) -> GroupRow:
    waiting, dispatched, accepted, in_progress, overdue, oldest, resolved, satisfaction = values
    return GroupRow(
        key=key,
        name_zh=zh,
        name_en=en,
        waiting=int(waiting or 0),
        dispatched=int(dispatched or 0),
        accepted=int(accepted or 0),
        in_progress=int(in_progress or 0),
        overdue=int(overdue or 0),
        oldest_since=oldest,
        resolved=int(resolved or 0),
        mean_days_to_resolve=mean_days,
        mean_satisfaction=float(satisfaction) if satisfaction is not None else None,
    )


def _resolution_days(session: Session) -> dict[str, dict[str, float]]:
    """Mean days from dispatch to resolution per department and per handler.

    Date arithmetic differs between SQLite and PostgreSQL, so the pairs are read (two columns per
    resolved suggestion) and averaged here.
    """
    rows = session.execute(
        select(Department.code, Suggestion.assignee, Assignment.dispatched_at, Assignment.resolved_at)
        .select_from(Assignment)
        .join(Suggestion, Suggestion.id == Assignment.suggestion_id)
        .outerjoin(Department, Department.id == _holder_department())
        .where(Assignment.resolved_at.is_not(None))
    ).all()
    sums: dict[str, dict[str, list[float]]] = {"dept": {}, "handler": {}}
    for code, assignee, dispatched_at, resolved_at in rows:
        assert resolved_at is not None
        days = (resolved_at - dispatched_at).total_seconds() / 86400
        if code is not None:
            sums["dept"].setdefault(code, []).append(days)
        if assignee is not None:
            sums["handler"].setdefault(assignee, []).append(days)
    return {group: {k: sum(v) / len(v) for k, v in values.items()} for group, values in sums.items()}

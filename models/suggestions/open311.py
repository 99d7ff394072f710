"""Queries behind the Open311 GeoReport v2 endpoints (the mapping to JSON lives in the API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.suggestions.tables import Open311Request, Suggestion
from models.vocabulary import DONE, PUBLIC_CHANNELS


@dataclass(frozen=True)
class RequestFilter:
    """GeoReport v2 filters (already validated)."""

    ids: Sequence[int] = ()
    service_codes: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: Sequence[str] = ()  # "open" / "closed"
    offset: int = 0
    limit: int = 1000
    internal: bool = False  # list internal channels too (staff only)


def find_requests(session: Session, f: RequestFilter) -> list[tuple[Suggestion, Open311Request | None]]:
    """Suggestions as service requests, newest first. Those without any service code are left out,
    and so are internal channels unless ``f.internal``, whatever the other filters say."""
    code = func.coalesce(Suggestion.category, Open311Request.service_code)
    stmt = (
        select(Suggestion, Open311Request)
        .outerjoin(Open311Request, Open311Request.suggestion_id == Suggestion.id)
        .where(code.is_not(None))
    )
    if not f.internal:
        stmt = stmt.where(Suggestion.channel.in_(PUBLIC_CHANNELS))
    if f.ids:
        stmt = stmt.where(Suggestion.id.in_(f.ids))
    else:
        if f.service_codes:
            stmt = stmt.where(code.in_(f.service_codes))
        if f.start is not None:
            stmt = stmt.where(Suggestion.submitted_at >= f.start)
        if f.end is not None:
            stmt = stmt.where(Suggestion.submitted_at <= f.end)
        if set(f.statuses) == {"closed"}:
            stmt = stmt.where(Suggestion.status.in_(DONE))
        elif set(f.statuses) == {"open"}:
            stmt = stmt.where(or_(Suggestion.status.not_in(DONE)))
    stmt = stmt.order_by(Suggestion.submitted_at.desc(), Suggestion.id.desc()).offset(f.offset).limit(f.limit)
    return [(row[0], row[1]) for row in session.execute(stmt)]

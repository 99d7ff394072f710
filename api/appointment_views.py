"""Appointments (乡长有约) as the API and the pages show them."""

from __future__ import annotations

from datetime import datetime, time

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from models.appointments import flow
from models.appointments.tables import AppointmentRequest

MEETING_TIME = time(flow.SESSION_HOUR)  # a meeting accepted for a day without a time


END_OF_DAY = time(23, 59, 59)  # an item due on a day is due by its end


def item_out(i: flow.ItemView) -> ItemOut:
    """The API shape of an agenda item."""
    return ItemOut(**i.__dict__)


def request_out(session: Session, request: AppointmentRequest) -> RequestOut:
    """A request with its stages."""
    views = flow.items(session, request_ids=[request.id])
    reached = flow.stages_reached(request, views)
    return RequestOut(
        id=request.id,
        origin=request.origin,
        mode=request.mode,
        title=request.title,
        detail=request.detail,
        requested_by=request.requested_by,
        links={k: list(v) for k, v in (request.links or {}).items()},
        state=request.state,
        session_id=request.session_id,
        decline_reason=request.decline_reason,
        visited_at=request.visited_at,
        visit_note=request.visit_note,
        stages=[StageOut(key=k, zh=zh, en=en, reached=k in reached) for k, zh, en in flow.STAGES],
        stage=flow.STAGES[flow.stage_index(request, views)][0],
        items=[item_out(i) for i in views],
    )


class StageOut(BaseModel):
    """One of the six stages and whether it happened."""

    key: str
    zh: str
    en: str
    reached: bool


class ItemOut(BaseModel):
    """An agenda item and its workflow state."""

    id: int
    session_id: int
    request_id: int | None
    suggestion_id: int = Field(description="Handle it with /api/v1/suggestions/{suggestion_id}/accept etc.")
    title: str
    actions: str
    status: str
    department_code: str | None
    due_at: datetime | None
    satisfaction: int | None
    satisfaction_comment: str | None


class RequestOut(BaseModel):
    """A request with its stages and items."""

    id: int
    origin: str
    mode: str
    title: str
    detail: str | None
    requested_by: str
    links: dict[str, list[int]]
    state: str
    session_id: int | None
    decline_reason: str | None
    visited_at: datetime | None
    visit_note: str | None = None
    stages: list[StageOut]
    stage: str
    items: list[ItemOut]

"""Pydantic shapes of the workflow, board, admin and satisfaction endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.ids import BodyId


class DispatchIn(BaseModel):
    """Where to send a suggestion: a department code, or a deputy for point-to-point dispatch."""

    department_code: str | None = Field(None, description="Default: the department routing chose.")
    deputy_id: BodyId | None = Field(None, description="Dispatch to this deputy instead of a department.")
    note: str | None = None


class NoteIn(BaseModel):
    """An optional free-text note."""

    note: str | None = None


class ResolveIn(BaseModel):
    """The result note is required: it is what the villager reads."""

    result_note: str


class ReturnIn(BaseModel):
    """Why the suggestion goes back to triage (required)."""

    reason: str


class ExtensionIn(BaseModel):
    """More days asked for, and why."""

    days: int = Field(ge=1, le=90)
    reason: str


class ExtensionOut(BaseModel):
    """An extension request and its decision."""

    id: int
    suggestion_id: int
    requested_by: str
    requested_at: datetime
    days: int
    reason: str
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    new_due_at: datetime | None


class WorkflowOut(BaseModel):
    """Where a suggestion stands in the workflow."""

    id: int
    tracking_code: str
    status: str
    category: str | None
    department: str | None
    deputy: str | None
    assignee: str | None
    due_at: datetime | None
    overdue: bool
    result_note: str | None
    satisfaction: int | None
    satisfaction_comment: str | None
    allowed_actions: list[str] = Field(description="Transitions the status allows, whoever acts.")
    your_actions: list[str] = Field(
        description="Actions the person asking may take now (role, holder and deadline checked)."
    )
    extensions: list[ExtensionOut]


class RatingIn(BaseModel):
    """A villager's satisfaction, 1 (bad) to 5 (very good), with the rating key from the receipt."""

    score: int
    comment: str | None = None
    key: str | None = Field(
        None, description="The receipt's rating_key; without it the rating is refused (403)."
    )


class OpenItemOut(BaseModel):
    """One open suggestion on the board or chase list."""

    id: int
    tracking_code: str
    status: str
    category: str | None
    department: str | None
    assignee: str | None
    since: datetime
    open_days: float
    due_at: datetime | None
    overdue: bool


class GroupOut(BaseModel):
    """Counts for a department or a handler."""

    key: str
    name_zh: str
    name_en: str
    open: int
    waiting: int
    dispatched: int
    accepted: int
    in_progress: int
    overdue: int
    oldest_since: datetime | None
    resolved: int
    mean_days_to_resolve: float | None
    mean_satisfaction: float | None


class BoardOut(BaseModel):
    """The supervision board."""

    now: datetime
    departments: list[GroupOut]
    handlers: list[GroupOut]
    open: list[OpenItemOut]


class DepartmentIn(BaseModel):
    """Create or rename a department."""

    code: str
    name_zh: str
    name_en: str


class DeputyIn(BaseModel):
    """Create or update a deputy (by user name)."""

    username: str
    name: str | None = None  # the account's display name when left out
    village: str | None = None
    phone: str | None = None
    department_code: str | None = None
    active: bool = True


class DeputyOut(DeputyIn):
    """A deputy."""

    id: int


class RuleIn(BaseModel):
    """Route a category (optionally only in one village) to a department."""

    category: str
    village: str | None = None
    department_code: str


class RuleOut(RuleIn):
    """A routing rule."""

    id: int


class DeadlineIn(BaseModel):
    """A category's deadline in days from dispatch."""

    category: str
    days: int


class AuditOut(BaseModel):
    """One audited admin change."""

    at: datetime
    actor: str
    entity: str
    entity_key: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

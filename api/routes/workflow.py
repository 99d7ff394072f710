"""Workflow, board and admin endpoints (JSON, under /api/v1). Staff only, except the rating."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.ids import PathId
from api.ratelimit import limit_tracking
from api.schemas import DepartmentOut
from api.staff import AdminDep, ClockDep, StaffDep, acting
from api.workflow_schemas import (
    AuditOut,
    BoardOut,
    DeadlineIn,
    DepartmentIn,
    DeputyIn,
    DeputyOut,
    DispatchIn,
    ExtensionIn,
    ExtensionOut,
    GroupOut,
    NoteIn,
    OpenItemOut,
    RatingIn,
    ResolveIn,
    ReturnIn,
    RuleIn,
    RuleOut,
    WorkflowOut,
)
from models.directory import queries as directory
from models.directory.tables import Deputy
from models.reporting import supervision
from models.staff import queries as staff_queries
from models.suggestions import actions, lifecycle, queries, rating
from models.suggestions.actions import ActionInput
from models.suggestions.lifecycle import Actor
from models.suggestions.tables import ExtensionRequest

router = APIRouter(prefix="/api/v1", tags=["workflow"])


def extension_out(request: ExtensionRequest) -> ExtensionOut:
    """The API shape of an extension request."""
    return ExtensionOut(
        id=request.id,
        suggestion_id=request.suggestion_id,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        days=request.days,
        reason=request.reason,
        state=request.state,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        decision_note=request.decision_note,
        new_due_at=request.new_due_at,
    )


def workflow_out(session: Session, suggestion_id: int, now: datetime, actor: Actor) -> WorkflowOut:
    """Where a suggestion stands, for staff, with the actions this person may take now."""
    s = queries.get_suggestion(session, suggestion_id)
    assignment = lifecycle.assignment_of(session, s.id)
    return WorkflowOut(
        id=s.id,
        tracking_code=s.tracking_code,
        status=s.status,
        category=s.category,
        department=s.department.code if s.department else None,
        deputy=assignment.deputy.username if assignment and assignment.deputy else None,
        assignee=s.assignee,
        due_at=s.due_at,
        overdue=supervision.is_overdue(s, now),
        result_note=s.result_note,
        satisfaction=s.satisfaction,
        satisfaction_comment=s.satisfaction_comment,
        allowed_actions=lifecycle.allowed_actions(s.status),
        your_actions=actions.available(session, s, actor, now),
        extensions=[extension_out(r) for r in lifecycle.extension_requests(session, s.id)],
    )


def _act(
    name: str, suggestion_id: int, session: Session, actor: Actor, now: datetime, given: ActionInput
) -> WorkflowOut:
    actions.perform(session, name, suggestion_id, actor=actor, now=now, given=given)
    return workflow_out(session, suggestion_id, now, actor)


@router.get("/suggestions/{suggestion_id}/workflow", response_model=WorkflowOut)
def read_workflow(
    suggestion_id: PathId, session: SessionDep, actor: StaffDep, clock: ClockDep
) -> WorkflowOut:
    """Status, holder, deadline, allowed next actions and extension requests of a suggestion."""
    return workflow_out(session, suggestion_id, clock(), actor)


@router.post("/suggestions/{suggestion_id}/dispatch", response_model=WorkflowOut)
def dispatch(
    suggestion_id: PathId,
    body: DispatchIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("dispatch"))],
    clock: ClockDep,
) -> WorkflowOut:
    """Dispatch a routed suggestion to a department or point-to-point to a deputy (admin)."""
    given = ActionInput(department_code=body.department_code, deputy_id=body.deputy_id, note=body.note)
    return _act("dispatch", suggestion_id, session, actor, clock(), given)


@router.post("/suggestions/{suggestion_id}/accept", response_model=WorkflowOut)
def accept(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("accept"))],
    clock: ClockDep,
) -> WorkflowOut:
    """Sign for a dispatched suggestion (签收)."""
    return _act("accept", suggestion_id, session, actor, clock(), ActionInput())


@router.post("/suggestions/{suggestion_id}/start", response_model=WorkflowOut)
def start(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("start"))],
    clock: ClockDep,
) -> WorkflowOut:
    """Mark an accepted suggestion as in progress."""
    return _act("start", suggestion_id, session, actor, clock(), ActionInput())


@router.post("/suggestions/{suggestion_id}/resolve", response_model=WorkflowOut)
def resolve(
    suggestion_id: PathId,
    body: ResolveIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("resolve"))],
    clock: ClockDep,
) -> WorkflowOut:
    """Finish the work (办结) with a result note for the villager."""
    return _act("resolve", suggestion_id, session, actor, clock(), ActionInput(result_note=body.result_note))


@router.post("/suggestions/{suggestion_id}/close", response_model=WorkflowOut)
def close(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("close"))],
    clock: ClockDep,
) -> WorkflowOut:
    """Close a resolved suggestion (admin; a villager's rating closes it too)."""
    return _act("close", suggestion_id, session, actor, clock(), ActionInput())


@router.post("/suggestions/{suggestion_id}/return", response_model=WorkflowOut)
def return_(
    suggestion_id: PathId,
    body: ReturnIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("return"))],
    clock: ClockDep,
) -> WorkflowOut:
    """Send a suggestion back to triage (退单) with a reason."""
    return _act("return", suggestion_id, session, actor, clock(), ActionInput(reason=body.reason))


@router.post("/suggestions/{suggestion_id}/extensions", response_model=ExtensionOut, status_code=201)
def request_extension(
    suggestion_id: PathId,
    body: ExtensionIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("extend"))],
    clock: ClockDep,
) -> ExtensionOut:
    """Ask for more time (延期); an admin must approve it."""
    given = ActionInput(days=body.days, reason=body.reason)
    request = actions.perform(session, "extend", suggestion_id, actor=actor, now=clock(), given=given)
    assert isinstance(request, ExtensionRequest)
    return extension_out(request)


@router.get("/extensions", response_model=list[ExtensionOut])
def pending_extensions(session: SessionDep, actor: AdminDep) -> list[ExtensionOut]:
    """Extension requests waiting for a decision."""
    return [extension_out(r) for r in lifecycle.extension_requests(session)]


def _decide(
    name: str, request_id: int, session: Session, actor: Actor, now: datetime, note: str | None
) -> ExtensionOut:
    request = actions.perform(session, name, request_id, actor=actor, now=now, given=ActionInput(note=note))
    assert isinstance(request, ExtensionRequest)
    return extension_out(request)


@router.post("/extensions/{request_id}/approve", response_model=ExtensionOut)
def approve_extension(
    request_id: PathId,
    body: NoteIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("approve_extension"))],
    clock: ClockDep,
) -> ExtensionOut:
    """Approve an extension: the deadline moves by the days asked."""
    return _decide("approve_extension", request_id, session, actor, clock(), body.note)


@router.post("/extensions/{request_id}/reject", response_model=ExtensionOut)
def reject_extension(
    request_id: PathId,
    body: NoteIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("reject_extension"))],
    clock: ClockDep,
) -> ExtensionOut:
    """Reject an extension: the deadline stays."""
    return _decide("reject_extension", request_id, session, actor, clock(), body.note)


@router.post("/suggestions/{suggestion_id}/chase", response_model=WorkflowOut)
def chase(
    suggestion_id: PathId,
    body: NoteIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("chase"))],
    clock: ClockDep,
) -> WorkflowOut:
    """Record a reminder (催办) for an overdue suggestion."""
    return _act("chase", suggestion_id, session, actor, clock(), ActionInput(note=body.note))


def open_item_out(item: supervision.OpenItem, now: datetime) -> OpenItemOut:
    """The API shape of an open item."""
    return OpenItemOut(
        id=item.id,
        tracking_code=item.tracking_code,
        status=item.status,
        category=item.category,
        department=item.department_code,
        assignee=item.assignee,
        since=item.since,
        open_days=round(item.age(now).total_seconds() / 86400, 2),
        due_at=item.due_at,
        overdue=item.overdue,
    )


def _group_out(row: supervision.GroupRow) -> GroupOut:
    return GroupOut(open=row.open, **{k: getattr(row, k) for k in GroupOut.model_fields if k != "open"})


@router.get("/board", response_model=BoardOut)
def board(session: SessionDep, actor: StaffDep, clock: ClockDep) -> BoardOut:
    """Per department and per handler: open, since when, how long, overdue; and the open list."""
    now = clock()
    departments, handlers = supervision.board(session, now)
    return BoardOut(
        now=now,
        departments=[_group_out(d) for d in departments],
        handlers=[_group_out(h) for h in handlers],
        open=[open_item_out(i, now) for i in supervision.open_items(session, now)],
    )


@router.get("/overdue", response_model=list[OpenItemOut])
def overdue(session: SessionDep, actor: StaffDep, clock: ClockDep) -> list[OpenItemOut]:
    """The chase list (催办): overdue suggestions, most overdue first."""
    now = clock()
    return [open_item_out(i, now) for i in supervision.chase_list(session, now)]


@router.post(
    "/track/{tracking_code}/satisfaction",
    response_model=dict[str, int | str],
    tags=["villagers"],
    dependencies=[Depends(limit_tracking)],
)
def rate(tracking_code: str, body: RatingIn, session: SessionDep, clock: ClockDep) -> dict[str, int | str]:
    """The villager rates the handling 1–5 (once, after it is resolved) with the receipt's rating key.

    The tracking code alone is not enough (staff read tracking codes): a missing or wrong ``key``
    is 403, and appointment topics are rated only by their deputy (/appointments/items/{id}/rating).
    """
    s = rating.rate_as_villager(
        session, tracking_code, body.key, score=body.score, comment=body.comment, now=clock()
    )
    return {"tracking_code": s.tracking_code, "satisfaction": body.score, "status": s.status}


# --- admin data -----------------------------------------------------------------------------------


@router.get("/admin/departments", response_model=list[DepartmentOut], tags=["admin"])
def list_departments(session: SessionDep, actor: StaffDep) -> list[DepartmentOut]:
    """All departments."""
    return [
        DepartmentOut(code=d.code, name_zh=d.name_zh, name_en=d.name_en)
        for d in directory.departments(session)
    ]


@router.put("/admin/departments", response_model=DepartmentOut, tags=["admin"])
def save_department(
    body: DepartmentIn, session: SessionDep, actor: AdminDep, clock: ClockDep
) -> DepartmentOut:
    """Create a department or rename one (audited)."""
    d = directory.save_department(
        session, actor=actor.username, now=clock(), code=body.code, name_zh=body.name_zh, name_en=body.name_en
    )
    return DepartmentOut(code=d.code, name_zh=d.name_zh, name_en=d.name_en)


def deputy_out(d: Deputy) -> DeputyOut:
    """The API shape of a deputy."""
    return DeputyOut(
        id=d.id,
        username=d.username,
        name=d.name,
        village=d.village,
        phone=d.phone,
        department_code=d.department.code if d.department else None,
        active=d.active,
    )


@router.get("/admin/deputies", response_model=list[DeputyOut], tags=["admin"])
def list_deputies(session: SessionDep, actor: StaffDep) -> list[DeputyOut]:
    """All deputies."""
    return [deputy_out(d) for d in directory.deputies(session)]


@router.put("/admin/deputies", response_model=DeputyOut, tags=["admin"])
def save_deputy(body: DeputyIn, session: SessionDep, actor: AdminDep, clock: ClockDep) -> DeputyOut:
    """Create or update a deputy (audited); ``active: false`` retires them."""
    return deputy_out(
        staff_queries.save_deputy(session, actor=actor.username, now=clock(), **body.model_dump())
    )


@router.get("/admin/routing-rules", response_model=list[RuleOut], tags=["admin"])
def list_rules(session: SessionDep, actor: StaffDep) -> list[RuleOut]:
    """All routing rules."""
    return [
        RuleOut(id=r.id, category=r.category, village=r.village, department_code=r.department.code)
        for r in directory.routing_rules(session)
    ]


@router.put("/admin/routing-rules", response_model=RuleOut, tags=["admin"])
def save_rule(body: RuleIn, session: SessionDep, actor: AdminDep, clock: ClockDep) -> RuleOut:
    """Route a category (optionally in one village) to a department (audited)."""
    r = directory.set_routing_rule(session, actor=actor.username, now=clock(), **body.model_dump())
    return RuleOut(id=r.id, category=r.category, village=r.village, department_code=body.department_code)


@router.delete("/admin/routing-rules/{rule_id}", status_code=204, tags=["admin"])
def delete_rule(rule_id: PathId, session: SessionDep, actor: AdminDep, clock: ClockDep) -> None:
    """Remove a village-specific rule (audited)."""
    directory.delete_routing_rule(session, actor=actor.username, now=clock(), rule_id=rule_id)


@router.get("/admin/deadlines", response_model=dict[str, int], tags=["admin"])
def list_deadlines(session: SessionDep, actor: StaffDep) -> dict[str, int]:
    """Days from dispatch to due, per category."""
    return directory.deadlines(session)


@router.put("/admin/deadlines", response_model=dict[str, int], tags=["admin"])
def save_deadline(body: DeadlineIn, session: SessionDep, actor: AdminDep, clock: ClockDep) -> dict[str, int]:
    """Change a category's deadline (audited; applies to later dispatches)."""
    directory.set_deadline(session, actor=actor.username, now=clock(), category=body.category, days=body.days)
    return directory.deadlines(session)


@router.get("/admin/audit", response_model=list[AuditOut], tags=["admin"])
def audit(session: SessionDep, actor: AdminDep) -> list[AuditOut]:
    """The newest admin changes first."""
    return [
        AuditOut(
            at=e.at,
            actor=e.actor,
            entity=e.entity,
            entity_key=e.entity_key,
            action=e.action,
            before=e.before,
            after=e.after,
        )
        for e in directory.audit_log(session)
    ]

"""Staff pages: the supervision board, a suggestion with its workflow actions, and admin data.

Every form posts back here and redirects (303) to the page it came from; errors show as pages.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import SessionDep
from api.ids import PathId, form_id, form_number
from api.staff import AdminDep, ClockDep, StaffDep, acting
from api.web.done import redirect_done
from api.web.templating import render
from models.directory import queries as directory
from models.directory.queries import MAX_DEADLINE_DAYS
from models.errors import N_
from models.reporting import supervision
from models.reviews import queries as rq
from models.staff import queries as staff_queries
from models.suggestions import actions, lifecycle, queries
from models.suggestions.actions import ActionInput
from models.suggestions.contact import may_see_contact, sees_every_contact
from models.suggestions.lifecycle import Actor
from models.suggestions.tables import ExtensionRequest
from models.taxonomy import CATEGORIES
from models.vocabulary import AUDIT_ACTION_NAMES, AUDIT_ENTITY_NAMES, ROLE_NAMES, VILLAGER_STATUS_WORDS, Role

router = APIRouter(prefix="/staff", include_in_schema=False)

OptionalText = Annotated[str | None, Form()]


def _back(suggestion_id: int, done: str) -> RedirectResponse:
    """Back to the suggestion's page, which says that ``done`` (an action's name) is done."""
    return redirect_done(f"/staff/suggestions/{suggestion_id}", done)


@router.get("", response_class=HTMLResponse)
def home_page(request: Request, session: SessionDep, actor: StaffDep, clock: ClockDep) -> HTMLResponse:
    """Where staff land after signing in: what waits for them (我的待办), and links their roles allow."""
    now = clock()
    reviews_waiting = None
    if Role.REVIEWER in actor.roles or Role.ADMIN in actor.roles:
        reviews_waiting, _ = rq.review_queue(session, rq.QueueFilter(), limit=0)
    return render(
        request,
        "staff_home.html",
        {
            "role_names": ROLE_NAMES,
            "now": now,
            "inbox": supervision.inbox(session, now, actor),
            "department": directory.department_by_code(session, actor.department_code)
            if actor.department_code
            else None,
            "reviews_waiting": reviews_waiting,
        },
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, session: SessionDep, actor: StaffDep, q: str = "") -> HTMLResponse:
    """Find a suggestion by tracking code, village, words of its text, or (the township office only)
    the villager's phone number."""
    by_phone = sees_every_contact(actor)
    return render(
        request,
        "staff_search.html",
        {"q": q, "results": queries.search(session, q, by_phone=by_phone), "by_phone": by_phone},
    )


@router.get("/board", response_class=HTMLResponse)
def board_page(
    request: Request, session: SessionDep, actor: StaffDep, clock: ClockDep, department: str | None = None
) -> HTMLResponse:
    """Per department and handler: open, since when, how long, overdue; the open list to chase.

    ``?department=CODE`` narrows the open list to one department.
    """
    now = clock()
    departments, handlers = supervision.board(session, now)
    items = supervision.open_items(session, now, department_code=department or None)
    extensions = lifecycle.extension_requests(session)
    names = staff_queries.display_names(
        session,
        [
            *(g.key for g in handlers),
            *(i.assignee or "" for i in items),
            *(e.requested_by for e in extensions),
        ],
    )
    return render(
        request,
        "staff_board.html",
        {
            "now": now,
            "departments": departments,
            "handlers": [
                replace(g, name_zh=names.get(g.key, g.key), name_en=names.get(g.key, g.key)) for g in handlers
            ],
            "items": items,
            "department": department,
            "extensions": extensions,
            "actor_names": names,
            "status_words": VILLAGER_STATUS_WORDS,
            "actor": actor,
        },
    )


@router.get("/suggestions/{suggestion_id}", response_class=HTMLResponse)
def suggestion_page(
    suggestion_id: PathId,
    request: Request,
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
) -> HTMLResponse:
    """One suggestion: details, rating, history, and the actions its state allows; the villager's
    contact details only for those who may see them (models.contact)."""
    s = queries.get_suggestion(session, suggestion_id)
    assignment = lifecycle.assignment_of(session, s.id)
    history = queries.history(session, s.id)
    extensions = lifecycle.extension_requests(session, s.id)
    people = [*(e.actor for e in history), s.assignee or "", *(e.requested_by for e in extensions)]
    now = clock()
    return render(
        request,
        "staff_suggestion.html",
        {
            "s": s,
            "contact_visible": may_see_contact(session, s, actor),
            "deputy": assignment.deputy if assignment else None,
            "overdue": supervision.is_overdue(s, now),
            "allowed": actions.available(session, s, actor, now),
            "may_decide": actions.may_decide_extensions(actor),
            "departments": directory.departments(session),
            "deputies": directory.deputies(session, active_only=True),
            "extensions": extensions,
            "history": history,
            "actor_names": staff_queries.display_names(session, people),
            "actor": actor,
        },
    )


def _act(
    name: str, target_id: int, session: SessionDep, actor: Actor, clock: ClockDep, given: ActionInput
) -> RedirectResponse:
    """Run the action and go back to the suggestion's page, which says it is done."""
    outcome = actions.perform(session, name, target_id, actor=actor, now=clock(), given=given)
    return _back(outcome.suggestion_id if isinstance(outcome, ExtensionRequest) else target_id, name)


@router.post("/suggestions/{suggestion_id}/dispatch")
def dispatch_form(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("dispatch"))],
    clock: ClockDep,
    department_code: OptionalText = None,
    deputy_id: OptionalText = None,
    note: OptionalText = None,
) -> RedirectResponse:
    """Dispatch to a department or a deputy."""
    given = ActionInput(
        department_code=department_code or None, deputy_id=form_id(deputy_id, N_("deputy number")), note=note
    )
    return _act("dispatch", suggestion_id, session, actor, clock, given)


@router.post("/suggestions/{suggestion_id}/accept")
def accept_form(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("accept"))],
    clock: ClockDep,
) -> RedirectResponse:
    """Sign for it (签收)."""
    return _act("accept", suggestion_id, session, actor, clock, ActionInput())


@router.post("/suggestions/{suggestion_id}/start")
def start_form(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("start"))],
    clock: ClockDep,
) -> RedirectResponse:
    """Start work."""
    return _act("start", suggestion_id, session, actor, clock, ActionInput())


@router.post("/suggestions/{suggestion_id}/resolve")
def resolve_form(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("resolve"))],
    clock: ClockDep,
    result_note: OptionalText = None,
) -> RedirectResponse:
    """Resolve with a result note (办结)."""
    return _act("resolve", suggestion_id, session, actor, clock, ActionInput(result_note=result_note))


@router.post("/suggestions/{suggestion_id}/close")
def close_form(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("close"))],
    clock: ClockDep,
) -> RedirectResponse:
    """Close a resolved suggestion."""
    return _act("close", suggestion_id, session, actor, clock, ActionInput())


@router.post("/suggestions/{suggestion_id}/return")
def return_form(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("return"))],
    clock: ClockDep,
    reason: OptionalText = None,
) -> RedirectResponse:
    """Return to triage (退单) with a reason."""
    return _act("return", suggestion_id, session, actor, clock, ActionInput(reason=reason))


@router.post("/suggestions/{suggestion_id}/extensions")
def extension_form(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("extend"))],
    clock: ClockDep,
    days: Annotated[int, Form()],
    reason: OptionalText = None,
) -> RedirectResponse:
    """Ask for an extension (延期)."""
    return _act("extend", suggestion_id, session, actor, clock, ActionInput(days=days, reason=reason))


@router.post("/suggestions/{suggestion_id}/chase")
def chase_form(
    suggestion_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("chase"))],
    clock: ClockDep,
    note: OptionalText = None,
) -> RedirectResponse:
    """Record a reminder (催办)."""
    return _act("chase", suggestion_id, session, actor, clock, ActionInput(note=note))


@router.post("/extensions/{request_id}/approve")
def approve_form(
    request_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("approve_extension"))],
    clock: ClockDep,
    note: OptionalText = None,
) -> RedirectResponse:
    """Approve an extension request."""
    return _act("approve_extension", request_id, session, actor, clock, ActionInput(note=note))


@router.post("/extensions/{request_id}/reject")
def reject_form(
    request_id: PathId,
    session: SessionDep,
    actor: Annotated[Actor, Depends(acting("reject_extension"))],
    clock: ClockDep,
    note: OptionalText = None,
) -> RedirectResponse:
    """Reject an extension request."""
    return _act("reject_extension", request_id, session, actor, clock, ActionInput(note=note))


# --- admin ----------------------------------------------------------------------------------------


def _admin_back(done: str) -> RedirectResponse:
    return redirect_done("/staff/admin", done)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, session: SessionDep, actor: AdminDep) -> HTMLResponse:
    """Departments, deputies, routing rules, deadlines and the audit trail."""
    return render(
        request,
        "staff_admin.html",
        {
            "departments": directory.departments(session),
            "deputies": directory.deputies(session),
            "deputy_accounts": staff_queries.deputies_to_add(session),
            "rules": directory.routing_rules(session),
            "deadlines": directory.deadlines(session),
            "categories": CATEGORIES,
            "audit": directory.audit_log(session, 100),
            "audit_entities": AUDIT_ENTITY_NAMES,
            "audit_actions": AUDIT_ACTION_NAMES,
            "actor": actor,
        },
    )


@router.post("/admin/departments")
def department_form(
    session: SessionDep,
    actor: AdminDep,
    clock: ClockDep,
    code: Annotated[str, Form()],
    name_zh: OptionalText = None,
    name_en: OptionalText = None,
) -> RedirectResponse:
    """Add or rename a department."""
    directory.save_department(
        session, actor=actor.username, now=clock(), code=code, name_zh=name_zh, name_en=name_en
    )
    return _admin_back("department")


@router.post("/admin/deputies")
def deputy_form(
    session: SessionDep,
    actor: AdminDep,
    clock: ClockDep,
    username: Annotated[str, Form()],
    name: OptionalText = None,
    village: OptionalText = None,
    phone: OptionalText = None,
    department_code: OptionalText = None,
    active: OptionalText = None,
) -> RedirectResponse:
    """Add or update a deputy (unticking "active" retires them)."""
    staff_queries.save_deputy(
        session,
        actor=actor.username,
        now=clock(),
        username=username,
        name=name,
        village=village,
        phone=phone,
        department_code=department_code or None,
        active=bool(active),
    )
    return _admin_back("deputy")


@router.post("/admin/rules")
def rule_form(
    session: SessionDep,
    actor: AdminDep,
    clock: ClockDep,
    category: Annotated[str, Form()],
    department_code: Annotated[str, Form()],
    village: OptionalText = None,
) -> RedirectResponse:
    """Add or change a routing rule."""
    directory.set_routing_rule(
        session,
        actor=actor.username,
        now=clock(),
        category=category,
        village=village,
        department_code=department_code,
    )
    return _admin_back("rule")


@router.post("/admin/rules/{rule_id}/delete")
def rule_delete_form(
    rule_id: PathId, session: SessionDep, actor: AdminDep, clock: ClockDep
) -> RedirectResponse:
    """Remove a village-specific rule."""
    directory.delete_routing_rule(session, actor=actor.username, now=clock(), rule_id=rule_id)
    return _admin_back("rule_deleted")


@router.post("/admin/deadlines")
async def deadlines_form(
    request: Request, session: SessionDep, actor: AdminDep, clock: ClockDep
) -> RedirectResponse:
    """Save every category's deadline that changed."""
    form = await request.form()
    current = directory.deadlines(session)
    now = clock()
    for cat in CATEGORIES:
        raw = form.get(f"days_{cat.code}")
        if not isinstance(raw, str) or not raw.strip():
            continue
        days = form_number(raw, f"deadline for {cat.en} (days)", low=1, high=MAX_DEADLINE_DAYS)
        if days != current[cat.code]:
            directory.set_deadline(session, actor=actor.username, now=now, category=cat.code, days=days)
    return _admin_back("deadlines")

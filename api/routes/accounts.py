"""The administrator's page: staff accounts, their roles and department, and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import accounts, i18n
from api.accounts import ADMIN, ROLES, AccountExists, Staff
from api.auth import require_roles
from api.deps import SessionDep
from api.errors import status_for
from api.ids import PathId
from api.web.done import redirect_done
from api.web.templating import render
from models.errors import InvalidInput
from models.staff import queries as staff_queries
from models.vocabulary import ROLE_NAMES

router = APIRouter(prefix="/staff", include_in_schema=False)
AdminDep = Annotated[Staff, Depends(require_roles(ADMIN))]


def _page(request: Request, session: Session, status_code: int = 200, **extra: Any) -> Response:
    accounts_rows = [
        {"account": a, "tokens": staff_queries.tokens_of(session, a.id)}
        for a in staff_queries.list_staff(session)
    ]
    values = {
        "rows": accounts_rows,
        "roles": ROLES,
        "role_names": ROLE_NAMES,
        "departments": staff_queries.list_departments(session),
        "error": None,
        "new_token": None,
        **extra,
    }
    return render(request, "staff_accounts.html", values, status_code=status_code)


def _back() -> Response:
    return redirect_done("/staff/accounts", "account")


@router.get("/accounts")
def accounts_page(request: Request, session: SessionDep, admin: AdminDep) -> Response:
    """Every account with its roles, department, state and tokens."""
    return _page(request, session)


@router.post("/accounts")
def create_account(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    department_code: Annotated[str, Form(max_length=64)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create an account; a refused one re-shows the page with the reason."""
    try:
        accounts.create_staff(
            session,
            username=username,
            password=password,
            roles=roles or [],
            display_name=display_name,
            department_code=department_code or None,
        )
    except (InvalidInput, AccountExists) as exc:
        return _page(
            request, session, status_for(exc), error=i18n.error_text(exc, i18n.page_language(request))
        )
    return _back()


@router.post("/accounts/{staff_id}")
def update_account(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    staff_id: PathId,
    display_name: Annotated[str, Form(max_length=200)] = "",
    department_code: Annotated[str, Form(max_length=64)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    active: Annotated[str, Form(max_length=10)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Change roles, department, name or password; unticking "active" disables the account."""
    try:
        accounts.update_staff(
            session,
            staff_id,
            display_name=display_name,
            roles=roles or [],
            department_code=department_code or None,
            active=active in ("on", "true", "1"),
            new_password=new_password or None,
        )
    except InvalidInput as exc:
        return _page(
            request, session, status_for(exc), error=i18n.error_text(exc, i18n.page_language(request))
        )
    return _back()


@router.post("/accounts/{staff_id}/tokens")
def create_token(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    staff_id: PathId,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Make an API token for the account; the page shows it once."""
    try:
        token = accounts.create_api_token(session, staff_id, name)
    except InvalidInput as exc:
        return _page(
            request, session, status_for(exc), error=i18n.error_text(exc, i18n.page_language(request))
        )
    account = staff_queries.get_staff(session, staff_id)
    response = _page(
        request, session, 201, new_token={"token": token, "username": account.username, "name": name}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/tokens/{token_id}/revoke")
def revoke_token(session: SessionDep, admin: AdminDep, token_id: PathId) -> Response:
    """Revoke a token: it stops working at once."""
    accounts.revoke_api_token(session, token_id)
    return _back()

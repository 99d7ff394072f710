"""Staff sign-in and sign-out, the staff home page, and "who am I" for API clients."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api import accounts
from api.accounts import ROLE_NAMES, CsrfRejected, LoginFailed, Staff
from api.auth import (
    SESSION_COOKIE,
    check_pre_session_csrf,
    clear_session_cookie,
    require_roles,
    set_session_cookie,
)
from api.deps import ContextDep
from api.ratelimit import TooManyRequests, enforce, limits_of
from api.web.templating import render
from models.db import unit_of_work

router = APIRouter()


class StaffOut(BaseModel):
    """The signed-in staff member."""

    id: int
    username: str
    display_name: str
    roles: list[str]
    department_code: str | None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never ``//host`` or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/staff"
    return target


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return render(request, "login.html", {"next": safe_next(next), "error": None, "username": ""})


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    context: ContextDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/staff",
) -> Response:
    """Check the password; on success start a session and go to ``next``."""
    lifetime = timedelta(hours=context.settings.session_hours)
    page = {"next": safe_next(next), "error": None, "username": username}
    try:
        enforce(limits_of(request).login, request, "sign-in attempts")
    except TooManyRequests as exc:
        response = render(request, "login.html", {**page, "error": exc.detail}, status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    def sign_in() -> accounts.SessionStart:
        check_pre_session_csrf(request, csrf_token)
        with unit_of_work(context.factory) as session:
            staff = accounts.authenticate(session, username, password)
        # A separate unit of work: the last-login time stays recorded even if the session insert fails.
        with unit_of_work(context.factory) as session:
            previous = request.cookies.get(SESSION_COOKIE)
            if previous:  # a new sign-in replaces this browser's old session
                accounts.end_session(session, previous)
            return accounts.start_session(session, staff, lifetime)

    try:
        started = await run_in_threadpool(sign_in)
    except (LoginFailed, CsrfRejected) as exc:
        status = 403 if isinstance(exc, CsrfRejected) else 401
        return render(request, "login.html", {**page, "error": exc.detail}, status_code=status)
    redirect = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, redirect, started, lifetime)
    return redirect


@router.post("/logout", include_in_schema=False)
def logout(
    request: Request, context: ContextDep, staff: Annotated[Staff, Depends(require_roles())]
) -> Response:
    """End this browser's session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with unit_of_work(context.factory) as session:
            accounts.end_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


@router.get("/staff", include_in_schema=False)
def staff_home(request: Request, staff: Annotated[Staff, Depends(require_roles())]) -> Response:
    """The page staff land on after signing in: links to what their roles allow."""
    return render(request, "staff_home.html", {"role_names": ROLE_NAMES})


@router.get("/api/v1/staff/me", response_model=StaffOut, tags=["staff"])
def me(staff: Annotated[Staff, Depends(require_roles())]) -> StaffOut:
    """The staff member the session or API token belongs to."""
    return StaffOut(
        id=staff.id,
        username=staff.username,
        display_name=staff.display_name,
        roles=sorted(staff.roles),
        department_code=staff.department_code,
    )

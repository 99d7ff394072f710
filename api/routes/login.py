"""Staff sign-in and sign-out, the staff home page, and "who am I" for API clients.

Sign-in attempts are limited per address and, for failed ones, per account (api.ratelimit). So
that nobody can keep an account (the administrator's, say) paused by sending wrong passwords for
it, a browser that signed in to the account before carries a device cookie (OWASP's "device
cookie": a random id signed with a key derived from the account's password hash) and counts in a
bucket of its own. A new password voids the account's device cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import accounts, i18n
from api.accounts import CsrfRejected, LoginFailed, Staff
from api.auth import (
    SESSION_COOKIE,
    check_pre_session_csrf,
    clear_session_cookie,
    cookie_secure,
    require_roles,
    set_session_cookie,
)
from api.deps import ContextDep
from api.errors import status_for
from api.ratelimit import TooManyRequests, count_sign_in, uncount_sign_in
from api.web.templating import render
from models.db import unit_of_work
from models.staff import queries as staff_queries

router = APIRouter()

DEVICE_COOKIE = "minsheng_device"
DEVICE_COOKIE_DAYS = 180
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


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


def _device_proof(username: str, device_id: str, password_hash: str) -> str:
    """The device id's signature for the account, keyed by its password hash (a server secret)."""
    key = hashlib.sha256(b"minsheng sign-in device\0" + password_hash.encode()).digest()
    return hmac.new(key, f"{username}\0{device_id}".encode(), hashlib.sha256).hexdigest()


def _attempt_bucket(request: Request, context: ContextDep, username: str) -> str:
    """The rate-limit bucket a sign-in attempt counts in: this browser's own when its device
    cookie shows it signed in to this account before, else the account's (blocking)."""
    name = username.strip()
    device_id, _, proof = request.cookies.get(DEVICE_COOKIE, "").partition(".")
    if _DEVICE_ID.match(device_id) and proof:
        with unit_of_work(context.factory) as session:
            account = staff_queries.staff_by_username(session, name)
            if account is not None and hmac.compare_digest(
                proof.encode(), _device_proof(account.username, device_id, account.password_hash).encode()
            ):
                return f"device:{device_id}"
    return f"account:{name.casefold()}"


def _new_device_cookie(session: Session, username: str) -> str:
    """A device cookie for the account just signed in to, in the sign-in's session (blocking)."""
    account = staff_queries.staff_by_username(session, username)
    if account is None:
        return ""
    device_id = secrets.token_urlsafe(24)
    return f"{device_id}.{_device_proof(account.username, device_id, account.password_hash)}"


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

    def sign_in() -> tuple[accounts.SessionStart, str]:
        check_pre_session_csrf(request, csrf_token)
        bucket = _attempt_bucket(request, context, username)
        count_sign_in(request, bucket)
        try:
            with unit_of_work(context.factory) as session:
                staff = accounts.authenticate(session, username, password)
                device = _new_device_cookie(session, staff.username)
        except LoginFailed:
            raise
        except BaseException:  # the server failed, not the password: the attempt does not count
            uncount_sign_in(request, bucket)
            raise
        uncount_sign_in(request, bucket)
        # A separate unit of work: the last-login time stays recorded even if the session insert fails.
        with unit_of_work(context.factory) as session:
            previous = request.cookies.get(SESSION_COOKIE)
            if previous:  # a new sign-in replaces this browser's old session
                accounts.end_session(session, previous)
            return accounts.start_session(session, staff, lifetime), device

    try:
        started, device = await run_in_threadpool(sign_in)
    except (TooManyRequests, LoginFailed, CsrfRejected) as exc:
        response = render(
            request,
            "login.html",
            {**page, "error": i18n.error_text(exc, i18n.page_language(request))},
            status_code=status_for(exc),
        )
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    redirect = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, redirect, started, lifetime)
    if device:
        redirect.set_cookie(
            DEVICE_COOKIE,
            device,
            max_age=DEVICE_COOKIE_DAYS * 86400,
            httponly=True,
            samesite="lax",
            secure=cookie_secure(request),
            path="/login",
        )
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

"""Who is asking: staff sign-in by session cookie or API token, role checks, CSRF protection.

Use ``staff: Annotated[Staff, Depends(require_roles("reviewer"))]`` on any staff endpoint. Admins
pass every role check; ``require_roles()`` with no role admits any signed-in staff member (an
account holding one of ``ANY_STAFF``: a transcription client alone is not staff). The
busiest staff read (one suggestion, GET) uses ``staff_gate()`` instead: the same checks and
answers, run by the endpoint inside its own unit of work, which saves a database transaction and
a thread-pool hop per request (about a tenth of that read's server CPU).

- Browsers sign in at ``/login`` and get an HttpOnly, SameSite=Lax session cookie whose token is
  stored only as a sha256 in ``staff_sessions`` (logout or disabling the account revokes it).
- Machine clients send ``Authorization: Bearer msk_...`` (API tokens, stored as sha256).
- A request authenticated by the session cookie that changes data (POST/PUT/PATCH/DELETE) must
  carry the session's CSRF token in the form field ``csrf_token`` or the ``X-CSRF-Token`` header.
  Bearer requests are exempt: a browser never adds that header on its own.
- Before sign-in, the login form is protected by a double-submit token: a random value in the
  ``minsheng_csrf`` cookie that the form must repeat.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api import accounts
from api.accounts import (
    ADMIN,
    ANY_STAFF,
    DEPUTY,
    HANDLER,
    REVIEWER,
    ROLES,
    CsrfRejected,
    NotAuthenticated,
    PermissionDenied,
    SessionStart,
    Staff,
)
from api.context import AppContext
from models.db import unit_of_work

__all__ = [
    "ADMIN",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "DEPUTY",
    "HANDLER",
    "REQUIRED_ROLES_ATTR",
    "REVIEWER",
    "ROLES",
    "SESSION_COOKIE",
    "Identity",
    "Staff",
    "StaffGate",
    "check_csrf",
    "identify",
    "page_identity",
    "require_roles",
    "staff_gate",
]

SESSION_COOKIE = "minsheng_session"
CSRF_COOKIE = "minsheng_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
REQUIRED_ROLES_ATTR = "minsheng_required_roles"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}

# Declared for the OpenAPI document (the lock on staff endpoints); the checks are done below.
_bearer_scheme = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer msk_...`")
_cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="A staff session.")
# Parameters of every staff dependency, so the OpenAPI document shows both ways in.
DeclaredBearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)]
DeclaredCookie = Annotated[str | None, Depends(_cookie_scheme)]


@dataclass(frozen=True)
class Identity:
    """A request's authenticated staff member, how it authenticated and its session's CSRF token."""

    staff: Staff
    via: Literal["session", "token"]
    csrf_token: str | None


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if there is one."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def identify(request: Request) -> Identity | None:
    """The staff member behind the bearer token or session cookie (cached on the request).

    A bearer header wins over a cookie. Unknown, revoked, expired or disabled credentials give None.
    Blocking (one indexed query): call it from a thread in async code.
    """
    if hasattr(request.state, "identity"):
        cached: Identity | None = request.state.identity
        return cached
    identity: Identity | None = None
    if _has_credential(request):
        with unit_of_work(_context(request).factory) as session:
            identity = _identify_in(session, request)
    request.state.identity = identity
    return identity


def _has_credential(request: Request) -> bool:
    return bearer_token(request) is not None or bool(request.cookies.get(SESSION_COOKIE))


def _identify_in(session: Session, request: Request) -> Identity | None:
    """identify()'s look-up in an open session (blocking)."""
    token = bearer_token(request)
    if token is not None:
        staff = accounts.token_identity(session, token)
        return Identity(staff, "token", None) if staff else None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = accounts.session_identity(session, cookie)
        return Identity(found[0], "session", found[1]) if found else None
    return None


def _admit(request: Request, identity: Identity | None, roles: tuple[str, ...]) -> Staff:
    """The staff member of ``identity`` if it holds one of ``roles`` (none: any); else the error."""
    if identity is None:
        if bearer_token(request) is not None:
            raise NotAuthenticated(
                "This API token is not valid: it is unknown or revoked, or its account is disabled."
            )
        raise NotAuthenticated("Please sign in with a staff account first.")
    staff = identity.staff
    if not staff.has_role(*(roles or ANY_STAFF)):
        held = ", ".join(sorted(staff.roles)) or "none"
        raise PermissionDenied(
            "Your account (%(username)s, roles: %(held)s) may not do this; it needs the role %(value)s.",
            username=staff.username,
            held=held,
            value=" or ".join(roles or ANY_STAFF),
        )
    request.state.staff = staff
    return staff


async def check_csrf(request: Request, expected: str | None) -> None:
    """Refuse the request unless it carries ``expected`` in the header or the form field."""
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if not sent and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)  # Starlette caches the parsed form
        sent = value if isinstance(value, str) else None
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected(
            "This form has expired or did not come from a minsheng page. Reload the page and try again."
        )


def _check_role_names(roles: tuple[str, ...]) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}; the roles are {ROLES}")


def require_roles(*roles: str) -> Callable[..., Awaitable[Staff]]:
    """A dependency admitting signed-in staff holding any of ``roles`` (admins always; none = any).

    Anonymous → 401 (JSON) or a 303 to ``/login?next=...`` for a browser page; wrong role → 403;
    a session-cookie request that changes data without its CSRF token → 403.
    """
    _check_role_names(roles)

    async def staff_dependency(
        request: Request,
        _bearer: DeclaredBearer,
        _cookie: DeclaredCookie,
    ) -> Staff:
        identity = await run_in_threadpool(identify, request)
        if identity is not None and identity.via == "session" and request.method in UNSAFE_METHODS:
            await check_csrf(request, identity.csrf_token)
        return _admit(request, identity, roles)

    # Lets tests (tests/api/test_endpoint_auth.py) find each route's roles by walking its dependencies.
    setattr(staff_dependency, REQUIRED_ROLES_ATTR, frozenset(roles))
    return staff_dependency


@dataclass(frozen=True)
class StaffGate:
    """A staff check that a read endpoint runs inside its own unit of work (see ``staff_gate``)."""

    request: Request
    roles: tuple[str, ...]

    def admit(self, session: Session) -> Staff:
        """The signed-in staff member holding one of the roles, looked up in ``session``; else
        NotAuthenticated (401) or PermissionDenied (403), as ``require_roles`` gives. Blocking."""
        identity = _identify_in(session, self.request)
        self.request.state.identity = identity
        return _admit(self.request, identity, self.roles)


def staff_gate(*roles: str) -> Callable[..., Awaitable[StaffGate]]:
    """``require_roles`` for the busiest staff reads (GET only): the credential is checked by the
    endpoint, ``gate.admit(session)`` first thing in its own unit of work, instead of in a database
    transaction and thread-pool hop of its own. A request with no credential at all is refused
    here, before any database work.
    """
    _check_role_names(roles)

    async def gate_dependency(
        request: Request,
        _bearer: DeclaredBearer,
        _cookie: DeclaredCookie,
    ) -> StaffGate:
        if request.method in UNSAFE_METHODS:  # a programming error: these need the CSRF check
            raise RuntimeError("staff_gate is for reads; use require_roles on a request that changes data")
        if not _has_credential(request):
            raise NotAuthenticated("Please sign in with a staff account first.")
        return StaffGate(request, roles)

    setattr(gate_dependency, REQUIRED_ROLES_ATTR, frozenset(roles))
    return gate_dependency


# --- cookies ----------------------------------------------------------------------------------------


def cookie_secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: MINSHENG_COOKIE_SECURE if set, else yes unless plain
    http on a loopback host (local development, where a browser would drop a Secure cookie)."""
    setting = _context(request).settings.cookie_secure
    if setting is not None:
        return setting
    host = (request.url.hostname or "").strip("[]").lower()
    loopback = host in _LOOPBACK or host.startswith("127.") or host.endswith(".localhost")
    return not (request.url.scheme == "http" and loopback)


def set_session_cookie(
    request: Request, response: Response, started: SessionStart, lifetime: timedelta
) -> None:
    """Hand the browser its session cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        started.token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    """Make the browser forget its session cookie."""
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request)
    )


def pre_session_csrf(request: Request) -> tuple[str, bool]:
    """The login form's double-submit token: the cookie's value, or a new one (then True)."""
    if hasattr(request.state, "pre_csrf"):
        cached: tuple[str, bool] = request.state.pre_csrf
        return cached
    value = request.cookies.get(CSRF_COOKIE, "")
    result = (value, False) if _TOKEN_SHAPE.match(value) else (accounts.new_token(), True)
    request.state.pre_csrf = result
    return result


def check_pre_session_csrf(request: Request, sent: str) -> None:
    """Refuse a login form whose token does not match the browser's CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not (sent and _TOKEN_SHAPE.match(cookie) and hmac.compare_digest(sent.encode(), cookie.encode())):
        raise CsrfRejected(
            "The sign-in form has expired or did not come from this site. Reload the page and try again."
        )


def set_pre_session_cookie(request: Request, response: Response, value: str) -> None:
    """Store the login form's token in its cookie (a browser session cookie)."""
    response.set_cookie(
        CSRF_COOKIE, value, httponly=True, samesite="lax", secure=cookie_secure(request), path="/"
    )


def page_identity(request: Request) -> tuple[Staff | None, str]:
    """For rendering a page: the signed-in staff member (or None) and the CSRF token forms carry.

    Never raises: an error page must render even when the database is down.
    """
    try:
        identity = identify(request)
    except Exception:
        identity = None
    if identity is not None and identity.via == "session" and identity.csrf_token:
        return identity.staff, identity.csrf_token
    try:
        token, _ = pre_session_csrf(request)
    except Exception:
        token = ""
    return (identity.staff if identity else None), token

"""Staff accounts as the rest of the app sees them: passwords, sessions and API tokens.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 defaults); session and API tokens are
random 256-bit strings of which only the sha256 is stored. Nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from models.db import make_engine, make_session_factory, unit_of_work, upgrade, utcnow
from models.directory import queries as directory
from models.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from models.staff import queries as staff_queries
from models.staff.tables import ApiToken, StaffAccount
from models.vocabulary import STAFF_ROLES, Role

ADMIN, REVIEWER, HANDLER, DEPUTY = Role.ADMIN, Role.REVIEWER, Role.HANDLER, Role.DEPUTY
TRANSCRIBER = Role.TRANSCRIBER
ROLES: tuple[str, ...] = tuple(Role)
#: What "any staff member" must hold (models.vocabulary.STAFF_ROLES).
ANY_STAFF: tuple[str, ...] = STAFF_ROLES
API_TOKEN_PREFIX = "msk_"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class NotAuthenticated(Unauthenticated):
    """No valid session or token came with a request that needs one."""

    kind = "NotAuthenticated"


class PermissionDenied(Forbidden):
    """Signed in, but the account's roles do not allow this."""

    kind = "PermissionDenied"


class CsrfRejected(Forbidden):
    """A form or request changed data without the page's anti-forgery token."""

    kind = "CsrfRejected"


class LoginFailed(Unauthenticated):
    """Wrong username or password, or a disabled account."""

    kind = "LoginFailed"


class AccountExists(Conflict):
    """The username is taken."""

    kind = "AccountExists"


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member a request acts for."""

    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    department_code: str | None

    def has_role(self, *roles: str) -> bool:
        """True if the account holds any of ``roles`` (admins hold every role)."""
        return ADMIN in self.roles or bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        """Whether this is an administrator."""
        return ADMIN in self.roles


def staff_of(account: StaffAccount) -> Staff:
    """The immutable view of a stored account."""
    return Staff(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        roles=account.roles,
        department_code=account.department.code if account.department else None,
    )


def _staff_of_credential(found: staff_queries.LiveCredential) -> Staff:
    """The immutable view of the account a live session or token signs in."""
    return Staff(
        id=found.staff_id,
        username=found.username,
        display_name=found.display_name,
        roles=found.roles,
        department_code=found.department_code,
    )


def sha256_hex(token: str) -> str:
    """How a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str = "") -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return prefix + secrets.token_urlsafe(32)


# --- validation -------------------------------------------------------------------------------------


def clean_username(username: str) -> str:
    """The username, checked: 2–64 letters, digits, dot, dash or underscore."""
    username = username.strip()
    if not _USERNAME.match(username):
        raise InvalidInput(
            "A username is 2 to 64 characters: letters, digits, '.', '-' or '_' (starting "
            "with a letter or digit); '%(username)s' is not.",
            username=username,
        )
    return username


def check_password(password: str) -> None:
    """Refuse passwords that are too short or absurdly long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "The password must have at least %(min_password_length)s characters.",
            min_password_length=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "The password may have at most %(max_password_length)s characters.",
            max_password_length=MAX_PASSWORD_LENGTH,
        )


def clean_roles(roles: Iterable[str]) -> frozenset[str]:
    """The roles, checked against the known ones; at least one is needed."""
    wanted = frozenset(r.strip() for r in roles if r.strip())
    unknown = sorted(wanted - set(ROLES))
    if unknown:
        raise InvalidInput(
            "Unknown role(s) %(unknown)s; the roles are %(roles)s.",
            unknown=", ".join(unknown),
            roles=", ".join(ROLES),
        )
    if not wanted:
        raise InvalidInput("Give the account at least one role: %(roles)s.", roles=", ".join(ROLES))
    return wanted


def _check_handler_department(roles: frozenset[str], department_id: int | None) -> None:
    """A handler acts for one department: without it they could hold and act on nothing."""
    if HANDLER in roles and department_id is None:
        raise InvalidInput(
            "A handler account needs a department: choose the one whose suggestions they handle."
        )


def _department_id(session: Session, code: str | None) -> int | None:
    if code is None or not code.strip():
        return None
    dept = staff_queries.department_by_code(session, code.strip())
    if dept is None:
        known = ", ".join(d.code for d in staff_queries.list_departments(session))
        raise InvalidInput(
            "There is no department '%(code)s'; the departments are %(known)s.", code=code, known=known
        )
    return dept.id


# --- accounts ---------------------------------------------------------------------------------------


def create_staff(
    session: Session,
    *,
    username: str,
    password: str,
    roles: Iterable[str],
    display_name: str | None = None,
    department_code: str | None = None,
) -> Staff:
    """Create an account (password hashed with argon2id). AccountExists if the name is taken."""
    username = clean_username(username)
    check_password(password)
    wanted = clean_roles(roles)
    if staff_queries.staff_by_username(session, username) is not None:
        raise AccountExists("A staff account named '%(username)s' already exists.", username=username)
    department_id = _department_id(session, department_code)
    _check_handler_department(wanted, department_id)
    account = staff_queries.add_staff(
        session,
        username=username,
        display_name=(display_name or "").strip()[:200] or username,
        password_hash=_hasher.hash(password),
        roles=wanted,
        department_id=department_id,
    )
    return staff_of(account)


def update_staff(
    session: Session,
    staff_id: int,
    *,
    display_name: str,
    roles: Iterable[str],
    department_code: str | None,
    active: bool,
    new_password: str | None = None,
) -> Staff:
    """Change an account. Disabling it, or setting a new password, signs it out everywhere."""
    account = staff_queries.get_staff(session, staff_id)
    # Every check comes before the first change, so a refused update leaves the account as it was.
    wanted = clean_roles(roles)
    department_id = _department_id(session, department_code)
    _check_handler_department(wanted, department_id)
    if new_password:
        check_password(new_password)
    if ADMIN in account.roles and account.active and (ADMIN not in wanted or not active):
        others = [a for a in staff_queries.staff_with_role(session, ADMIN) if a.id != account.id]
        if not others:
            raise InvalidInput(
                "This is the last active administrator: make another account an administrator first."
            )
    account.display_name = display_name.strip()[:200] or account.username
    account.department_id = department_id
    staff_queries.set_roles(session, account, wanted)
    if new_password:
        account.password_hash = _hasher.hash(new_password)
    if (not active and account.active) or new_password:
        staff_queries.revoke_sessions_of(session, account.id)
    account.active = active
    account.updated_at = utcnow()
    session.flush()
    return staff_of(account)


def authenticate(session: Session, username: str, password: str) -> Staff:
    """The account if the password is right and the account active; LoginFailed otherwise."""
    account = staff_queries.staff_by_username(session, username.strip())
    if account is None:
        _verify(_DUMMY_HASH, password)
        raise LoginFailed("Wrong username or password.")
    if not _verify(account.password_hash, password):
        raise LoginFailed("Wrong username or password.")
    if not account.active:
        raise LoginFailed("This account has been disabled. Please ask the administrator.")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.last_login_at = utcnow()
    return staff_of(account)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- sessions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionStart:
    """A new session: the cookie's token (shown once) and its CSRF token."""

    token: str
    csrf_token: str
    expires_at: datetime


def start_session(session: Session, staff: Staff, lifetime: timedelta) -> SessionStart:
    """Sign ``staff`` in for ``lifetime``; dead sessions are cleared on the way."""
    staff_queries.delete_dead_sessions(session)
    token, csrf = new_token(), new_token()
    expires = utcnow() + lifetime
    staff_queries.add_session(session, staff.id, sha256_hex(token), csrf, expires)
    return SessionStart(token, csrf, expires)


def session_identity(session: Session, token: str) -> tuple[Staff, str] | None:
    """The staff member and CSRF token of a live session cookie, or None."""
    found = staff_queries.live_session(session, sha256_hex(token))
    if found is None or found.csrf_token is None:
        return None
    return _staff_of_credential(found), found.csrf_token


def end_session(session: Session, token: str) -> None:
    """Log a session out (its row stays revoked until the next clean-up)."""
    staff_queries.revoke_session(session, sha256_hex(token))


# --- API tokens -------------------------------------------------------------------------------------


def create_api_token(session: Session, staff_id: int, name: str) -> str:
    """Make a token for a machine client acting as ``staff_id``; returns it (it is not stored)."""
    account = staff_queries.get_staff(session, staff_id)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("Give the token a name of 1 to 200 characters (what will use it).")
    if not account.active:
        raise InvalidInput(
            "The account '%(username)s' is disabled; enable it first.", username=account.username
        )
    token = new_token(API_TOKEN_PREFIX)
    staff_queries.add_api_token(
        session, staff_id, name, sha256_hex(token), token[: len(API_TOKEN_PREFIX) + 6]
    )
    return token


def token_identity(session: Session, token: str) -> Staff | None:
    """The staff member a bearer token acts for, or None if unknown, revoked or disabled."""
    found = staff_queries.live_api_token(session, sha256_hex(token))
    if found is None:
        return None
    now = utcnow()
    # Record use at most once a minute, so busy clients do not write on every request.
    if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
        staff_queries.touch_api_token(session, found.credential_id, now)
    return _staff_of_credential(found)


def revoke_api_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token by id."""
    return staff_queries.revoke_api_token(session, token_id)


def create_token_for(session: Session, username: str, name: str) -> str:
    """A new API token for the account named ``username`` (the CLI's ``create-token``)."""
    account = staff_queries.staff_by_username(session, username.strip())
    if account is None:
        raise InvalidInput("There is no staff account named '%(username)s'.", username=username)
    return create_api_token(session, account.id, name)


# --- opening the database outside the server --------------------------------------------------------


def open_database(database_url: str) -> Engine:
    """An engine on an up-to-date schema with the default departments (for CLI commands)."""
    engine = make_engine(database_url)
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        directory.seed_departments(session)
    return engine

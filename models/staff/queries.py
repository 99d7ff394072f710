"""Reads and writes of staff accounts, sessions and API tokens. Callers pass a Session; nothing commits.

Secrets never reach this module in the clear except as their sha256 (tokens) or argon2 hash
(passwords): hashing is the caller's job, so the database never holds anything that signs in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from models.db import utcnow
from models.directory import queries as directory
from models.directory.tables import Department, Deputy
from models.errors import InvalidInput, NotFound
from models.staff.tables import ApiToken, StaffAccount, StaffRole, StaffSession
from models.vocabulary import Role


def department_by_code(session: Session, code: str) -> Department | None:
    """The department with this code, if any."""
    return session.scalar(select(Department).where(Department.code == code))


def list_departments(session: Session) -> Sequence[Department]:
    """Every department, by code."""
    return session.scalars(select(Department).order_by(Department.code)).all()


def add_staff(
    session: Session,
    *,
    username: str,
    display_name: str,
    password_hash: str,
    roles: Iterable[str],
    department_id: int | None = None,
) -> StaffAccount:
    """Insert an active account with its roles."""
    now = utcnow()
    account = StaffAccount(
        username=username,
        display_name=display_name,
        password_hash=password_hash,
        department_id=department_id,
        active=True,
        created_at=now,
        updated_at=now,
        role_rows=[StaffRole(role=r) for r in sorted(set(roles))],
    )
    session.add(account)
    session.flush()
    return account


def staff_by_username(session: Session, username: str) -> StaffAccount | None:
    """The account with this username (exact match), if any."""
    return session.scalar(select(StaffAccount).where(StaffAccount.username == username))


def get_staff(session: Session, staff_id: int) -> StaffAccount:
    """An account by id, or NotFound."""
    account = session.get(StaffAccount, staff_id)
    if account is None:
        raise NotFound("No staff account with id %(staff_id)s.", staff_id=staff_id)
    return account


def list_staff(session: Session) -> Sequence[StaffAccount]:
    """Every account, by username."""
    return session.scalars(select(StaffAccount).order_by(StaffAccount.username)).all()


def staff_with_role(session: Session, role: str) -> Sequence[StaffAccount]:
    """Active accounts holding ``role`` (exactly; admins are not included unless they hold it)."""
    return session.scalars(
        select(StaffAccount)
        .join(StaffRole)
        .where(StaffRole.role == role, StaffAccount.active.is_(True))
        .order_by(StaffAccount.username)
    ).all()


def set_roles(session: Session, account: StaffAccount, roles: Iterable[str]) -> None:
    """Replace an account's roles."""
    wanted = set(roles)
    account.role_rows = [r for r in account.role_rows if r.role in wanted] + [
        StaffRole(role=r) for r in sorted(wanted - account.roles)
    ]
    account.updated_at = utcnow()
    session.flush()


# --- sessions ---------------------------------------------------------------------------------------


def add_session(
    session: Session, staff_id: int, token_hash: str, csrf_token: str, expires_at: datetime
) -> StaffSession:
    """Record a new signed-in session."""
    row = StaffSession(
        staff_id=staff_id,
        token_hash=token_hash,
        csrf_token=csrf_token,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def live_session(session: Session, token_hash: str) -> LiveCredential | None:
    """The unexpired, unrevoked session with this token hash and its active account, if any."""
    return _live_credential(session, _LIVE_SESSION, StaffSession, {"token_hash": token_hash, "now": utcnow()})


def revoke_session(session: Session, token_hash: str) -> None:
    """Log one session out."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == token_hash, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def revoke_sessions_of(session: Session, staff_id: int) -> None:
    """Log an account out everywhere."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def delete_dead_sessions(session: Session) -> int:
    """Remove sessions that expired or were revoked (housekeeping, done at each login)."""
    now = utcnow()
    result = session.execute(
        delete(StaffSession)
        .where((StaffSession.expires_at <= now) | StaffSession.revoked_at.is_not(None))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- API tokens -------------------------------------------------------------------------------------


def add_api_token(session: Session, staff_id: int, name: str, token_hash: str, prefix: str) -> ApiToken:
    """Record a new API token (its hash)."""
    row = ApiToken(staff_id=staff_id, name=name, token_hash=token_hash, prefix=prefix, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def live_api_token(session: Session, token_hash: str) -> LiveCredential | None:
    """The unrevoked token with this hash and its active account, if any."""
    return _live_credential(session, _LIVE_TOKEN, ApiToken, {"token_hash": token_hash})


def touch_api_token(session: Session, token_id: int, at: datetime) -> None:
    """Record that a token was used at ``at``."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


@dataclass(frozen=True)
class LiveCredential:
    """A live session or API token and the account it signs in, as plain values.

    ``csrf_token`` is a session's (None for a token); ``last_used_at`` a token's (None for a session).
    """

    credential_id: int
    staff_id: int
    username: str
    display_name: str
    department_code: str | None
    roles: frozenset[str]
    csrf_token: str | None = None
    last_used_at: datetime | None = None


def _credential_statement(
    model: type[StaffSession] | type[ApiToken],
    extra: InstrumentedAttribute[Any],
    *conditions: ColumnElement[bool],
) -> Select[Any]:
    """The unrevoked ``model`` row meeting ``conditions`` and its active account, with the account's
    department and roles, as plain columns (a row per role)."""
    return (
        select(
            model.id,
            extra,
            StaffAccount.id,
            StaffAccount.username,
            StaffAccount.display_name,
            Department.code,
            StaffRole.role,
        )
        .join(StaffAccount, StaffAccount.id == model.staff_id)
        .outerjoin(Department, Department.id == StaffAccount.department_id)
        .outerjoin(StaffRole, StaffRole.staff_id == StaffAccount.id)
        .where(*conditions, model.revoked_at.is_(None), StaffAccount.active.is_(True))
    )


# Every staff request runs one of these, so they are built once. Loading ORM objects with the roles
# eagerly joined instead cost as much server CPU as the rest of a staff read of a suggestion.
_LIVE_TOKEN = _credential_statement(
    ApiToken, ApiToken.last_used_at, ApiToken.token_hash == bindparam("token_hash")
)
_LIVE_SESSION = _credential_statement(
    StaffSession,
    StaffSession.csrf_token,
    StaffSession.token_hash == bindparam("token_hash"),
    StaffSession.expires_at > bindparam("now"),
)


def _live_credential(
    session: Session,
    statement: Select[Any],
    model: type[StaffSession] | type[ApiToken],
    params: dict[str, Any],
) -> LiveCredential | None:
    """Run a credential statement; the credential and its account's roles, or None."""
    rows = session.execute(statement, params).all()
    if not rows:
        return None
    credential_id, extra_value, staff_id, username, display_name, department_code, _ = rows[0]
    return LiveCredential(
        credential_id=credential_id,
        staff_id=staff_id,
        username=username,
        display_name=display_name,
        department_code=department_code,
        roles=frozenset(row[6] for row in rows if row[6] is not None),
        csrf_token=extra_value if model is StaffSession else None,
        last_used_at=extra_value if model is ApiToken else None,
    )


def tokens_of(session: Session, staff_id: int) -> Sequence[ApiToken]:
    """An account's tokens, newest first (revoked ones included, for the record)."""
    return session.scalars(
        select(ApiToken).where(ApiToken.staff_id == staff_id).order_by(ApiToken.id.desc())
    ).all()


def get_api_token(session: Session, token_id: int) -> ApiToken:
    """A token row by id, or NotFound."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("No API token with id %(token_id)s.", token_id=token_id)
    return row


def revoke_api_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token (idempotent); it stops working at once."""
    row = get_api_token(session, token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    return row


def save_deputy(
    session: Session,
    *,
    actor: str,
    now: datetime,
    username: str,
    name: str | None,
    village: str | None = None,
    phone: str | None = None,
    department_code: str | None = None,
    active: bool = True,
) -> Deputy:
    """Create or update the deputy record of a staff account that holds the deputy role (a
    dispatch to a deputy must reach someone who can sign in); the name defaults to the account's."""
    account = staff_by_username(session, username.strip())
    if account is None or Role.DEPUTY not in account.roles:
        raise InvalidInput(
            "There is no deputy account '%(strip)s': create a staff account with the deputy "
            "role first, then add it here.",
            strip=username.strip(),
        )
    if active and not account.active:
        raise InvalidInput(
            "The account '%(username)s' is disabled: enable it before adding it as a deputy.",
            username=account.username,
        )
    return directory.save_deputy(
        session,
        actor=actor,
        now=now,
        username=account.username,
        name=name or account.display_name,
        village=village,
        phone=phone,
        department_code=department_code,
        active=active,
    )


def deputies_to_add(session: Session) -> Sequence[StaffAccount]:
    """Active deputy accounts that have no deputy record yet (what the admin page offers)."""
    known = set(session.scalars(select(Deputy.username)))
    return [a for a in staff_with_role(session, Role.DEPUTY) if a.username not in known]


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """The display names of the staff accounts among ``usernames`` (others are left out)."""
    wanted = sorted(set(usernames))
    if not wanted:
        return {}
    rows = session.execute(
        select(StaffAccount.username, StaffAccount.display_name).where(StaffAccount.username.in_(wanted))
    )
    return {username: name for username, name in rows}

"""Staff accounts, sessions and tokens as stored: only hashes, and dead credentials are never live."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work, utcnow
from models.directory import queries as directory
from models.staff import queries as staff_queries
from models.staff.tables import StaffAccount


def _account(session: Session, username: str, *roles: str) -> int:
    return staff_queries.add_staff(
        session, username=username, display_name=username, password_hash="$argon2id$x", roles=roles
    ).id


def _power_station_handler(session: Session, display_name: str) -> StaffAccount:
    """Account "li": handler and deputy at the power station (departments seeded on the way)."""
    directory.seed_departments(session)
    dept = staff_queries.department_by_code(session, "power_station")
    assert dept is not None
    return staff_queries.add_staff(
        session,
        username="li",
        display_name=display_name,
        password_hash="h",
        roles=["handler", "deputy"],
        department_id=dept.id,
    )


def test_roles_are_rows_and_can_be_replaced(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        account = _power_station_handler(session, "Li")
        _account(session, "wang", "reviewer")
    with unit_of_work(db_factory) as session:
        account = staff_queries.get_staff(session, account.id)
        assert account.roles == {"handler", "deputy"} and account.department is not None
        staff_queries.set_roles(session, account, ["reviewer"])
    with unit_of_work(db_factory) as session:
        assert staff_queries.get_staff(session, account.id).roles == {"reviewer"}
        assert [a.username for a in staff_queries.staff_with_role(session, "reviewer")] == ["li", "wang"]
        assert staff_queries.staff_with_role(session, "handler") == []


def test_expired_revoked_and_disabled_sessions_are_not_live(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        a = _account(session, "a", "reviewer")
        b = _account(session, "b", "reviewer")
        staff_queries.add_session(session, a, "live", "c1", utcnow() + timedelta(hours=1))
        staff_queries.add_session(session, a, "expired", "c2", utcnow() - timedelta(seconds=1))
        staff_queries.add_session(session, a, "revoked", "c3", utcnow() + timedelta(hours=1))
        staff_queries.add_session(session, b, "disabled", "c4", utcnow() + timedelta(hours=1))
        staff_queries.revoke_session(session, "revoked")
        staff_queries.get_staff(session, b).active = False
    with unit_of_work(db_factory) as session:
        found = staff_queries.live_session(session, "live")
        assert found is not None and found.csrf_token == "c1" and found.username == "a"
        assert found.roles == frozenset({"reviewer"}) and found.last_used_at is None
        for dead in ("expired", "revoked", "disabled", "unknown"):
            assert staff_queries.live_session(session, dead) is None, dead
        assert staff_queries.delete_dead_sessions(session) == 2  # expired and revoked
    with unit_of_work(db_factory) as session:
        staff_queries.revoke_sessions_of(session, a)
    with unit_of_work(db_factory) as session:
        assert staff_queries.live_session(session, "live") is None


def test_revoked_tokens_are_not_live(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        a = _account(session, "a", "admin")
        first = staff_queries.add_api_token(session, a, "one", "hash1", "msk_abc")
        staff_queries.add_api_token(session, a, "two", "hash2", "msk_def")
    with unit_of_work(db_factory) as session:
        assert staff_queries.live_api_token(session, "hash1") is not None
        staff_queries.revoke_api_token(session, first.id)
        staff_queries.revoke_api_token(session, first.id)  # idempotent
    with unit_of_work(db_factory) as session:
        assert staff_queries.live_api_token(session, "hash1") is None
        assert staff_queries.live_api_token(session, "hash2") is not None
        assert [t.name for t in staff_queries.tokens_of(session, a)] == ["two", "one"]


def test_a_live_token_brings_its_account_with_every_role_and_the_department(
    db_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(db_factory) as session:
        li = _power_station_handler(session, "Li Ming").id
        no_roles = _account(session, "zhao")
        staff_queries.add_api_token(session, li, "li's", "hash-li", "msk_li")
        staff_queries.add_api_token(session, no_roles, "zhao's", "hash-zhao", "msk_zh")
    with unit_of_work(db_factory) as session:
        found = staff_queries.live_api_token(session, "hash-li")
        assert found is not None
        assert (found.staff_id, found.username, found.display_name) == (li, "li", "Li Ming")
        assert found.roles == frozenset({"handler", "deputy"})
        assert found.department_code == "power_station"
        assert found.csrf_token is None and found.last_used_at is None
        used = utcnow()
        staff_queries.touch_api_token(session, found.credential_id, used)
        bare = staff_queries.live_api_token(session, "hash-zhao")
        assert bare is not None and bare.roles == frozenset() and bare.department_code is None
    with unit_of_work(db_factory) as session:
        found = staff_queries.live_api_token(session, "hash-li")
        assert found is not None and found.last_used_at == used

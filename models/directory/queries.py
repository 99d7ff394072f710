"""Admin-managed data: departments, deputies, routing rules and deadlines, each change audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import utcnow
from models.directory.tables import AuditEntry, CategoryDeadline, Department, Deputy, RoutingRule
from models.errors import N_, InvalidInput, NotFound
from models.taxonomy import CATEGORIES

#: Days from dispatch to due, per category, when an admin has not set another value.
DEFAULT_DEADLINE_DAYS: dict[str, int] = {c.code: c.deadline_days for c in CATEGORIES}
FALLBACK_DEADLINE_DAYS = 15
MAX_DEADLINE_DAYS = 365


def audit(
    session: Session,
    *,
    actor: str,
    now: datetime,
    entity: str,
    key: str,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry."""
    entry = AuditEntry(
        at=now, actor=actor, entity=entity, entity_key=key, action=action, before=before, after=after
    )
    session.add(entry)
    return entry


def audit_log(session: Session, limit: int = 200) -> Sequence[AuditEntry]:
    """The newest audit entries first."""
    return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()


def _name(value: str | None, what: str, limit: int = 200, *, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput("The %(what)s is required.", what=what)
        return None
    if len(text) > limit:
        raise InvalidInput(
            "The %(what)s is too long (%(text)s characters; at most %(limit)s).",
            what=what,
            text=len(text),
            limit=limit,
        )
    return text


def _dept_dict(dept: Department) -> dict[str, Any]:
    return {"code": dept.code, "name_zh": dept.name_zh, "name_en": dept.name_en}


# --- departments ---------------------------------------------------------------------------------


def departments(session: Session) -> Sequence[Department]:
    """All departments by code."""
    return session.scalars(select(Department).order_by(Department.code)).all()


def department_by_code(session: Session, code: str) -> Department:
    """A department by code, or NotFound."""
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise NotFound("No department with the code '%(code)s'.", code=code)
    return dept


def save_department(
    session: Session, *, actor: str, now: datetime, code: str, name_zh: str | None, name_en: str | None
) -> Department:
    """Create a department or rename an existing one (by code)."""
    code = _name(code, N_("department code"), 64) or ""
    if not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in code):
        raise InvalidInput("A department code may contain only Latin letters, digits and '_'.")
    zh = _name(name_zh, N_("Chinese name"))
    en = _name(name_en, N_("English name"))
    assert zh is not None and en is not None
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        dept = Department(code=code, name_zh=zh, name_en=en, created_at=now)
        session.add(dept)
        audit(
            session,
            actor=actor,
            now=now,
            entity="department",
            key=code,
            action="create",
            after=_dept_dict(dept),
        )
    else:
        before = _dept_dict(dept)
        dept.name_zh, dept.name_en = zh, en
        audit(
            session,
            actor=actor,
            now=now,
            entity="department",
            key=code,
            action="update",
            before=before,
            after=_dept_dict(dept),
        )
    session.flush()
    return dept


# --- deputies ------------------------------------------------------------------------------------


def deputies(session: Session, *, active_only: bool = False) -> Sequence[Deputy]:
    """Deputies by name."""
    stmt = select(Deputy).order_by(Deputy.name)
    if active_only:
        stmt = stmt.where(Deputy.active.is_(True))
    return session.scalars(stmt).all()


def _deputy_dict(deputy: Deputy) -> dict[str, Any]:
    return {
        "username": deputy.username,
        "name": deputy.name,
        "village": deputy.village,
        "phone": deputy.phone,
        "department": deputy.department.code if deputy.department else None,
        "active": deputy.active,
    }


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
    """Create a deputy or update one (by username); ``active=False`` retires them."""
    user = _name(username, N_("deputy's user name"), 100) or ""
    full = _name(name, N_("deputy's name"))
    dept = department_by_code(session, department_code) if department_code else None
    deputy = session.scalar(select(Deputy).where(Deputy.username == user))
    fields = {
        "name": full,
        "village": _name(village, N_("village"), required=False),
        "phone": _name(phone, N_("phone"), 64, required=False),
        "department_id": dept.id if dept else None,
        "active": active,
    }
    if deputy is None:
        deputy = Deputy(username=user, created_at=now, updated_at=now, **fields)
        session.add(deputy)
        session.flush()
        session.refresh(deputy)
        audit(
            session,
            actor=actor,
            now=now,
            entity="deputy",
            key=user,
            action="create",
            after=_deputy_dict(deputy),
        )
    else:
        before = _deputy_dict(deputy)
        for field, value in fields.items():
            setattr(deputy, field, value)
        deputy.updated_at = now
        session.flush()
        session.refresh(deputy)
        audit(
            session,
            actor=actor,
            now=now,
            entity="deputy",
            key=user,
            action="update",
            before=before,
            after=_deputy_dict(deputy),
        )
    return deputy


# --- routing rules -------------------------------------------------------------------------------


def routing_rules(session: Session) -> Sequence[RoutingRule]:
    """All routing rules, general ones first within a category."""
    return session.scalars(
        select(RoutingRule).order_by(
            RoutingRule.category, RoutingRule.village.is_not(None), RoutingRule.village
        )
    ).all()


def set_routing_rule(
    session: Session, *, actor: str, now: datetime, category: str, village: str | None, department_code: str
) -> RoutingRule:
    """Send ``category`` (in ``village``, or everywhere when None) to a department."""
    if category not in DEFAULT_DEADLINE_DAYS:
        raise InvalidInput(
            "Unknown category '%(category)s'; use one of %(default_deadline_days)s.",
            category=category,
            default_deadline_days=", ".join(DEFAULT_DEADLINE_DAYS),
        )
    place = _name(village, N_("village"), required=False)
    dept = department_by_code(session, department_code)
    rule = session.scalar(
        select(RoutingRule).where(
            RoutingRule.category == category,
            RoutingRule.village == place if place else RoutingRule.village.is_(None),
        )
    )
    key = f"{category}@{place or '*'}"
    if rule is None:
        rule = RoutingRule(category=category, village=place, department_id=dept.id, created_at=now)
        session.add(rule)
        audit(
            session,
            actor=actor,
            now=now,
            entity="routing_rule",
            key=key,
            action="create",
            after={"department": dept.code},
        )
    else:
        before = {"department": rule.department.code}
        rule.department_id = dept.id
        audit(
            session,
            actor=actor,
            now=now,
            entity="routing_rule",
            key=key,
            action="update",
            before=before,
            after={"department": dept.code},
        )
    session.flush()
    return rule


def delete_routing_rule(session: Session, *, actor: str, now: datetime, rule_id: int) -> None:
    """Remove a village-specific rule (general rules are changed, never removed)."""
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("No routing rule %(rule_id)s.", rule_id=rule_id)
    if rule.village is None:
        raise InvalidInput(
            "The general rule of a category cannot be removed; point it to another department."
        )
    key = f"{rule.category}@{rule.village}"
    audit(
        session,
        actor=actor,
        now=now,
        entity="routing_rule",
        key=key,
        action="delete",
        before={"department": rule.department.code},
    )
    session.delete(rule)
    session.flush()


# --- deadlines -----------------------------------------------------------------------------------


def deadline_days(session: Session, category: str) -> int:
    """Days a suggestion of ``category`` may take from dispatch."""
    row = session.get(CategoryDeadline, category)
    if row is not None:
        return row.days
    return DEFAULT_DEADLINE_DAYS.get(category, FALLBACK_DEADLINE_DAYS)


def deadlines(session: Session) -> dict[str, int]:
    """Every category's deadline in days (stored value, else the default)."""
    return {category: deadline_days(session, category) for category in DEFAULT_DEADLINE_DAYS}


def set_deadline(
    session: Session, *, actor: str, now: datetime, category: str, days: int
) -> CategoryDeadline:
    """Change a category's deadline (applies to suggestions dispatched from now on)."""
    if category not in DEFAULT_DEADLINE_DAYS:
        raise InvalidInput(
            "Unknown category '%(category)s'; use one of %(default_deadline_days)s.",
            category=category,
            default_deadline_days=", ".join(DEFAULT_DEADLINE_DAYS),
        )
    if not 1 <= days <= MAX_DEADLINE_DAYS:
        raise InvalidInput(
            "A deadline must be between 1 and %(max_deadline_days)s days, not %(days)s.",
            max_deadline_days=MAX_DEADLINE_DAYS,
            days=days,
        )
    before = deadline_days(session, category)
    row = session.get(CategoryDeadline, category)
    if row is None:
        row = CategoryDeadline(category=category, days=days, updated_by=actor, updated_at=now)
        session.add(row)
    else:
        row.days, row.updated_by, row.updated_at = days, actor, now
    audit(
        session,
        actor=actor,
        now=now,
        entity="deadline",
        key=category,
        action="update",
        before={"days": before},
        after={"days": days},
    )
    session.flush()
    return row


def seed_departments(session: Session) -> None:
    """Insert the default departments and category rules that are missing (idempotent)."""
    now = utcnow()
    for cat in CATEGORIES:
        seed = cat.department
        dept = session.scalar(select(Department).where(Department.code == seed.code))
        if dept is None:
            dept = Department(code=seed.code, name_zh=seed.zh, name_en=seed.en, created_at=now)
            session.add(dept)
            session.flush()
        rule = session.scalar(
            select(RoutingRule).where(RoutingRule.category == cat.code, RoutingRule.village.is_(None))
        )
        if rule is None:
            session.add(RoutingRule(category=cat.code, village=None, department_id=dept.id, created_at=now))
    session.flush()


def department_for(session: Session, category: str, village: str | None) -> Department | None:
    """The department a category goes to: a village-specific rule wins over the general one."""
    if village:
        rule = session.scalar(
            select(RoutingRule).where(RoutingRule.category == category, RoutingRule.village == village)
        )
        if rule is not None:
            return rule.department
    rule = session.scalar(
        select(RoutingRule).where(RoutingRule.category == category, RoutingRule.village.is_(None))
    )
    return rule.department if rule is not None else None

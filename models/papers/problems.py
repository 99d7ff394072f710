"""The problem micro-list (问题微清单): open problems of one village or one department, for visits.

Open means a status of ``vocabulary.OPEN`` (someone still has to handle it); only villagers'
suggestions count (``vocabulary.PUBLIC_CHANNELS``), not agenda items of 乡长有约. A department's
list holds what it holds now (the assignment's department, else the routed one). Problems are
grouped by theme (those in none by category), the group with the oldest problem first, and the
problems of a group oldest first. The text is scrubbed of personal data (``models.privacy``): the
list is printed and carried around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models import privacy
from models.directory.tables import Department
from models.errors import InvalidInput, NotFound
from models.reporting.supervision import overdue_condition
from models.suggestions.tables import Assignment, Suggestion
from models.themes.tables import Theme, ThemeMember
from models.vocabulary import OPEN, PUBLIC_CHANNELS

MAX_ITEMS = 500
TEXT_CHARS = 120
MAX_VILLAGE_CHARS = 200


@dataclass(frozen=True)
class Problem:
    """One open problem on the list."""

    id: int
    tracking_code: str
    submitted_at: datetime
    village: str | None
    category: str | None
    status: str
    department_code: str | None
    department_zh: str | None
    department_en: str | None
    due_at: datetime | None
    overdue: bool
    text: str

    def days_open(self, now: datetime) -> int:
        """Whole days since it was submitted."""
        return max((now - self.submitted_at).days, 0)


@dataclass
class ProblemGroup:
    """The open problems of one theme (or, outside any theme, of one category)."""

    theme_id: int | None
    theme_title: str | None
    category: str | None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ProblemList:
    """A village's or a department's micro-list."""

    scope: str  # village | department
    key: str
    name_zh: str
    name_en: str
    generated_at: datetime
    groups: list[ProblemGroup]
    total: int
    truncated: bool  # more than MAX_ITEMS open: the oldest MAX_ITEMS are listed


@dataclass(frozen=True)
class ScopeCount:
    """A village or department and how many open problems it has."""

    key: str
    name_zh: str
    name_en: str
    open: int
    overdue: int


def _holder() -> Any:
    return func.coalesce(Assignment.department_id, Suggestion.department_id)


_OPEN_PUBLIC = (Suggestion.status.in_(OPEN), Suggestion.channel.in_(PUBLIC_CHANNELS))


def scopes(session: Session, now: datetime) -> tuple[list[ScopeCount], list[ScopeCount]]:
    """Villages and departments with open problems (most first), for the list's index."""
    overdue = func.sum(case((overdue_condition(now), 1), else_=0))
    village = func.trim(Suggestion.village)
    villages = [
        ScopeCount(str(v), str(v), str(v), int(n), int(o or 0))
        for v, n, o in session.execute(
            select(village, func.count(), overdue)
            .where(*_OPEN_PUBLIC, Suggestion.village.is_not(None), village != "")
            .group_by(village)
            .order_by(func.count().desc(), village)
        )
    ]
    departments = [
        ScopeCount(code, zh, en, int(n), int(o or 0))
        for code, zh, en, n, o in session.execute(
            select(Department.code, Department.name_zh, Department.name_en, func.count(), overdue)
            .select_from(Suggestion)
            .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
            .join(Department, Department.id == _holder())
            .where(*_OPEN_PUBLIC)
            .group_by(Department.code, Department.name_zh, Department.name_en)
            .order_by(func.count().desc(), Department.code)
        )
    ]
    return villages, departments


def problem_list(
    session: Session, now: datetime, *, village: str | None = None, department: str | None = None
) -> ProblemList:
    """The micro-list of one village (by name) or one department (by code)."""
    village = (village or "").strip() or None
    department = (department or "").strip() or None
    if (village is None) == (department is None):
        raise InvalidInput("Choose one village or one department for the list.")
    stmt = (
        select(
            Suggestion.id,
            Suggestion.tracking_code,
            Suggestion.submitted_at,
            Suggestion.village,
            Suggestion.category,
            Suggestion.status,
            Department.code,
            Department.name_zh,
            Department.name_en,
            Suggestion.due_at,
            case((overdue_condition(now), 1), else_=0),
            Suggestion.text,
            Suggestion.submitter_name,
            Suggestion.submitter_phone,
            Suggestion.address,
            Theme.id,
            Theme.title,
        )
        .select_from(Suggestion)
        .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
        .outerjoin(Department, Department.id == _holder())
        .outerjoin(ThemeMember, ThemeMember.suggestion_id == Suggestion.id)
        .outerjoin(Theme, (Theme.id == ThemeMember.theme_id) & (Theme.state == "active"))
        .where(*_OPEN_PUBLIC)
        .order_by(Suggestion.submitted_at, Suggestion.id)
        .limit(MAX_ITEMS + 1)
    )
    if village is not None:
        if len(village) > MAX_VILLAGE_CHARS:
            raise InvalidInput(
                "A village name has at most %(max_village_chars)s characters.",
                max_village_chars=MAX_VILLAGE_CHARS,
            )
        stmt = stmt.where(func.trim(Suggestion.village) == village)
        scope, key, zh, en = "village", village, village, village
    else:
        found = session.execute(
            select(Department.code, Department.name_zh, Department.name_en).where(
                Department.code == department
            )
        ).first()
        if found is None:
            raise NotFound("No department with code '%(department)s'.", department=department)
        stmt = stmt.where(Department.code == department)
        scope, key, zh, en = "department", found[0], found[1], found[2]
    rows = session.execute(stmt).all()
    truncated = len(rows) > MAX_ITEMS
    groups: dict[tuple[str, Any], ProblemGroup] = {}
    for r in rows[:MAX_ITEMS]:
        text = privacy.scrub(r[11] or "", names=[r[12]], phones=[r[13]], addresses=[r[14]])
        text = " ".join(text.split())
        problem = Problem(
            id=r[0], tracking_code=r[1], submitted_at=r[2], village=r[3], category=r[4], status=r[5],
            department_code=r[6], department_zh=r[7], department_en=r[8], due_at=r[9], overdue=bool(r[10]),
            text=text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…",
        )  # fmt: skip
        group_key: tuple[str, Any] = ("theme", r[15]) if r[15] is not None else ("category", r[4])
        if group_key not in groups:  # rows come oldest first, so groups are made in that order too
            groups[group_key] = ProblemGroup(r[15], r[16], r[4])
        groups[group_key].problems.append(problem)
    return ProblemList(
        scope=scope,
        key=key,
        name_zh=zh,
        name_en=en,
        generated_at=now,
        groups=list(groups.values()),
        total=min(len(rows), MAX_ITEMS),
        truncated=truncated,
    )

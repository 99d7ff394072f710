"""The micro-report: volumes, trends, themes, department performance and satisfaction, aggregated in SQL.

A report covers one period (week, month or quarter) and one scope (the township, a department or a
village). Every figure is one grouped SQL query; durations use ``epoch_seconds`` (compiled per
dialect for SQLite and PostgreSQL) and the median is taken with window functions, so no Python loop
runs over suggestions. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from models.appointments.tables import AgendaItem, AppointmentRequest
from models.directory.tables import Department
from models.errors import InvalidInput, NotFound
from models.reporting.supervision import overdue_condition
from models.suggestions.lifecycle import REOPENED
from models.suggestions.tables import Assignment, Event, Suggestion
from models.taxonomy import UNCLASSIFIED
from models.themes.tables import Theme, ThemeMember
from models.vocabulary import AWAITING_HANDLING, Channel

PERIODS = ("week", "month", "quarter")
SCOPES = ("township", "department", "village")
DEFAULT_MIN_RATINGS = 5
TOP_THEMES = 10
OVERDUE_LIMIT = 50
#: Agenda items of appointments run through the workflow as suggestions of this channel: they count
#: in department figures, not in the villagers' volumes.
VILLAGERS = Suggestion.channel != Channel.APPOINTMENT


class epoch_seconds(FunctionElement[float]):
    """Seconds since 1970 of a timestamp column, on SQLite and PostgreSQL."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"((julianday({compiler.process(next(iter(element.clauses)), **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds)
def _epoch_default(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(next(iter(element.clauses)), **kw)})"


@dataclass(frozen=True)
class Period:
    """A half-open time range [start, end) and the one before it, with its trend buckets."""

    kind: str
    start: datetime
    end: datetime
    previous_start: datetime
    buckets: list[tuple[str, datetime, datetime]]


def _month_start(d: date, months_back: int = 0) -> date:
    index = d.year * 12 + d.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def period_of(kind: str, anchor: date) -> Period:
    """The week (Monday-Sunday), month or quarter containing ``anchor``."""
    if kind == "week":
        start_d = anchor - timedelta(days=anchor.weekday())
        start, end = _at(start_d), _at(start_d + timedelta(days=7))
        previous = start - timedelta(days=7)
        buckets = [
            (
                (start_d + timedelta(days=i)).isoformat(),
                start + timedelta(days=i),
                start + timedelta(days=i + 1),
            )
            for i in range(7)
        ]
    elif kind in ("month", "quarter"):
        months = 1 if kind == "month" else 3
        first = (
            _month_start(anchor) if kind == "month" else date(anchor.year, (anchor.month - 1) // 3 * 3 + 1, 1)
        )
        start = _at(first)
        end = _at(_month_start(first, -months))
        previous = _at(_month_start(first, months))
        if kind == "month":  # weekly buckets (the last may be short)
            buckets = []
            lo = start
            while lo < end:
                hi = min(lo + timedelta(days=7), end)
                buckets.append((lo.date().isoformat(), lo, hi))
                lo = hi
        else:
            buckets = [
                (
                    _month_start(first, -i).isoformat()[:7],
                    _at(_month_start(first, -i)),
                    _at(_month_start(first, -i - 1)),
                )
                for i in range(3)
            ]
    else:
        raise InvalidInput("Unknown period '%(kind)s'; use week, month or quarter.", kind=kind)
    return Period(kind, start, end, previous, buckets)


@dataclass
class DepartmentFigures:
    """How one department did in the period."""

    code: str
    name_zh: str
    name_en: str
    dispatched: int
    resolved: int
    rectification_rate: float | None  # of those dispatched in the period, the share resolved
    on_time_rate: float | None  # of those resolved in the period, the share resolved by the due time
    median_days_to_resolve: float | None
    open_now: int
    overdue_now: int
    ratings: int
    satisfaction_mean: float | None  # None below the minimum number of ratings
    satisfaction_distribution: dict[int, int]
    reopened_by_villager: int = 0  # in the period: villagers said "not fixed" and it came back


@dataclass
class ThemeFigures:
    """A theme's attention in the period (candidate livelihood project when it ranks high)."""

    id: int
    title: str
    category: str
    count: int
    previous: int
    growth: int
    villages: int
    attention: int


@dataclass
class OverdueRow:
    """An overdue suggestion in scope."""

    id: int
    tracking_code: str
    category: str | None
    department_code: str | None
    village: str | None
    due_at: datetime | None
    status: str


@dataclass
class AppointmentFigures:
    """The appointment with the township head (乡长有约) in the period (township scope only)."""

    requests_by_state: dict[str, int]
    requests_by_origin: dict[str, int]
    items_added: int
    items_resolved: int
    item_ratings: int
    item_satisfaction_mean: float | None


def _appointment_figures(session: Session, p: Period, min_ratings: int) -> AppointmentFigures:
    raised = _between(AppointmentRequest.created_at, p.start, p.end)
    by_state = {
        state: int(n)
        for state, n in session.execute(
            select(AppointmentRequest.state, func.count()).where(raised).group_by(AppointmentRequest.state)
        )
    }
    by_origin = {
        origin: int(n)
        for origin, n in session.execute(
            select(AppointmentRequest.origin, func.count()).where(raised).group_by(AppointmentRequest.origin)
        )
    }
    resolved_in = _between(Assignment.resolved_at, p.start, p.end)
    added, resolved, ratings, rating_sum = session.execute(
        select(
            func.sum(case((_between(AgendaItem.created_at, p.start, p.end), 1), else_=0)),
            func.sum(case((resolved_in, 1), else_=0)),
            func.sum(case((and_(resolved_in, Suggestion.satisfaction.is_not(None)), 1), else_=0)),
            func.sum(case((resolved_in, Suggestion.satisfaction), else_=None)),
        )
        .select_from(AgendaItem)
        .join(Suggestion, Suggestion.id == AgendaItem.suggestion_id)
        .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
    ).one()
    n_ratings = int(ratings or 0)
    mean = (
        round(float(rating_sum) / n_ratings, 2) if n_ratings >= max(min_ratings, 1) and rating_sum else None
    )
    return AppointmentFigures(by_state, by_origin, int(added or 0), int(resolved or 0), n_ratings, mean)


@dataclass
class Report:
    """Everything the micro-report page, JSON and CSV show."""

    period: str
    scope: str
    scope_key: str | None
    start: datetime
    end: datetime
    generated_at: datetime
    total: int
    previous_total: int
    by_category: dict[str, int]
    previous_by_category: dict[str, int]
    by_village: dict[str, int]
    trend: list[tuple[str, int]]
    trend_by_category: dict[str, list[int]]
    departments: list[DepartmentFigures]
    satisfaction_distribution: dict[int, int]
    satisfaction_mean: float | None
    ratings: int
    min_ratings: int
    top_themes: list[ThemeFigures]
    overdue: list[OverdueRow] = field(default_factory=list)
    appointments: AppointmentFigures | None = None
    reopened_by_villager: int = 0  # reopenings in the period after a villager's "not fixed"


def _holder() -> Any:
    return func.coalesce(Assignment.department_id, Suggestion.department_id)


def _scope_filter(session: Session, scope: str, key: str | None) -> list[ColumnElement[bool]]:
    if scope == "township":
        return []
    if not key:
        raise InvalidInput("Say which %(scope)s the report is for.", scope=scope)
    if scope == "department":
        dept_id = session.scalar(select(Department.id).where(Department.code == key))
        if dept_id is None:
            raise NotFound("No department with code '%(key)s'.", key=key)
        return [_holder() == dept_id]
    if scope == "village":
        return [Suggestion.village == key]
    raise InvalidInput("Unknown scope '%(scope)s'; use township, department or village.", scope=scope)


def _between(column: Any, lo: datetime, hi: datetime) -> ColumnElement[bool]:
    return and_(column >= lo, column < hi)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def build_report(
    session: Session,
    *,
    period: str,
    anchor: date,
    scope: str = "township",
    key: str | None = None,
    now: datetime,
    min_ratings: int = DEFAULT_MIN_RATINGS,
) -> Report:
    """The micro-report for the period containing ``anchor`` and the given scope."""
    p = period_of(period, anchor)
    scoped = _scope_filter(session, scope, key)

    def base(*columns: Any) -> Any:
        return (
            select(*columns)
            .select_from(Suggestion)
            .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
            .where(*scoped)
        )

    in_period = and_(_between(Suggestion.submitted_at, p.start, p.end), VILLAGERS)
    in_previous = and_(_between(Suggestion.submitted_at, p.previous_start, p.start), VILLAGERS)
    category = func.coalesce(Suggestion.category, UNCLASSIFIED)

    # Volume per category this period and the one before, in one pass.
    by_category: dict[str, int] = {}
    previous_by_category: dict[str, int] = {}
    for cat, now_count, prev_count in session.execute(
        base(category, func.sum(case((in_period, 1), else_=0)), func.sum(case((in_previous, 1), else_=0)))
        .where(Suggestion.submitted_at >= p.previous_start, Suggestion.submitted_at < p.end)
        .group_by(category)
        .order_by(category)
    ):
        if now_count:
            by_category[cat] = int(now_count)
        if prev_count:
            previous_by_category[cat] = int(prev_count)

    by_village = {
        (v or "–"): int(n)
        for v, n in session.execute(
            base(Suggestion.village, func.count())
            .where(in_period)
            .group_by(Suggestion.village)
            .order_by(func.count().desc(), Suggestion.village)
        )
    }

    # The trend stops at today: a bucket that has not begun has no count, not a count of 0.
    begun = [(label, lo, hi) for label, lo, hi in p.buckets if lo <= now]
    bucket_columns = [
        func.sum(case((_between(Suggestion.submitted_at, lo, hi), 1), else_=0)) for _, lo, hi in begun
    ]
    trend_by_category: dict[str, list[int]] = {}
    for row in session.execute(
        base(category, *bucket_columns).where(in_period).group_by(category).order_by(category)
    ):
        trend_by_category[row[0]] = [int(x or 0) for x in row[1:]]
    trend = [
        (label, sum(series[i] for series in trend_by_category.values()))
        for i, (label, _, _) in enumerate(begun)
    ]

    departments = _department_figures(session, p, scoped, now, min_ratings)

    # Satisfaction over the scope: ratings of suggestions resolved in the period.
    resolved_in_period = _between(Assignment.resolved_at, p.start, p.end)
    distribution = {score: 0 for score in range(1, 6)}
    for score, n in session.execute(
        base(Suggestion.satisfaction, func.count())
        .where(resolved_in_period, Suggestion.satisfaction.is_not(None))
        .group_by(Suggestion.satisfaction)
    ):
        distribution[int(score)] = int(n)
    ratings = sum(distribution.values())
    mean = sum(s * n for s, n in distribution.items()) / ratings if ratings >= max(min_ratings, 1) else None

    overdue = [
        OverdueRow(r.id, r.tracking_code, r.category, r.code, r.village, r.due_at, r.status)
        for r in session.execute(
            base(
                Suggestion.id,
                Suggestion.tracking_code,
                Suggestion.category,
                Department.code,
                Suggestion.village,
                Suggestion.due_at,
                Suggestion.status,
            )
            .outerjoin(Department, Department.id == _holder())
            .where(overdue_condition(now))
            .order_by(Suggestion.due_at, Suggestion.id)
            .limit(OVERDUE_LIMIT)
        )
    ]

    reopened = _reopened_by_villager(session, p, scoped)
    for d in departments:
        d.reopened_by_villager = reopened.get(d.code, 0)

    return Report(
        period=period,
        scope=scope,
        scope_key=key,
        start=p.start,
        end=p.end,
        generated_at=now,
        total=sum(by_category.values()),
        previous_total=sum(previous_by_category.values()),
        by_category=by_category,
        previous_by_category=previous_by_category,
        by_village=by_village,
        trend=trend,
        trend_by_category=trend_by_category,
        departments=departments,
        satisfaction_distribution=distribution,
        satisfaction_mean=round(mean, 2) if mean is not None else None,
        ratings=ratings,
        min_ratings=min_ratings,
        top_themes=_top_themes(session, p, scoped),
        overdue=overdue,
        appointments=_appointment_figures(session, p, min_ratings) if scope == "township" else None,
        reopened_by_villager=sum(reopened.values()),
    )


def _reopened_by_villager(session: Session, p: Period, scoped: list[ColumnElement[bool]]) -> dict[str, int]:
    """Reopenings in the period after a villager said the problem was not fixed, per holding department
    ("" for a suggestion without one)."""
    rows = session.execute(
        select(Department.code, func.count())
        .select_from(Event)
        .join(Suggestion, Suggestion.id == Event.suggestion_id)
        .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
        .outerjoin(Department, Department.id == _holder())
        .where(*scoped, Event.kind == REOPENED, Event.actor == "villager", _between(Event.at, p.start, p.end))
        .group_by(Department.code)
    ).all()
    return {code or "": int(n) for code, n in rows}


def _department_figures(
    session: Session, p: Period, scoped: list[ColumnElement[bool]], now: datetime, min_ratings: int
) -> list[DepartmentFigures]:
    dispatched_in = _between(Assignment.dispatched_at, p.start, p.end)
    resolved_in = _between(Assignment.resolved_at, p.start, p.end)
    on_time = and_(resolved_in, Suggestion.due_at.is_not(None), Assignment.resolved_at <= Suggestion.due_at)
    rated = and_(resolved_in, Suggestion.satisfaction.is_not(None))
    holder = _holder()
    score_columns = [
        func.sum(case((and_(rated, Suggestion.satisfaction == s), 1), else_=0)) for s in range(1, 6)
    ]
    rows = session.execute(
        select(
            Department.code,
            Department.name_zh,
            Department.name_en,
            func.sum(case((dispatched_in, 1), else_=0)),
            func.sum(case((and_(dispatched_in, Assignment.resolved_at.is_not(None)), 1), else_=0)),
            func.sum(case((resolved_in, 1), else_=0)),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((Suggestion.status.in_(AWAITING_HANDLING), 1), else_=0)),
            func.sum(case((overdue_condition(now), 1), else_=0)),
            *score_columns,
        )
        .select_from(Suggestion)
        .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
        .join(Department, Department.id == holder)
        .where(*scoped)
        .group_by(Department.code, Department.name_zh, Department.name_en)
        .order_by(Department.code)
    ).all()
    medians = _median_days(session, p, scoped)
    figures = []
    for row in rows:
        code, zh, en, dispatched, dispatched_resolved, resolved, on_time_n, open_now, overdue_now = row[:9]
        distribution = {s: int(n or 0) for s, n in zip(range(1, 6), row[9:], strict=True)}
        n_ratings = sum(distribution.values())
        mean = (
            round(sum(s * n for s, n in distribution.items()) / n_ratings, 2)
            if n_ratings >= max(min_ratings, 1)
            else None
        )
        figures.append(
            DepartmentFigures(
                code=code,
                name_zh=zh,
                name_en=en,
                dispatched=int(dispatched or 0),
                resolved=int(resolved or 0),
                rectification_rate=_rate(int(dispatched_resolved or 0), int(dispatched or 0)),
                on_time_rate=_rate(int(on_time_n or 0), int(resolved or 0)),
                median_days_to_resolve=medians.get(code),
                open_now=int(open_now or 0),
                overdue_now=int(overdue_now or 0),
                ratings=n_ratings,
                satisfaction_mean=mean,
                satisfaction_distribution=distribution,
            )
        )
    return figures


def _median_days(session: Session, p: Period, scoped: list[ColumnElement[bool]]) -> dict[str, float]:
    """Median days from dispatch to resolution per department, for resolutions in the period (SQL windows)."""
    holder = _holder()
    days = (epoch_seconds(Assignment.resolved_at) - epoch_seconds(Assignment.dispatched_at)) / 86400.0
    ranked = (
        select(
            Department.code.label("code"),
            days.label("days"),
            func.row_number().over(partition_by=Department.code, order_by=days).label("rn"),
            func.count().over(partition_by=Department.code).label("n"),
        )
        .select_from(Suggestion)
        .join(Assignment, Assignment.suggestion_id == Suggestion.id)
        .join(Department, Department.id == holder)
        .where(*scoped, _between(Assignment.resolved_at, p.start, p.end))
        .subquery()
    )
    # The middle row (odd n) or the two middle rows (even n): rn in ((n+1)/2, (n+2)/2) in integer division.
    middle = and_(ranked.c.rn >= (ranked.c.n + 1) // 2, ranked.c.rn <= (ranked.c.n + 2) // 2)
    rows = session.execute(
        select(ranked.c.code, func.avg(ranked.c.days)).where(middle).group_by(ranked.c.code)
    ).all()
    return {code: round(float(value), 2) for code, value in rows if value is not None}


def _top_themes(session: Session, p: Period, scoped: list[ColumnElement[bool]]) -> list[ThemeFigures]:
    """Themes by attention (count in the period plus growth over the previous one)."""
    in_period = _between(Suggestion.submitted_at, p.start, p.end)
    in_previous = _between(Suggestion.submitted_at, p.previous_start, p.start)
    count = func.sum(case((in_period, 1), else_=0))
    previous = func.sum(case((in_previous, 1), else_=0))
    villages = func.count(func.distinct(case((in_period, Suggestion.village), else_=None)))
    rows = session.execute(
        select(Theme.id, Theme.title, Theme.category, count, previous, villages)
        .select_from(Theme)
        .join(ThemeMember, ThemeMember.theme_id == Theme.id)
        .join(Suggestion, Suggestion.id == ThemeMember.suggestion_id)
        .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
        .where(
            Theme.state == "active",
            Suggestion.submitted_at >= p.previous_start,
            Suggestion.submitted_at < p.end,
        )
        .where(*scoped)
        .group_by(Theme.id, Theme.title, Theme.category)
        .having(count > 0)
    ).all()
    figures = []
    for theme_id, title, cat, n, prev, n_villages in rows:
        n, prev = int(n or 0), int(prev or 0)
        growth = n - prev
        figures.append(
            ThemeFigures(theme_id, title, cat, n, prev, growth, int(n_villages or 0), n + max(growth, 0))
        )
    figures.sort(key=lambda f: (-f.attention, -f.count, f.id))
    return figures[:TOP_THEMES]


SUGGESTION_COLUMNS = (
    "id",
    "tracking_code",
    "submitted_at",
    "village",
    "address",
    "category",
    "status",
    "department",
    "dispatched_at",
    "due_at",
    "resolved_at",
    "satisfaction",
    "text",
)


def suggestion_rows(
    session: Session, *, period: str, anchor: date, scope: str = "township", key: str | None = None
) -> list[tuple[Any, ...]]:
    """The suggestions submitted in the period and scope, as tuples in ``SUGGESTION_COLUMNS`` order."""
    p = period_of(period, anchor)
    scoped = _scope_filter(session, scope, key)
    return [
        tuple(row)
        for row in session.execute(
            select(
                Suggestion.id,
                Suggestion.tracking_code,
                Suggestion.submitted_at,
                Suggestion.village,
                Suggestion.address,
                Suggestion.category,
                Suggestion.status,
                Department.code,
                Assignment.dispatched_at,
                Suggestion.due_at,
                Assignment.resolved_at,
                Suggestion.satisfaction,
                Suggestion.text,
            )
            .select_from(Suggestion)
            .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
            .outerjoin(Department, Department.id == _holder())
            .where(*scoped, _between(Suggestion.submitted_at, p.start, p.end))
            .order_by(Suggestion.submitted_at, Suggestion.id)
        )
    ]

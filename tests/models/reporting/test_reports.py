"""The micro-report's figures on fixed data, driven through the real workflow with an explicit clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.directory import queries as directory
from models.errors import InvalidInput, NotFound
from models.reporting import reports
from models.suggestions import lifecycle, queries
from models.themes import store as theme_store
from models.themes.store import NewTheme
from models.vocabulary import Status

NOV = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday
LATER = datetime(2026, 12, 30, 8, 0, tzinfo=UTC)


def routed(factory: sessionmaker[Session], category: str, village: str, at: datetime) -> tuple[int, str]:
    with unit_of_work(factory) as session:
        directory.seed_departments(session)
        dept = directory.department_for(session, category, village)
        s = queries.create_suggestion(
            session, status=Status.ROUTED, actor="worker", channel="text", text="路灯坏了", category=category,
            village=village, department_id=dept.id if dept else None,
        )  # fmt: skip
        s.submitted_at = at
        return s.id, s.tracking_code


def handle(factory: sessionmaker[Session], sid: int, at: datetime, resolve_after: timedelta | None) -> None:
    with unit_of_work(factory) as session:
        lifecycle.dispatch(session, sid, actor="boss", now=at)
        lifecycle.accept(session, sid, actor="li", now=at + timedelta(hours=1))
        if resolve_after is not None:
            lifecycle.start(session, sid, actor="li", now=at + timedelta(hours=2))
            lifecycle.resolve(session, sid, actor="li", now=at + resolve_after, result_note="修好了")


@pytest.fixture()
def data(db_factory: sessionmaker[Session]) -> dict[str, int]:
    s1, c1 = routed(db_factory, "power", "青山村", NOV)
    s2, c2 = routed(db_factory, "power", "白水村", NOV + timedelta(days=1))
    s3, _ = routed(db_factory, "power", "青山村", NOV + timedelta(days=3))
    s4, _ = routed(db_factory, "transport", "青山村", NOV + timedelta(days=9))
    s5, _ = routed(db_factory, "transport", "青山村", NOV - timedelta(days=13))  # October
    handle(db_factory, s1, NOV, timedelta(days=2))
    handle(db_factory, s2, NOV + timedelta(days=1), timedelta(days=4))
    handle(db_factory, s3, NOV + timedelta(days=3), None)
    with unit_of_work(db_factory) as session:
        lifecycle.rate(session, c1, score=5, comment=None, now=NOV + timedelta(days=5))
        lifecycle.rate(session, c2, score=4, comment="好", now=NOV + timedelta(days=6))
        theme_store.replace_automatic_themes(session, [NewTheme("power", "路灯坏了", [], [s1, s2, s3])], NOV)
    return {"s1": s1, "s2": s2, "s3": s3, "s4": s4, "s5": s5}


def test_a_month_for_the_township(db_factory: sessionmaker[Session], data: dict[str, int]) -> None:
    with db_factory() as session:
        r = reports.build_report(session, period="month", anchor=date(2026, 11, 10), now=LATER)
    assert (r.start, r.end) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert r.total == 4 and r.previous_total == 1
    assert r.by_category == {"power": 3, "transport": 1}
    assert r.previous_by_category == {"transport": 1}
    assert r.by_village == {"青山村": 3, "白水村": 1}
    assert [n for _, n in r.trend] == [3, 1, 0, 0, 0]  # weeks from Nov 1 (a Sunday): 1-7, 8-14, ...
    [power] = [d for d in r.departments if d.code == "power_station"]
    assert (power.dispatched, power.resolved) == (3, 2)
    assert power.rectification_rate == pytest.approx(0.6667)
    assert power.on_time_rate == 1.0
    assert power.median_days_to_resolve == pytest.approx(3.0)
    assert (power.open_now, power.overdue_now) == (1, 1)
    assert power.ratings == 2 and power.satisfaction_mean is None  # two ratings make no headline
    assert power.satisfaction_distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    assert r.satisfaction_mean is None and r.ratings == 2
    assert [o.id for o in r.overdue] == [data["s3"]]
    [theme] = r.top_themes
    assert (theme.title, theme.count, theme.previous, theme.growth, theme.villages) == (
        "路灯坏了",
        3,
        0,
        3,
        2,
    )


def test_the_minimum_count_guard_and_the_scopes(
    db_factory: sessionmaker[Session], data: dict[str, int]
) -> None:
    with db_factory() as session:
        r = reports.build_report(session, period="month", anchor=date(2026, 11, 30), now=LATER, min_ratings=2)
        assert r.satisfaction_mean == 4.5
        assert [d.satisfaction_mean for d in r.departments if d.code == "power_station"] == [4.5]
        village = reports.build_report(
            session, period="month", anchor=date(2026, 11, 1), scope="village", key="白水村", now=LATER
        )
        assert village.total == 1 and village.overdue == []
        dept = reports.build_report(
            session,
            period="quarter",
            anchor=date(2026, 11, 1),
            scope="department",
            key="transport_bureau",
            now=LATER,
        )
        assert dept.by_category == {"transport": 2}  # October and November are in the same quarter
        assert dept.previous_total == 0
        week = reports.build_report(session, period="week", anchor=date(2026, 11, 4), now=LATER)
        assert week.total == 3 and [n for _, n in week.trend] == [1, 1, 0, 1, 0, 0, 0]
        # Seen on Wednesday 4 November at noon, the week's trend stops at that day.
        midweek = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
        today = reports.build_report(session, period="week", anchor=date(2026, 11, 4), now=midweek)
        assert [label for label, _ in today.trend] == ["2026-11-02", "2026-11-03", "2026-11-04"]
        assert [n for _, n in today.trend] == [1, 1, 0]
        assert all(len(series) == 3 for series in today.trend_by_category.values())
        with pytest.raises(InvalidInput, match="week, month or quarter"):
            reports.build_report(session, period="year", anchor=date(2026, 11, 1), now=LATER)
        with pytest.raises(NotFound):
            reports.build_report(
                session, period="month", anchor=date(2026, 11, 1), scope="department", key="x", now=LATER
            )
        with pytest.raises(InvalidInput, match="Say which village"):
            reports.build_report(
                session, period="month", anchor=date(2026, 11, 1), scope="village", now=LATER
            )
        rows = reports.suggestion_rows(session, period="month", anchor=date(2026, 11, 1))
        assert [r[0] for r in rows] == [data["s1"], data["s2"], data["s3"], data["s4"]]


def test_periods_and_their_buckets() -> None:
    q = reports.period_of("quarter", date(2026, 11, 15))
    assert (q.start.date(), q.end.date(), q.previous_start.date()) == (
        date(2026, 10, 1),
        date(2027, 1, 1),
        date(2026, 7, 1),
    )
    assert [label for label, _, _ in q.buckets] == ["2026-10", "2026-11", "2026-12"]
    m = reports.period_of("month", date(2026, 1, 31))
    assert (m.start.date(), m.end.date(), m.previous_start.date()) == (
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2025, 12, 1),
    )
    assert m.buckets[-1][2] == m.end
    w = reports.period_of("week", date(2026, 11, 22))  # a Sunday
    assert (w.start.date(), w.end.date()) == (date(2026, 11, 16), date(2026, 11, 23))

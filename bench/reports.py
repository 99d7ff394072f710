"""Time the micro-report over 100,000 suggestions with realistic histories, on SQLite and PostgreSQL.

Run from the repository root:

    nice -n 10 .venv-test/bin/python bench/reports.py                       # SQLite and PostgreSQL
    nice -n 10 .venv-test/bin/python bench/reports.py --n 20000 --backends sqlite

Generates (seeded) suggestions over 400 days across 30 villages and the seeded departments: every
one routed, most dispatched (with an assignment, a due time of 15 days and a history of events),
most of those accepted, started and resolved after a skewed number of days, a share rated 1-5,
and 300 themes holding a fifth of them. PostgreSQL runs in a database created for the run with a
unique name (``--pg-url`` points at the server) and dropped afterwards. Each JSON line is one
report (period x scope): the best and the median of ``--repeat`` timings in seconds. Target: under
2 s per report.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.db import make_engine, make_session_factory, unit_of_work, upgrade
from models.directory import queries as directory
from models.directory.tables import Department
from models.reporting import reports
from models.suggestions.tables import Assignment, Event, Suggestion
from models.themes.tables import Theme, ThemeMember

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CATEGORIES = ("transport", "urban_construction", "environment", "power", "other")
VILLAGES = [f"村{i:02d}" for i in range(30)]


def generate(engine: Engine, n: int, seed: int = 0) -> float:
    """Insert ``n`` suggestions with assignments, events and themes; returns seconds taken."""
    started = time.perf_counter()
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        directory.seed_departments(session)
    with factory() as session:
        dept_ids = list(session.scalars(select(Department.id).order_by(Department.id)))
    rng = random.Random(seed)
    suggestions: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        submitted = NOW - timedelta(days=rng.random() ** 0.8 * 400, minutes=rng.randint(0, 1440))
        dept = rng.choice(dept_ids)
        row: dict[str, Any] = {
            "id": i,
            "tracking_code": f"B{i:09d}"[:16],
            "channel": rng.choice(("voice", "text")),
            "submitted_at": submitted,
            "updated_at": submitted,
            "village": rng.choice(VILLAGES),
            "requested_language": "zh",
            "text": f"建议{i}",
            "category": rng.choice(CATEGORIES),
            "category_source": "model",
            "confidence": 0.8,
            "department_id": dept,
            "status": "routed",
            "due_at": None,
            "satisfaction": None,
        }
        events.append(
            {"suggestion_id": i, "at": submitted, "actor": "worker", "kind": "routed", "detail": {}}
        )
        age_days = (NOW - submitted).total_seconds() / 86400
        if rng.random() < 0.9 and age_days > 0.5:
            dispatched = submitted + timedelta(hours=rng.uniform(1, 48))
            due = dispatched + timedelta(days=15)
            a: dict[str, Any] = {
                "suggestion_id": i,
                "department_id": dept,
                "dispatched_by": "admin",
                "dispatched_at": dispatched,
                "accepted_by": None,
                "accepted_at": None,
                "started_at": None,
                "resolved_by": None,
                "resolved_at": None,
            }
            row["status"], row["due_at"] = "dispatched", due
            resolve_after = timedelta(days=rng.lognormvariate(2.0, 0.7))
            if dispatched + resolve_after < NOW:
                a.update(
                    accepted_by="handler",
                    accepted_at=dispatched + timedelta(hours=2),
                    started_at=dispatched + timedelta(hours=4),
                    resolved_by="handler",
                    resolved_at=dispatched + resolve_after,
                )
                row["status"] = "closed" if rng.random() < 0.7 else "resolved"
                if rng.random() < 0.6:
                    row["satisfaction"] = rng.choices((1, 2, 3, 4, 5), (1, 1, 3, 6, 9))[0]
            elif rng.random() < 0.5:
                a.update(accepted_by="handler", accepted_at=dispatched + timedelta(hours=2))
                row["status"] = "accepted"
            assignments.append(a)
            for kind in ("dispatched", "accepted", "resolved"):
                if kind == "dispatched" or a[f"{kind}_at"] is not None:
                    events.append(
                        {"suggestion_id": i, "at": a[f"{kind}_at"], "actor": "x", "kind": kind, "detail": {}}
                    )
        suggestions.append(row)
    themes = [
        {
            "id": t,
            "category": CATEGORIES[t % 5],
            "title": f"主题{t}",
            "key_phrases": [],
            "curated": False,
            "state": "active",
            "created_at": NOW,
            "updated_at": NOW,
        }
        for t in range(1, 301)
    ]
    members = [
        {"suggestion_id": i, "theme_id": rng.randint(1, 300), "added_by": "bench", "added_at": NOW}
        for i in range(1, n + 1)
        if rng.random() < 0.2
    ]
    with engine.begin() as conn:
        for table, rows in (
            (Suggestion.__table__, suggestions),
            (Assignment.__table__, assignments),
            (Event.__table__, events),
            (Theme.__table__, themes),
            (ThemeMember.__table__, members),
        ):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start : start + 5000])  # type: ignore[arg-type]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT setval('suggestions_id_seq', (SELECT max(id) FROM suggestions))"))
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def time_reports(engine: Engine, backend: str, n: int, repeat: int) -> None:
    """Print one JSON line per report."""
    factory = make_session_factory(engine)
    cases = [
        ("week", "township", None),
        ("month", "township", None),
        ("quarter", "township", None),
        ("month", "department", "power_supply"),
        ("quarter", "village", VILLAGES[3]),
    ]
    with factory() as session:
        codes = list(session.scalars(select(Department.code).order_by(Department.code)))
    for period, scope, key in cases:
        if scope == "department" and key not in codes:
            key = codes[0]
        timings = []
        report = None
        for _ in range(repeat):
            started = time.perf_counter()
            with factory() as session:
                report = reports.build_report(
                    session, period=period, anchor=date(2026, 11, 10), scope=scope, key=key, now=NOW
                )
            timings.append(time.perf_counter() - started)
        assert report is not None
        print(
            json.dumps(
                {
                    "bench": "reports",
                    "backend": backend,
                    "suggestions": n,
                    "period": period,
                    "scope": scope,
                    "key": key,
                    "best_s": round(min(timings), 4),
                    "median_s": round(statistics.median(timings), 4),
                    "total_in_period": report.total,
                    "departments": len(report.departments),
                    "ratings": report.ratings,
                    "top_themes": len(report.top_themes),
                    "under_2s": max(timings) < 2.0,
                }
            ),
            flush=True,
        )


def main() -> None:
    """Generate, time, clean up."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    if "sqlite" in args.backends:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            upgrade(engine)
            seconds = generate(engine, args.n)
            print(
                json.dumps(
                    {
                        "bench": "reports",
                        "backend": "sqlite",
                        "generated": args.n,
                        "seconds": round(seconds, 1),
                    }
                )
            )
            time_reports(engine, "sqlite", args.n, args.repeat)
            engine.dispose()
    if "postgresql" in args.backends:
        name = f"minsheng_bench_reports_{uuid.uuid4().hex[:10]}"
        admin = create_engine(f"{args.pg_url}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            engine = make_engine(f"{args.pg_url}/{name}")
            upgrade(engine)
            seconds = generate(engine, args.n)
            print(
                json.dumps(
                    {
                        "bench": "reports",
                        "backend": "postgresql",
                        "generated": args.n,
                        "seconds": round(seconds, 1),
                    }
                )
            )
            time_reports(engine, "postgresql", args.n, args.repeat)
            engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()

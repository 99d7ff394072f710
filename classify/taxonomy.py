"""The five suggestion categories, in their fixed order, with Chinese and English display names."""

from __future__ import annotations

from dataclasses import dataclass

from models.errors import InvalidInput


@dataclass(frozen=True)
class Category:
    """One category: a stable ``code`` (stored and sent over the API) and its display names."""

    code: str
    zh: str
    en: str


CATEGORIES: tuple[Category, ...] = (
    Category("transport", "交通运输", "Transport"),
    Category("urban_construction", "城乡建设", "Urban & rural construction"),
    Category("environment", "生态环境", "Environment"),
    Category("power", "电力供应", "Power supply"),
    Category("other", "其他", "Other"),
)

LABELS: tuple[str, ...] = tuple(c.code for c in CATEGORIES)

_BY_CODE = {c.code: c for c in CATEGORIES}


def category(code: str) -> Category:
    """Return the category with this code; raise InvalidInput for an unknown code."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise InvalidInput(f"unknown category {code!r}; expected one of {', '.join(LABELS)}") from None

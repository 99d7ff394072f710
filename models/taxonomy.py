"""The suggestion categories: one row each, the one table everything else reads.

A category's code (stored and sent over the API), its display names, the department a fresh
install routes it to, its handling deadline, its Open311 keywords and its review-page key.
Adding a category is adding a row here (and examples for it in the seed set).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.errors import InvalidInput


@dataclass(frozen=True)
class Department:
    """The department a fresh install creates for a category."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Category:
    """One category and everything that hangs on it."""

    code: str
    zh: str
    en: str
    department: Department
    deadline_days: int
    keywords: tuple[str, ...]
    key: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "transport",
        "交通运输",
        "Transport",
        Department("transport_bureau", "交通运输局", "Transport Bureau"),
        15,
        ("road", "bus", "traffic", "parking", "道路", "公交", "交通", "停车"),
        "1",
    ),
    Category(
        "urban_construction",
        "城乡建设",
        "Urban & rural construction",
        Department("housing_bureau", "住房和城乡建设局", "Housing and Urban-Rural Construction Bureau"),
        30,
        ("housing", "building", "drainage", "street light", "住房", "建设", "排水", "路灯"),
        "2",
    ),
    Category(
        "environment",
        "生态环境",
        "Environment",
        Department("ecology_bureau", "生态环境局", "Ecology and Environment Bureau"),
        15,
        ("rubbish", "pollution", "water", "river", "垃圾", "污染", "河道", "环境"),
        "3",
    ),
    Category(
        "power",
        "电力供应",
        "Power supply",
        Department("power_station", "供电所", "Power Supply Station"),
        7,
        ("electricity", "power cut", "voltage", "停电", "电压", "供电"),
        "4",
    ),
    Category(
        "other",
        "其他",
        "Other",
        Department("general_office", "党政综合办公室", "General Office"),
        15,
        ("other", "其他"),
        "5",
    ),
)

LABELS: tuple[str, ...] = tuple(c.code for c in CATEGORIES)

_BY_CODE = {c.code: c for c in CATEGORIES}


#: What reports count suggestions without a category under, and what people read for it.
UNCLASSIFIED = "unclassified"
_UNCLASSIFIED_NAMES = ("未分类", "Not classified")


def category_name(code: str | None, lang: str = "zh") -> str:
    """What people read for a category code (the code itself for one this version does not know)."""
    c = _BY_CODE.get(code or "")
    if c is None:
        if code == UNCLASSIFIED:
            return _UNCLASSIFIED_NAMES[1] if lang == "en" else _UNCLASSIFIED_NAMES[0]
        return code or "–"
    return c.en if lang == "en" else c.zh


def category(code: str) -> Category:
    """Return the category with this code; raise InvalidInput for an unknown code."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise InvalidInput(
            "unknown category '%(code)s'; expected one of %(labels)s", code=code, labels=", ".join(LABELS)
        ) from None

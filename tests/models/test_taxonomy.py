"""The category table is fixed: order, codes, display names, default departments, deadlines, Open311
keywords and review keys are part of the product."""

from __future__ import annotations

import dataclasses

import pytest

from models.errors import InvalidInput
from models.taxonomy import CATEGORIES, LABELS, category

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


def test_five_categories_in_order() -> None:
    assert LABELS == ("transport", "urban_construction", "environment", "power", "other")
    assert tuple(c.code for c in CATEGORIES) == LABELS


def test_display_names() -> None:
    assert [(c.zh, c.en) for c in CATEGORIES] == [
        ("交通运输", "Transport"),
        ("城乡建设", "Urban & rural construction"),
        ("生态环境", "Environment"),
        ("电力供应", "Power supply"),
        ("其他", "Other"),
    ]


def test_lookup_and_immutability() -> None:
    power = category("power")
    assert (power.code, power.zh, power.en) == ("power", "电力供应", "Power supply")
    assert (power.department.code, power.deadline_days, power.key) == ("power_station", 7, "4")
    with pytest.raises(dataclasses.FrozenInstanceError):
        power.zh = "电"  # type: ignore[misc]


def test_unknown_code_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as info:
        category("water")
    assert info.value.kind == "InvalidInput"
    assert "'water'" in info.value.detail and "transport" in info.value.detail


def test_every_category_has_a_department_a_deadline_keywords_and_its_own_key() -> None:
    assert [c.department.code for c in CATEGORIES] == [
        "transport_bureau",
        "housing_bureau",
        "ecology_bureau",
        "power_station",
        "general_office",
    ]
    assert [c.deadline_days for c in CATEGORIES] == [15, 30, 15, 7, 15]
    assert [c.key for c in CATEGORIES] == ["1", "2", "3", "4", "5"]
    for c in CATEGORIES:
        assert c.zh.strip() and c.en.strip() and c.department.zh.strip() and c.department.en.strip()
        assert c.keywords and all(k.strip() for k in c.keywords)

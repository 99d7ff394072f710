"""The category list is fixed: order, codes and display names are part of the product."""

from __future__ import annotations

import dataclasses

import pytest

from classify.taxonomy import CATEGORIES, LABELS, Category, category
from models.errors import InvalidInput


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
    assert power == Category("power", "电力供应", "Power supply")
    with pytest.raises(dataclasses.FrozenInstanceError):
        power.zh = "电"  # type: ignore[misc]


def test_unknown_code_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as info:
        category("water")
    assert info.value.kind == "InvalidInput"
    assert "'water'" in info.value.detail and "transport" in info.value.detail

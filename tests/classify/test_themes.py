"""Grouping texts into themes, key phrases and nearest-text similarity on fixed data."""

from __future__ import annotations

import pytest

from classify.themes import METHODS, ThemeOptions, cluster, key_phrases, most_similar

PARKING = [
    "五星路上乱停车太严重了，车都停到人行道上",
    "五星路停车乱，人行道被汽车占满",
    "五星路乱停车，晚上车辆停满人行道",
]
LIGHTS = [
    "村口路灯坏了，晚上一片漆黑",
    "村口的路灯坏了好几天，晚上很黑",
    "路灯坏了，村口晚上太黑",
]
ENGLISH = [
    "Street light not working on Mill Lane",
    "Street light on Mill Lane is not working at night",
    "Fly tipping behind the shops, bags of rubbish dumped",
    "Rubbish bags dumped behind the shops, fly tipping again",
]


def test_the_same_concrete_issue_lands_in_one_theme_and_different_issues_apart() -> None:
    labels = cluster(PARKING + LIGHTS)
    assert len(set(labels[:3])) == 1
    assert len(set(labels[3:])) == 1
    assert labels[0] != labels[3]


def test_english_reports_group_by_issue() -> None:
    labels = cluster(ENGLISH)
    assert labels[0] == labels[1]
    assert labels[2] == labels[3]
    assert labels[0] != labels[2]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_separates_the_two_chinese_issues(method: str) -> None:
    labels = cluster(PARKING + LIGHTS, ThemeOptions(method=method))
    assert labels[0] != labels[3]


def test_a_very_tight_threshold_keeps_every_text_alone() -> None:
    labels = cluster(PARKING, ThemeOptions(distance_threshold=0.01))
    assert len(set(labels)) == 3


def test_edge_sizes_and_unknown_method() -> None:
    assert cluster([]) == []
    assert cluster(["只有一条"]) == [0]
    with pytest.raises(ValueError, match="unknown theme method"):
        cluster(PARKING, ThemeOptions(method="magic"))


def test_key_phrases_name_the_issue_in_chinese_and_english() -> None:
    zh = key_phrases(PARKING)
    assert any("停车" in p for p in zh), zh
    assert any("五星路" in p for p in zh), zh
    en = key_phrases(ENGLISH[:2])
    assert any("street light" in p or "mill lane" in p for p in en), en
    assert all(p.split()[0] not in {"the", "on", "is"} for p in en)
    assert key_phrases(["", "  "]) == []


def test_most_similar_finds_the_repeat_and_scores_unrelated_text_low() -> None:
    index, score = most_similar("五星路乱停车，人行道上停满了车", LIGHTS + PARKING[:1]) or (None, 0.0)
    assert index == 3
    assert score > 0.3
    _, low = most_similar("五星路乱停车", LIGHTS) or (None, 1.0)
    assert low < 0.2
    assert most_similar("text", []) is None

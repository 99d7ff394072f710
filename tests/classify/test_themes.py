"""Grouping texts into themes, joining them, naming them, and nearest-text similarity."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

from classify.themes import (
    METHODS,
    ThemeOptions,
    add_places,
    cluster,
    join,
    key_phrases,
    most_similar,
    opening,
    theme_phrases,
    theme_title,
)

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

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


def test_a_new_text_joins_the_theme_it_is_about_and_an_unrelated_one_none() -> None:
    places = join(
        ["五星路又有人乱停车，人行道上都是车", "河里有死鱼，水很臭", "路灯不亮，村口很黑"], [PARKING, LIGHTS]
    )
    assert places == [0, None, 1]
    assert join(["Lamp post light out on Mill Lane"], [ENGLISH[:2], ENGLISH[2:]]) == [0]
    assert join(["五星路乱停车"], []) == [None]
    assert join([], [PARKING]) == []


def test_theme_titles_are_whole_words_top_phrase_first() -> None:
    parking, lights, en_lights, en_tipping = theme_phrases([PARKING, LIGHTS, ENGLISH[:2], ENGLISH[2:]])
    assert parking[:3] == ["五星路", "人行道", "停车"]  # the road's name whole, not "五星" or "星路上"
    assert "路灯" in lights[:2]
    assert en_lights[0] == "street light" and "mill lane" in en_lights
    assert en_tipping[0] == "fly tipping"
    assert theme_title(parking, PARKING) == "五星路 · 人行道 · 停车"
    assert theme_title([], ["  只有原文  "]) == "只有原文"


def test_known_place_names_stay_whole() -> None:
    texts = ["塘岙那边的自来水又停了", "塘岙自来水停水三天了", "塘岙自来水管爆了，停水"]
    add_places(["塘岙", "浙江省淳安县枫树岭镇下姜村12号"])
    phrases = key_phrases(texts)
    assert phrases[0] in {"塘岙", "自来水"}, phrases
    assert "塘岙" in phrases and not any(p.startswith("岙") for p in phrases)
    assert "下姜村" in key_phrases(["下姜村的路灯坏了", "下姜村路灯不亮"])


def _whole_words(phrase: str, texts: list[str]) -> bool:
    if re.search(r"[\u4e00-\u9fff]", phrase):
        return (
            any(phrase in t for t in texts)
            and phrase[0] not in "的了在是和与就都也"
            and phrase[-1] not in "的了在是和与"
        )
    return any(re.search(rf"\b{re.escape(phrase)}s?\b", t.lower()) for t in texts)


def _groups(path: Path, key: str, names: list[str], size: int) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        found: dict[str, list[str]] = defaultdict(list)
        for row in csv.DictReader(f):
            found[row[key]].append(row["text"])
    return [found[n][:size] for n in names]


def test_titles_on_real_messages_are_words_a_clerk_would_write(shared_eval: Path) -> None:
    en = ["Fly Tipping", "Street lighting", "Potholes", "Graffiti", "Blocked Drain", "Dog Fouling"]
    en_groups = _groups(shared_eval / "text" / "en_fixmystreet_train.csv", "source_category", en, 40)
    zh = ["城乡建设", "教育文体", "劳动和社会保障", "交通运输", "环境保护", "卫生计生"]
    zh_groups = _groups(shared_eval / "text" / "zh_teddycup_train_raw.csv", "source_label", zh, 40)
    en_phrases = theme_phrases(en_groups)
    zh_phrases = theme_phrases(zh_groups)
    for phrases, texts in [
        *zip(en_phrases, en_groups, strict=True),
        *zip(zh_phrases, zh_groups, strict=True),
    ]:
        assert len(phrases) == 5
        assert all(_whole_words(p, texts) for p in phrases), phrases
        assert all(len(p.split()) <= 2 for p in phrases)
    tops = {name: " ".join(p[:3]) for name, p in zip(en + zh, en_phrases + zh_phrases, strict=True)}
    assert "fly tipping" in tops["Fly Tipping"] or "rubbish" in tops["Fly Tipping"], tops
    assert en_phrases[1][0].startswith("street light"), tops
    assert en_phrases[2][0] == "pothole", tops
    assert en_phrases[3][0] == "graffiti", tops
    assert "drain" in tops["Blocked Drain"] and "dog" in tops["Dog Fouling"], tops
    assert "学校" in tops["教育文体"] and "社保" in tops["劳动和社会保障"], tops
    assert "污染" in tops["环境保护"] and "医院" in tops["卫生计生"], tops


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("五星路乱停车。人行道被占满，老人走路不方便。", "五星路乱停车。"),
        ("路灯坏了！晚上很黑", "路灯坏了！"),
        ("村口路灯坏了，晚上一片漆黑", "村口路灯坏了，晚上一片漆黑"),  # one sentence: all of it
        ("Pothole outside No. 12. It is 3.5 cm deep and growing", "Pothole outside No. 12."),
        ("Fly tipping again? Bags dumped behind the shops", "Fly tipping again?"),
        ("   ", "   "),
    ],
)
def test_the_opening_sentence_is_what_a_report_says_first(text: str, first: str) -> None:
    assert opening(text) == first


def test_reports_that_open_with_the_same_issue_group_together_whatever_their_details() -> None:
    """Same openings, details that cross over (bus stop, school gate): grouped by the issue."""
    texts = [
        "Street light not working. The lamp by the bus stop has been out for a week.",
        "Street light not working. Dark all night near the school gate.",
        "Pothole in the road. Near the bus stop, a week old, cars swerve around it.",
        "Pothole in the road. By the school gate, deep and full of water.",
    ]
    labels = cluster(texts, ThemeOptions(distance_threshold=0.8))
    assert ThemeOptions().method == "meaning_opening_mixed_agglo_average"
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]

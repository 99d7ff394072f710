"""Opinions on one topic grouped into themes with the real sentence encoder, titled by key phrases."""

from __future__ import annotations

import pytest

from classify.opinion_themes import group_opinions
from classify.themes import ThemeOptions

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

PARKING = [
    "五星路两边应该多划一些停车位，晚上车子没地方停。",
    "停车位太少了，希望在五星路划停车位。",
    "建议五星路增加停车位，别让车停在人行道上。",
]
NOISE = [
    "广场舞的音乐太吵了，晚上九点以后应该停止。",
    "广场舞音乐声音太大，影响老人小孩晚上睡觉。",
    "晚上跳广场舞放音乐太吵，希望规定时间。",
]


def test_opinions_saying_the_same_thing_share_a_theme_named_by_whole_words() -> None:
    texts: list[str | None] = [PARKING[0], NOISE[0], None, PARKING[1], NOISE[1], PARKING[2], NOISE[2]]
    themes = group_opinions(texts)
    titled = [t for t in themes if t.title]
    assert sorted(sorted(t.members) for t in titled) == [[0, 3, 5], [1, 4, 6]]
    by_first = {t.members[0]: t for t in titled}
    assert "停车位" in by_first[0].key_phrases[:2] and "音乐" in by_first[1].key_phrases[:3]
    assert by_first[0].title.startswith(by_first[0].key_phrases[0])
    assert all(2 not in t.members for t in themes)  # no text yet: in no theme


def test_an_opinion_like_no_other_is_shown_once_among_the_other_opinions() -> None:
    texts: list[str | None] = [*PARKING, "学校门口的红绿灯坏了。"]
    themes = group_opinions(texts, ThemeOptions())
    assert [sorted(t.members) for t in themes] == [[0, 1, 2], [3]]
    assert (themes[-1].title, themes[-1].key_phrases) == ("", [])
    assert group_opinions([]) == [] and group_opinions([None, " "]) == []

"""The Mandarin character n-gram model used to rescore n-best hypotheses."""

from __future__ import annotations

import math

import pytest

from intake.charlm import CharNgramLM, han_runs

pytestmark = pytest.mark.database_free

CIVIC = [
    "村口的路灯坏了一个星期，晚上走路看不见。",
    "河边有人倒垃圾，臭味很大。",
    "村里停电三天了，冰箱里的东西都坏了。",
    "路口红绿灯坏了，车子乱停。",
]


def test_text_like_the_training_text_is_likelier_than_a_sound_alike_garble() -> None:
    lm = CharNgramLM(CIVIC, order=3)
    assert lm.logprob("路灯坏了") > lm.logprob("陆登怀了")
    assert lm.logprob("村里停电了") > lm.logprob("村里停了电") > lm.logprob("寸里亭店了")


def test_only_chinese_characters_count_and_every_probability_is_a_probability() -> None:
    lm = CharNgramLM(CIVIC, order=3)
    assert lm.logprob("") == lm.logprob("ABC 123") == 0.0
    assert lm.logprob("路灯, OK 坏了") == lm.logprob("路灯") + lm.logprob("坏了")
    assert han_runs("路灯, OK 坏了") == ["路灯", "坏了"]
    assert all(-math.inf < lm.logprob(c) < 0 for c in "路灯龘")


def test_an_order_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        CharNgramLM(CIVIC, order=0)

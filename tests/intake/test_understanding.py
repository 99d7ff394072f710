"""The doubts that send a transcript to a clerk: low confidence, an unknown language, guessed
Mandarin characters, a script no note is written in."""

from __future__ import annotations

import math
from typing import Any

import pytest

from intake.understanding import UnderstandingPolicy, doubts, token_probability

pytestmark = pytest.mark.database_free

POLICY = UnderstandingPolicy()


def _segment(start: float, end: float, probability: float) -> dict[str, Any]:
    return {
        "start": start,
        "end": end,
        "text": "x",
        "avg_logprob": math.log(probability),
        "no_speech_prob": 0.01,
        "compression_ratio": 1.0,
    }


def _doubts(text: str, language: str = "zh", language_probability: float = 0.99, **kw: Any) -> list[str]:
    segments = kw.pop("segments", [_segment(0.0, 3.0, 0.7)])
    found = doubts(
        POLICY,
        text=text,
        language=language,
        language_probability=language_probability,
        confidence=kw.pop("confidence", 0.6),
        segments=segments,
    )
    return [reason.english() for reason in found]


def test_a_clear_mandarin_note_raises_no_doubt() -> None:
    assert _doubts("村口的路灯坏了好几天了，晚上走路看不见。") == []


def test_token_probability_is_weighted_by_duration_and_ignores_broken_segments() -> None:
    segments = [_segment(0.0, 3.0, 0.8), _segment(3.0, 4.0, 0.2), {"avg_logprob": "nan?"}, {"start": 1}]
    expected = math.exp((3 * math.log(0.8) + 1 * math.log(0.2)) / 4)
    assert token_probability(segments) == pytest.approx(expected)
    assert token_probability([]) is None


def test_mostly_guessed_mandarin_characters_go_to_a_clerk() -> None:
    reasons = _doubts("补在西洋的雨灰也切碎日醉妹后的养子", segments=[_segment(0.0, 5.0, 0.45)])
    assert len(reasons) == 1 and "mean word probability 0.45" in reasons[0]


def test_english_is_not_gated_on_token_probability() -> None:
    assert (
        _doubts("The street light is out on Mill Lane", language="en", segments=[_segment(0, 3, 0.45)]) == []
    )


def test_an_unsure_guess_of_mandarin_goes_to_a_clerk() -> None:
    reasons = _doubts("我需要得罪啊老政府都跟酒入味的人夸嘛", language_probability=0.18)
    assert len(reasons) == 1 and "could not tell which language" in reasons[0] and "0.18" in reasons[0]


def test_english_is_not_gated_on_language_probability() -> None:
    assert _doubts("The lit signs have no number", language="en", language_probability=0.44) == []


@pytest.mark.parametrize("text", ["村口のみちがこわれた", "길이 망가졌어요", "路灯\ufffd坏了"])
def test_kana_hangul_or_undecodable_bytes_go_to_a_clerk(text: str) -> None:
    assert any("unexpected script" in r for r in _doubts(text))


def test_latin_letters_in_a_mandarin_note_are_fine() -> None:
    assert _doubts("小区的WiFi信号塔下面垃圾没人清，4S店门口也堆满了") == []


def test_low_confidence_comes_first_and_every_doubt_is_listed() -> None:
    reasons = _doubts("路灯ア", language_probability=0.3, confidence=0.2, segments=[_segment(0, 2, 0.3)])
    assert reasons[0].startswith("The speech was hard to understand (transcript confidence 0.20).")
    assert len(reasons) == 4

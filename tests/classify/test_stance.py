"""The stance of an opinion from its cue phrases, with negation, in Chinese and English."""

from __future__ import annotations

import pytest

from classify.stance import classify_stance, cues
from models.consultation.words import Stance

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

CASES = [
    ("我支持这个方案", Stance.SUPPORT),
    ("赞成！早就该修了", Stance.SUPPORT),
    ("同意", Stance.SUPPORT),
    ("不反对", Stance.SUPPORT),  # a negated objection
    ("我坚决反对收费", Stance.OPPOSE),
    ("我不同意第三条", Stance.OPPOSE),  # "同意" inside "不同意" is negated
    ("我不太支持", Stance.OPPOSE),  # a degree word between the negation and the cue
    ("收费不合理", Stance.OPPOSE),
    ("没必要修这么宽", Stance.OPPOSE),
    ("建议把开放时间改到晚上", Stance.SUGGESTION),
    ("希望早点开工", Stance.SUGGESTION),
    ("路口应该装个红绿灯", Stance.SUGGESTION),
    ("支持，但建议把时间改到晚上", Stance.SUGGESTION),  # asks for a change
    ("反对，建议取消收费", Stance.OPPOSE),  # the objection outweighs
    ("I support this plan", Stance.SUPPORT),
    ("I am not against it", Stance.SUPPORT),
    ("I do not agree with clause 3", Stance.OPPOSE),
    ("I disagree, the fee is unfair", Stance.OPPOSE),
    ("We should add more street lights", Stance.SUGGESTION),
    ("The street light is broken. Please fix it.", Stance.SUGGESTION),
    ("村里的路", Stance.SUGGESTION),  # no cue: neither for nor against
    ("", Stance.SUGGESTION),
]


@pytest.mark.parametrize(("text", "stance"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_cue_phrases_and_negation_decide_the_stance(text: str, stance: Stance) -> None:
    assert classify_stance(text) == stance


def test_full_width_text_is_read_like_half_width() -> None:
    assert classify_stance("Ｉ ＳＵＰＰＯＲＴ ｉｔ") == Stance.SUPPORT


def test_one_stretch_of_text_is_one_cue() -> None:
    found = cues("没必要")  # one oppose cue, not also a negated "必要"
    assert (found.support, found.oppose, found.suggestion) == (0, 1, 0)

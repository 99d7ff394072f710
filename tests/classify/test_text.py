"""normalise(): one spelling per word for the classifier."""

from __future__ import annotations

import pytest

from classify.text import normalise, to_simplified

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("廣州市開發區停電了", "广州市开发区停电了"),  # Whisper sometimes writes Traditional
        ("這條馬路的路燈壞了", "这条马路的路灯坏了"),
        ("乾淨的河水", "干净的河水"),
        ("村里停电了", "村里停电了"),  # Simplified is left alone
    ],
)
def test_traditional_to_simplified(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_full_width_to_half_width_and_lowercase() -> None:
    assert normalise("ＡＢＣ１２３，Ｗｕｘｉｎｇ Ｒｏａｄ") == "abc123,wuxing road"


def test_whitespace_collapsed_and_stripped() -> None:
    assert normalise("  Street \t LIGHT\n\n broken\u3000here  ") == "street light broken here"


def test_empty_and_blank() -> None:
    assert normalise("") == ""
    assert normalise(" \n\t\u3000") == ""


def test_to_simplified_matches_opencc_on_mixed_text() -> None:
    # The fast path (skip texts without Traditional characters) must not change results.
    from opencc import OpenCC

    converter = OpenCC("t2s")
    for text in ["電力公司", "电力公司", "我們村裡沒有電", "English only", "後來的发展", "瞭解"]:
        assert to_simplified(text) == converter.convert(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("市 西湖 建筑 集团 占 道 施工", "市西湖建筑集团占道施工"),  # jieba-segmented rows
        ("村口 公路，坑坑洼洼 。", "村口公路,坑坑洼洼。"),  # NFKC turns ， into ,: a space before stays
        ("停电 power cut 三 次", "停电 power cut 三次"),  # spaces next to Latin words stay
        ("A3 区 大道", "a3 区大道"),
        ("路灯\u3000坏了", "路灯坏了"),  # ideographic space
    ],
)
def test_spaces_between_chinese_characters_removed(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_english_spacing_unchanged() -> None:
    assert normalise("Street light  not working. Outside 92 Mill Lane") == (
        "street light not working. outside 92 mill lane"
    )

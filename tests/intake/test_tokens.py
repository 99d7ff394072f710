"""Which Whisper tokens are suppressed for Mandarin, on the real Whisper base vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.tokens import suppressible_tokens
from intake.weights import ensure_base_model

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


@pytest.fixture(scope="module")
def tokenizer(weights_cache: Path) -> object:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(ensure_base_model(weights_cache) / "tokenizer.json"))


def _ids(tokenizer: object, text: str) -> list[int]:
    return list(tokenizer.encode(text, add_special_tokens=False).ids)  # type: ignore[attr-defined]


def test_kana_and_hangul_go_but_chinese_digits_and_latin_stay(tokenizer: object) -> None:
    decode = tokenizer.decode  # type: ignore[attr-defined]
    end = tokenizer.token_to_id("<|endoftext|>")  # type: ignore[attr-defined]
    foreign = set(suppressible_tokens(lambda t: decode([t]), range(end)))
    for gone in ("です", "の", "는", " это"):  # a hangul syllable split across tokens stays
        assert set(_ids(tokenizer, gone)) <= foreign, gone
    for kept in ("路灯坏了", "2026", " the", "APP", "，。"):
        assert not set(_ids(tokenizer, kept)) & foreign, kept
    with_latin = set(suppressible_tokens(lambda t: decode([t]), range(end), ("foreign", "latin")))
    assert set(_ids(tokenizer, "the")) <= with_latin and foreign < with_latin
    assert not set(_ids(tokenizer, "路灯坏了2026")) & with_latin


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown token kinds"):
        suppressible_tokens(str, range(3), ("greek",))

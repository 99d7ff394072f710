"""Text normalisation shared by training and prediction, so both see the same characters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

_SPACE = re.compile(r"\s+")
# CJK ideographs and CJK punctuation (after NFKC, full-width punctuation is already half-width ASCII).
_CJK = "\u2e80-\u9fff\uf900-\ufaff"
# Whitespace between two CJK characters: Chinese is written without spaces, but segmented training
# data (words joined by spaces, as jieba writes them) and some transcripts put spaces between words.
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    # Loading the dictionaries takes a noticeable fraction of a second: do it once per process.
    converter = OpenCC("t2s")
    converter.convert("")  # forces the dictionaries to load, filling converter.dict_cache
    return converter


@lru_cache(maxsize=1)
def _traditional_triggers() -> frozenset[str] | None:
    """Characters at which some t2s dictionary entry changes the text, or None if unknown.

    The pure-Python OpenCC takes about 0.7 ms per message; nine in ten Simplified messages contain
    none of these characters, and for them conversion is the identity, so it can be skipped.
    """
    cache = getattr(_t2s(), "dict_cache", None)
    if not isinstance(cache, dict) or not cache:
        return None
    triggers: set[str] = set()
    for entry in cache.values():
        mapping = entry[2]
        for key, value in mapping.items():
            first = value.split(" ")[0]  # entries list alternatives: "乾\t干 乾"
            if key == first:
                continue
            if len(key) == len(first):
                triggers.update(k for k, v in zip(key, first, strict=True) if k != v)
            else:
                triggers.update(key)
    return frozenset(triggers)


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters in ``text`` to Simplified (OpenCC t2s)."""
    triggers = _traditional_triggers()
    if triggers is not None and triggers.isdisjoint(text):
        return text
    return str(_t2s().convert(text))


def normalise(text: str) -> str:
    """Return ``text`` in Simplified Chinese, NFKC (half-width), lowercase, single-spaced and stripped,
    with no whitespace between two Chinese characters.

    Whisper sometimes writes Mandarin in Traditional characters and phones type full-width Latin
    letters and digits; folding both here means the classifier sees one spelling of each word.
    Word-segmented Chinese ("村口 公路 坑坑洼洼") becomes the unsegmented text it was made from, so
    a model trained on segmented rows sees the same character n-grams as in a villager's message.
    """
    if not text:
        return ""
    text = to_simplified(unicodedata.normalize("NFKC", text))
    text = _CJK_GAP.sub("", text)
    return _SPACE.sub(" ", text.lower()).strip()

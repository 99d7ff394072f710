"""Whisper tokens a Mandarin note never needs, to suppress when decoding Mandarin.

Whisper base, unsure of a word, sometimes writes it in kana, hangul or Latin letters; a township's
Mandarin notes hold none of those scripts (Latin is kept apart: "APP", "WiFi" do occur).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Scripts a Mandarin note never contains: kana, hangul, Cyrillic, Thai, Arabic, Hebrew, Devanagari.
FOREIGN_SCRIPTS = re.compile(
    r"[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\u0400-\u04ff"
    r"\u0e00-\u0e7f\u0600-\u06ff\u0590-\u05ff\u0900-\u097f]"
)
LATIN_ONLY = re.compile(r"\s?[A-Za-z]+")
KINDS = ("foreign", "latin")


def suppressible_tokens(
    token_text: Callable[[int], str], token_ids: Iterable[int], kinds: Iterable[str] = ("foreign",)
) -> tuple[int, ...]:
    """Ids among ``token_ids`` whose text is in a foreign script ("foreign") or only Latin letters
    ("latin"). ``token_text`` decodes one id; partial UTF-8 pieces (U+FFFD) are never suppressed."""
    chosen = set(kinds)
    if unknown := chosen - set(KINDS):
        raise ValueError(f"unknown token kinds: {sorted(unknown)}")
    found: list[int] = []
    for token in token_ids:
        text = token_text(token)
        if "\ufffd" in text:
            continue
        if ("foreign" in chosen and FOREIGN_SCRIPTS.search(text)) or (
            "latin" in chosen and LATIN_ONLY.fullmatch(text)
        ):
            found.append(token)
    return tuple(found)

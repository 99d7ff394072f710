"""Where an opinion on a consultation topic stands: support, oppose or a suggestion.

A small rule-based classifier over cue phrases in Chinese and English, general enough for any
topic (no training data exists for stances yet, and staff correct a stance on the topic's page).
A cue just after a negation flips between support and oppose: 不同意 / 不支持 / "don't agree" are
oppose, 不反对 / "not against" are support. The decision:

- more oppose cues than support cues: ``oppose``;
- more support cues, and no suggestion cue: ``support``;
- a suggestion cue (建议 / 希望 / 应该 / "should" / "suggest" ...): ``suggestion`` ("支持，但建议…"
  asks for a change, so it counts as a suggestion);
- support cues alone: ``support``; no cue at all: ``suggestion`` (an opinion that neither
  agrees nor objects most often proposes something).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from models.consultation.words import Stance

SUPPORT_ZH = ("支持", "赞成", "同意", "赞同", "拥护", "认可", "点赞", "合理", "好事", "很好", "挺好", "必要")
OPPOSE_ZH = ("反对", "抗议", "不行", "不妥", "没必要", "不需要", "不满")
SUGGEST_ZH = ("建议", "希望", "应该", "应当", "最好", "能否", "能不能", "可否", "可以考虑", "要求", "请")
#: Words that turn the cue right after them around (up to two characters of degree in between).
NEGATION_ZH = ("不是很", "不太", "并不", "绝不", "毫不", "从不", "没有", "不", "没", "别", "未", "非")
_DEGREE_ZH = "很太是会都也大"

SUPPORT_EN = (
    r"support(?:s|ed|ing)?", r"agree(?:s|d)?", r"in favou?r", r"approve(?:s|d)?", r"good idea",
    r"great idea", r"welcome(?:s|d)?", r"for it", r"back(?:s|ing)? (?:it|this|the)",
)  # fmt: skip
OPPOSE_EN = (
    r"oppose(?:s|d)?", r"against", r"disagree(?:s|d)?", r"object(?:s|ed)? to", r"reject(?:s|ed)?",
    r"bad idea", r"unfair", r"unnecessary",
)  # fmt: skip
SUGGEST_EN = (
    r"suggest(?:s|ed|ion)?", r"should", r"hope", r"recommend(?:s|ed)?", r"propose(?:s|d)?",
    r"would be better", r"better to", r"could you", r"please", r"instead",
)  # fmt: skip
NEGATION_EN = r"(?:not|no|never|don'?t|doesn'?t|didn'?t|do not|does not|cannot|can'?t|won'?t|isn'?t|aren'?t)"

_EN = {
    kind: re.compile(rf"\b(?P<neg>{NEGATION_EN}\s+(?:\w+\s+){{0,1}})?(?:{'|'.join(cues)})\b")
    for kind, cues in (("support", SUPPORT_EN), ("oppose", OPPOSE_EN), ("suggest", SUGGEST_EN))
}


@dataclass(frozen=True)
class StanceCues:
    """The cues found in a text, counted after negation (for explaining a decision)."""

    support: int
    oppose: int
    suggestion: int


def _negated_zh(text: str, start: int) -> bool:
    """Whether a negation word ends right before ``start`` (degree words such as 很/太 may sit between)."""
    before = text[max(0, start - 5) : start].rstrip(_DEGREE_ZH)
    return before.endswith(NEGATION_ZH)


def _zh_hits(text: str, cues: tuple[str, ...], taken: set[int] | None = None) -> list[int]:
    """Start positions of the cues, longest first, never counting one stretch of text twice
    (positions in ``taken`` are already another cue's; the new hits are added to it)."""
    taken = set() if taken is None else taken
    starts = []
    for cue in sorted(cues, key=len, reverse=True):
        for match in re.finditer(re.escape(cue), text):
            span = set(range(match.start(), match.end()))
            if span & taken:
                continue
            taken |= span
            starts.append(match.start())
    return starts


def cues(text: str) -> StanceCues:
    """Count support, oppose and suggestion cues in ``text`` (negated support counts as oppose and
    the other way round)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    support = oppose = suggestion = 0
    taken: set[int] = set()
    oppose_starts = _zh_hits(text, OPPOSE_ZH, taken)
    for start in _zh_hits(text, SUPPORT_ZH, taken):  # "没必要" is one oppose cue, not a negated "必要"
        if _negated_zh(text, start):
            oppose += 1
        else:
            support += 1
    for start in oppose_starts:
        if _negated_zh(text, start):
            support += 1  # 不反对
        else:
            oppose += 1
    suggestion += len(_zh_hits(text, SUGGEST_ZH))
    for match in _EN["support"].finditer(text):
        if match.group("neg"):
            oppose += 1
        else:
            support += 1
    for match in _EN["oppose"].finditer(text):
        if match.group("neg"):
            support += 1
        else:
            oppose += 1
    suggestion += sum(1 for _ in _EN["suggest"].finditer(text))
    return StanceCues(support, oppose, suggestion)


def classify_stance(text: str) -> Stance:
    """The stance of one opinion (see the module docstring for the rule)."""
    found = cues(text)
    if found.oppose > found.support:
        return Stance.OPPOSE
    if found.suggestion:
        return Stance.SUGGESTION
    if found.support:
        return Stance.SUPPORT
    return Stance.SUGGESTION

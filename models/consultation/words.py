"""The closed vocabularies of a consultation: stances, outcomes, meeting kinds, and their words.

The database stores the enum values; pages read the (Chinese, English) words from here.
"""

from __future__ import annotations

from enum import StrEnum


class Stance(StrEnum):
    """Where an opinion stands on the topic (or on one clause of its draft)."""

    SUPPORT = "support"
    OPPOSE = "oppose"
    SUGGESTION = "suggestion"  # neither for nor against: a change or an idea


class Outcome(StrEnum):
    """How a topic ended."""

    DECIDED = "decided"  # closed with decisions
    LIVELIHOOD_CANDIDATE = "livelihood_candidate"  # turned into a 民生实事 candidate
    FORWARDED = "forwarded"  # forwarded as a written suggestion (书面建议)


class MeetingKind(StrEnum):
    """The meeting held on a topic."""

    RECEPTION = "reception"  # 主题接待
    MEETING = "meeting"  # 协商会议


STANCE_NAMES: dict[str, tuple[str, str]] = {
    Stance.SUPPORT: ("支持", "Support"),
    Stance.OPPOSE: ("反对", "Oppose"),
    Stance.SUGGESTION: ("修改建议", "Suggestion"),
}

OUTCOME_NAMES: dict[str, tuple[str, str]] = {
    Outcome.DECIDED: ("已协商，形成决定", "Closed with decisions"),
    Outcome.LIVELIHOOD_CANDIDATE: ("列入民生实事候选项目", "Became a livelihood-project candidate"),
    Outcome.FORWARDED: ("已形成书面建议转交办理", "Forwarded as a written suggestion"),
}

MEETING_NAMES: dict[str, tuple[str, str]] = {
    MeetingKind.RECEPTION: ("主题接待", "Themed reception"),
    MeetingKind.MEETING: ("协商会议", "Consultation meeting"),
}

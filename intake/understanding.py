"""Whether the recogniser understood a voice note: the doubts that send its transcript to a clerk.

Speech Whisper cannot follow (Wu dialect, noise, music) still comes out as fluent-looking text, and
the classifier then files it with confidence. What the recogniser itself reports gives it away: it
could not tell which language it heard, it guessed most of its Mandarin characters with less than
even odds, or it wrote a script no villager's note is in (kana, hangul, undecodable bytes).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.errors import N_
from models.suggestions.reasons import Reason

# Scripts a Mandarin or English note is never written in: Japanese kana, Korean hangul, and U+FFFD
# (the recogniser emitted bytes that are not text).
_FOREIGN_SCRIPT = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u1100-\u11ff\u3130-\u318f\uac00-\ud7af\ufffd]")


@dataclass(frozen=True)
class UnderstandingPolicy:
    """How sure the recogniser must be of a transcript before the machine may act on it alone."""

    # The combined transcript confidence (intake.asr.transcript_confidence).
    min_confidence: float = 0.4
    # Per transcript language, two floors at even odds. Language identification: below it the
    # recogniser did not know what it heard (a Chinese dialect comes out as unsure "Mandarin").
    # Mean probability of the decoded tokens (exp of the duration-weighted avg_logprob): a
    # Mandarin token is about one character, so below it most characters are sound-alike guesses,
    # as for a dialect Whisper does not know. English is gated by neither: the townships' dialects
    # come out as Mandarin, and clean synthetic English notes already decode near even odds
    # (figures: bench/unclear_speech.py).
    min_language_probability: Mapping[str, float] = field(default_factory=lambda: {"zh": 0.5})
    min_token_probability: Mapping[str, float] = field(default_factory=lambda: {"zh": 0.5})
    # Refuse transcripts in a script no note is written in.
    check_script: bool = True


def token_probability(segments: Sequence[Mapping[str, Any]]) -> float | None:
    """The mean token probability over ``segments`` (stored dicts), weighted by duration; None if none."""
    weighted, total = 0.0, 0.0
    for segment in segments:
        try:
            logprob = float(segment["avg_logprob"])
            seconds = max(float(segment["end"]) - float(segment["start"]), 0.01)
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(logprob):
            weighted += seconds * min(logprob, 0.0)
            total += seconds
    return math.exp(weighted / total) if total else None


def doubts(
    policy: UnderstandingPolicy,
    *,
    text: str,
    language: str,
    language_probability: float,
    confidence: float,
    segments: Sequence[Mapping[str, Any]],
) -> list[Reason]:
    """Why the transcript may not say what the villager said (empty: it can be trusted)."""
    reasons = []
    if confidence < policy.min_confidence:
        reasons.append(
            Reason(
                N_("The speech was hard to understand (transcript confidence %(confidence)s)."),
                {"confidence": f"{confidence:.2f}"},
            )
        )
    if language_probability < policy.min_language_probability.get(language, 0.0):
        reasons.append(
            Reason(
                N_(
                    "The recogniser could not tell which language it heard (%(language)s, "
                    "probability %(probability)s); it may be a dialect."
                ),
                {"language": language or "?", "probability": f"{language_probability:.2f}"},
            )
        )
    floor = policy.min_token_probability.get(language)
    probability = token_probability(segments)
    if floor is not None and probability is not None and probability < floor:
        reasons.append(
            Reason(
                N_(
                    "Most words were guesses (mean word probability %(probability)s); "
                    "it may be a dialect or noise."
                ),
                {"probability": f"{probability:.2f}"},
            )
        )
    if policy.check_script and _FOREIGN_SCRIPT.search(text):
        reasons.append(
            Reason(N_("The transcript is in an unexpected script; please listen to the recording."))
        )
    return reasons

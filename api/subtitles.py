"""Transcript segments as SubRip (``.srt``) and WebVTT (``.vtt``) subtitles.

A cue's text is one line: line breaks inside it and the cue arrow ``-->`` would end the cue or
start a forged one, so they are flattened (a transcript is words someone said, never markup).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    """One subtitle: from ``start`` to ``end`` seconds, ``text``."""

    start: float
    end: float
    text: str


def timestamp(seconds: float, decimal: str) -> str:
    """``HH:MM:SS<decimal>mmm`` (hours always shown), rounded to the millisecond, never negative."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def _line(text: str) -> str:
    return " ".join(text.replace("-->", "->").split())


def srt(cues: Iterable[Cue]) -> str:
    """SubRip: numbered cues from 1, ``00:00:01,500 --> 00:00:03,000``, a blank line after each."""
    blocks = [
        f"{n}\n{timestamp(c.start, ',')} --> {timestamp(c.end, ',')}\n{_line(c.text)}\n"
        for n, c in enumerate(cues, start=1)
    ]
    return "\n".join(blocks) + ("\n" if blocks else "")


def vtt(cues: Iterable[Cue]) -> str:
    """WebVTT: the ``WEBVTT`` header, then ``00:00:01.500 --> 00:00:03.000`` cues."""
    blocks = [f"{timestamp(c.start, '.')} --> {timestamp(c.end, '.')}\n{_line(c.text)}\n" for c in cues]
    return "WEBVTT\n\n" + "\n".join(blocks) + ("\n" if blocks else "")

"""SubRip and WebVTT rendering of transcript segments."""

from __future__ import annotations

import pytest

from api.subtitles import Cue, srt, timestamp, vtt

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


def test_timestamps_show_hours_and_round_to_the_millisecond() -> None:
    assert timestamp(0.0, ",") == "00:00:00,000"
    assert timestamp(3.2196, ",") == "00:00:03,220"
    assert timestamp(3725.5, ".") == "01:02:05.500"
    assert timestamp(-0.01, ".") == "00:00:00.000"


def test_srt_numbers_its_cues_from_one() -> None:
    cues = [Cue(0.0, 1.42, "The street light is broken."), Cue(1.92, 3.22, "Please fix it.")]
    assert srt(cues) == (
        "1\n00:00:00,000 --> 00:00:01,420\nThe street light is broken.\n\n"
        "2\n00:00:01,920 --> 00:00:03,220\nPlease fix it.\n\n"
    )


def test_vtt_has_its_header_and_dotted_times() -> None:
    assert vtt([Cue(0.0, 1.5, "路灯坏了")]) == "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n路灯坏了\n\n"


def test_a_cue_text_cannot_end_its_cue_or_forge_another() -> None:
    forged = "broken\n\n2\n00:00:09,000 --> 00:00:10,000\nforged"
    rendered = srt([Cue(0.0, 1.0, forged)])
    assert rendered.count("-->") == 1 and rendered.count("\n\n") == 1
    assert vtt([Cue(0.0, 1.0, forged)]).count("-->") == 1


def test_no_speech_gives_no_cues() -> None:
    assert srt([]) == ""
    assert vtt([]) == "WEBVTT\n\n"

"""intake.audio.inspect_audio: the quick upload-time check agrees with the full decode."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from intake.audio import (
    AudioLimits,
    AudioTooLong,
    AudioTooShort,
    inspect_audio,
    load_audio,
)
from models.errors import DomainError

from .test_audio import BAD, GOOD, check_detail

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

DATA = Path(__file__).resolve().parent.parent / "data"
# Containers count encoder priming and padding that the decoder trims (Opus pre-skip, AAC priming).
DURATION_TOLERANCE_S = 0.05


def write_tone(path: Path, seconds: float, rate: int = 16_000) -> Path:
    """A mono 16-bit WAV of a quiet tone, ``seconds`` long."""
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.2 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


@pytest.mark.parametrize(("name", "fmt", "rate", "channels"), GOOD, ids=[g[0] for g in GOOD])
def test_good_files_are_described_as_the_full_decode_describes_them(
    name: str, fmt: str, rate: int, channels: int
) -> None:
    info = inspect_audio(DATA / name, AudioLimits())
    decoded = load_audio(DATA / name, AudioLimits())
    assert (info.format, info.sample_rate, info.channels) == (fmt, rate, channels)
    assert info.duration_s == pytest.approx(decoded.duration_s, abs=DURATION_TOLERANCE_S)


def test_voice_notes_and_a_cut_off_mp3_pass() -> None:
    for note in [*sorted(DATA.glob("voice_*.ogg")), DATA / "truncated.mp3"]:
        info = inspect_audio(note, AudioLimits())
        assert info.duration_s == pytest.approx(load_audio(note).duration_s, abs=DURATION_TOLERANCE_S)


@pytest.mark.parametrize(("name", "error", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_get_the_same_error_as_the_full_decode(
    name: str, error: type[DomainError], words: list[str]
) -> None:
    with pytest.raises(error) as inspected:
        inspect_audio(DATA / name, AudioLimits())
    with pytest.raises(error) as decoded:
        load_audio(DATA / name, AudioLimits())
    check_detail(inspected.value)
    assert inspected.value.detail == decoded.value.detail


@pytest.mark.parametrize(
    "content",
    [
        b"OggS" + bytes(range(256)) * 8,
        b"fLaC" + b"\x00" * 2000,
        b"\x1a\x45\xdf\xa3" + b"\x42\x86\x81\x01" + b"\xff" * 2000,
        b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12 + b"\x00\x00\x10\x00mdat" + b"\x01" * 100,
        b"ID3\x03\x00\x00\x00\x00\x00\x10" + b"\x00" * 16 + b"\xff\xfb\x90\x00" + b"\x00" * 50,
    ],
    ids=["ogg-garbage", "flac-garbage", "webm-garbage", "mp4-no-moov", "id3-then-empty-frame"],
)
def test_damaged_files_get_the_same_error_as_the_full_decode(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    with pytest.raises(DomainError) as inspected:
        inspect_audio(path, AudioLimits())
    with pytest.raises(DomainError) as decoded:
        load_audio(path, AudioLimits())
    assert type(inspected.value) is type(decoded.value)
    assert inspected.value.detail == decoded.value.detail


def test_a_long_recording_is_refused_with_its_length(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "long.wav", 20.0)
    limits = AudioLimits(max_seconds=10.0)
    with pytest.raises(AudioTooLong) as info:
        inspect_audio(path, limits)
    assert "limit of 10 s" in info.value.detail
    check_detail(info.value)


@pytest.mark.parametrize(
    ("limits", "error"),
    [
        (AudioLimits(max_seconds=3.5), AudioTooLong),  # 3.69 s: just over
        (AudioLimits(max_seconds=4.0), None),  # just under
        (AudioLimits(min_seconds=3.8), AudioTooShort),  # just too short
        (AudioLimits(min_seconds=3.5), None),  # just long enough
    ],
)
def test_lengths_near_a_limit_are_judged_as_the_full_decode_judges_them(
    limits: AudioLimits, error: type[DomainError] | None
) -> None:
    for name in ("speech.ogg", "speech.m4a", "speech.wav"):
        if error is None:
            assert inspect_audio(DATA / name, limits).duration_s > 3.5
            load_audio(DATA / name, limits)
            continue
        with pytest.raises(error) as inspected:
            inspect_audio(DATA / name, limits)
        with pytest.raises(error) as decoded:
            load_audio(DATA / name, limits)
        assert inspected.value.detail == decoded.value.detail

"""intake.audio through its public functions, with the real ffmpeg and the committed fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from intake import audio
from intake.audio import (
    AudioLimits,
    AudioTooLarge,
    AudioTooLong,
    AudioTooShort,
    CorruptAudio,
    NormalisedAudio,
    NotAudio,
    ffmpeg_path,
    load_audio,
    sniff_format,
)
from models.errors import DomainError

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

DATA = Path(__file__).resolve().parent.parent / "data"
TOLERANCE_S = 0.15


def reference_seconds() -> float:
    """Duration of the clip every speech.* fixture was made from (speech.wav is its exact copy)."""
    with wave.open(str(DATA / "speech.wav")) as w:
        return w.getnframes() / w.getframerate()


def assert_speech(result: NormalisedAudio, seconds: float) -> None:
    """16 kHz mono float32 in [-1, 1], the expected length, and audible content."""
    assert isinstance(result.samples, np.ndarray)
    assert result.samples.dtype == np.float32
    assert result.samples.ndim == 1
    assert result.samples.size == pytest.approx(result.duration_s * 16_000, abs=1)
    assert result.duration_s == pytest.approx(seconds, abs=TOLERANCE_S)
    assert float(np.max(np.abs(result.samples))) <= 1.0
    assert result.peak > 0.1
    assert result.rms_dbfs > -40.0


def check_detail(exc: DomainError) -> None:
    """A clerk-readable message: one or two plain sentences, no ffmpeg output, no traceback."""
    detail = exc.detail
    assert detail and detail[0].isupper() and detail.endswith(".")
    assert "\n" not in detail
    for leak in ("ffmpeg", "Traceback", "Errno", "avlib", "moov atom", "Invalid data", "/tmp", str(DATA)):
        assert leak not in detail, f"{leak!r} leaked into {detail!r}"


# -------------------------------------------------------------------------------- good formats
GOOD = [
    # file, format, original sample rate, original channels
    ("speech.wav", "wav", 22_050, 1),
    ("speech.flac", "flac", 44_100, 2),
    ("speech.mp3", "mp3", 44_100, 2),
    ("speech.m4a", "m4a", 48_000, 1),
    ("speech_fragmented.m4a", "m4a", 48_000, 1),
    ("speech.ogg", "ogg", 48_000, 1),
    ("speech_stream.webm", "webm", 48_000, 1),
    ("speech.amr", "amr", 8_000, 1),
]


@pytest.mark.parametrize(("name", "fmt", "rate", "channels"), GOOD, ids=[g[0] for g in GOOD])
def test_every_format_decodes_to_16k_mono_float(name: str, fmt: str, rate: int, channels: int) -> None:
    result = load_audio(DATA / name, AudioLimits())
    assert_speech(result, reference_seconds())
    assert result.format == fmt
    assert result.original_sample_rate == rate
    assert result.original_channels == channels


def amr_frame_types(path: Path) -> list[int]:
    """Frame types of an AMR-NB storage file (8 = SID, 15 = NO_DATA)."""
    sizes = [12, 13, 15, 17, 19, 20, 26, 31, 5, 0, 0, 0, 0, 0, 0, 0]
    data = path.read_bytes()
    assert data.startswith(b"#!AMR\n")
    types, pos = [], 6
    while pos < len(data):
        frame_type = (data[pos] >> 3) & 0x0F
        types.append(frame_type)
        pos += 1 + sizes[frame_type]
    return types


def test_amr_with_dtx_frames_keeps_its_full_duration() -> None:
    types = amr_frame_types(DATA / "speech.amr")
    assert 8 in types and 15 in types, "the fixture should contain DTX (SID and NO_DATA) frames"
    result = load_audio(DATA / "speech.amr", AudioLimits())
    # every 20 ms frame, DTX ones included, becomes audio (ffmpeg's native decoder drops ~25 % here)
    assert result.duration_s == pytest.approx(len(types) * 0.02, abs=0.03)
    assert result.duration_s == pytest.approx(reference_seconds(), abs=TOLERANCE_S)


def test_voice_notes_decode() -> None:
    notes = sorted(DATA.glob("voice_*.ogg"))
    assert len(notes) == 5
    for note in notes:
        result = load_audio(note, AudioLimits())
        assert result.format == "ogg"
        assert 4.0 <= result.duration_s <= 9.0
        assert result.rms_dbfs > -40.0


def test_silence_is_valid_audio_with_no_energy() -> None:
    result = load_audio(DATA / "silence.wav", AudioLimits())
    assert result.duration_s == pytest.approx(3.0, abs=0.01)
    assert result.peak == 0.0
    assert result.rms_dbfs == -np.inf


def test_channels_are_averaged_not_summed(tmp_path: Path) -> None:
    t = np.arange(16_000) / 16_000
    tone = 0.9 * np.sin(2 * np.pi * 440 * t)
    for name, left, right, expected in (("same.wav", tone, tone, 0.9), ("left.wav", tone, 0 * tone, 0.45)):
        pcm = (np.stack([left, right], axis=1) * 32767).astype("<i2")
        with wave.open(str(tmp_path / name), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(16_000)
            w.writeframes(pcm.tobytes())
        result = load_audio(tmp_path / name, AudioLimits())
        assert result.original_channels == 2
        assert result.peak == pytest.approx(expected, abs=0.01), name  # neither clipped nor halved


def test_truncated_mp3_still_decodes_its_first_half() -> None:
    result = load_audio(DATA / "truncated.mp3", AudioLimits())
    assert result.format == "mp3"
    assert result.duration_s == pytest.approx(reference_seconds() / 2, abs=0.3)


# -------------------------------------------------------------------------------- bad inputs
BAD = [
    # file, error, words the message must contain
    ("not_audio.mp3", NotAudio, ["not a sound recording", "text file", "MP3"]),
    ("wrong_magic.wav", NotAudio, ["not a sound recording", "Please send"]),
    ("empty.wav", AudioTooShort, ["empty", "record the message again"]),
    ("too_short.wav", AudioTooShort, ["0.3 s", "0.5 s", "record the message again"]),
    ("truncated.m4a", CorruptAudio, ["damaged or incomplete", "send the recording again"]),
    ("absurd_header.wav", CorruptAudio, ["damaged", "again"]),
]


@pytest.mark.parametrize(("name", "error", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_inputs_raise_a_clear_error(name: str, error: type[DomainError], words: list[str]) -> None:
    with pytest.raises(error) as info:
        load_audio(DATA / name, AudioLimits())
    check_detail(info.value)
    for word in words:
        assert word in info.value.detail


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"OggS" + bytes(range(256)) * 8, CorruptAudio),
        (b"fLaC" + b"\x00" * 2000, CorruptAudio),
        (b"\x1a\x45\xdf\xa3" + b"\x42\x86\x81\x01" + b"\xff" * 2000, CorruptAudio),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12 + b"\x00\x00\x10\x00mdat" + b"\x01" * 100, CorruptAudio),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 500, NotAudio),
        (b"%PDF-1.7\n" + b"\x00" * 500, NotAudio),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 500, NotAudio),
        (bytes(range(256)) * 4, NotAudio),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x50Speex   1.2" + b"\x00" * 100, NotAudio),
        (b"\x1a\x45\xdf\xa3\x84webm\x16\x54\xae\x6b\x8b\x86\x88A_TRUEHD" + b"\x00" * 100, NotAudio),
        (b"\x1a\x45\xdf\xa3\x84webm\x16\x54\xae\x6b\x8a\x86\x85V_VP8" + b"\x00" * 100, NotAudio),
    ],
    ids=[
        "ogg-garbage",
        "flac-garbage",
        "webm-garbage",
        "mp4-no-moov",
        "jpeg",
        "pdf",
        "heic",
        "binary",
        "ogg-speex",
        "webm-truehd",
        "webm-video-only",
    ],
)
def test_damaged_and_foreign_files(tmp_path: Path, content: bytes, error: type[DomainError]) -> None:
    path = tmp_path / "upload.m4a"
    path.write_bytes(content)
    with pytest.raises(error) as info:
        load_audio(path, AudioLimits())
    check_detail(info.value)


def test_error_kinds_match_the_api_contract() -> None:
    kinds = {cls.kind for cls in (NotAudio, CorruptAudio, AudioTooShort, AudioTooLong, AudioTooLarge)}
    assert kinds == {"NotAudio", "CorruptAudio", "AudioTooShort", "AudioTooLong", "AudioTooLarge"}
    for cls in (NotAudio, CorruptAudio, AudioTooShort, AudioTooLong, AudioTooLarge):
        assert issubclass(cls, DomainError)


# -------------------------------------------------------------------------------- sniffing
@pytest.mark.parametrize(("name", "fmt"), [(g[0], g[1]) for g in GOOD] + [("truncated.m4a", "m4a")])
def test_sniff_format_recognises_fixtures(name: str, fmt: str) -> None:
    assert sniff_format((DATA / name).read_bytes()[:64]) == fmt


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"RIFF",
        b"Dear committee",
        b"\xff\xd8\xff\xe0",
        b"\x00\x00\x00\x18ftypheic",
        b"RIFX\x00\x00\x00\x00WAVE",
    ],
)
def test_sniff_format_rejects_non_audio(head: bytes) -> None:
    assert sniff_format(head) is None


def test_sniff_format_sees_through_id3_and_adts() -> None:
    id3 = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10  # 10-byte tag body
    assert sniff_format(id3 + b"\xff\xfb\x90\x64") == "mp3"
    assert sniff_format(id3 + b"\xff\xf1\x50\x80") == "aac"
    assert sniff_format(id3 + b"fLaC") == "flac"
    assert sniff_format(b"ID3\x04\x00\x00\x00\x10\x00\x00") == "mp3"  # tag runs past the head
    assert sniff_format(b"\xff\xf1\x50\x80\x02\x1f\xfc") == "aac"


@pytest.mark.parametrize(
    ("source", "renamed"),
    [
        ("speech.ogg", "note.mp3"),
        ("speech.mp3", "note.wav"),
        ("speech.amr", "note.ogg"),
        ("speech.m4a", "note"),
    ],
)
def test_the_file_name_is_ignored(tmp_path: Path, source: str, renamed: str) -> None:
    target = tmp_path / renamed
    shutil.copy(DATA / source, target)
    result = load_audio(target, AudioLimits())
    assert result.format == sniff_format((DATA / source).read_bytes()[:64])
    assert_speech(result, reference_seconds())


# -------------------------------------------------------------------------------- other encodings
def ffmpeg_make(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    subprocess.run(
        [
            ffmpeg_path(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(DATA / "speech.wav"),
            *args,
            str(out),
        ],
        check=True,
        timeout=30,
    )
    return out


@pytest.mark.parametrize(
    ("name", "args", "fmt"),
    [
        ("float.wav", ["-c:a", "pcm_f32le"], "wav"),
        ("s24.wav", ["-c:a", "pcm_s24le", "-ar", "48000"], "wav"),
        ("mulaw.wav", ["-c:a", "pcm_mulaw", "-ar", "8000"], "wav"),
        ("ima.wav", ["-c:a", "adpcm_ima_wav"], "wav"),
        ("u8.wav", ["-c:a", "pcm_u8"], "wav"),
        ("raw.aac", ["-c:a", "aac", "-f", "adts"], "aac"),
        ("faststart.m4a", ["-c:a", "aac", "-movflags", "+faststart"], "m4a"),
        ("vorbis.ogg", ["-c:a", "libvorbis"], "ogg"),
        ("vorbis.webm", ["-c:a", "libvorbis", "-f", "webm"], "webm"),
    ],
)
def test_other_encodings_phones_produce(tmp_path: Path, name: str, args: list[str], fmt: str) -> None:
    result = load_audio(ffmpeg_make(tmp_path, name, *args), AudioLimits())
    assert result.format == fmt
    assert_speech(result, reference_seconds())


def test_a_video_with_a_sound_track_gives_its_sound(tmp_path: Path) -> None:
    video = ffmpeg_make(
        tmp_path,
        "clip.mp4",
        "-f",
        "lavfi",
        "-i",
        "color=c=blue:s=64x64:r=5",
        "-shortest",
        "-c:v",
        "mpeg4",
        "-c:a",
        "aac",
    )
    result = load_audio(video, AudioLimits())
    assert result.format == "m4a"
    assert_speech(result, reference_seconds())


@pytest.mark.parametrize("name", ["silent.mp4", "silent.webm"])
def test_a_video_without_sound_is_not_audio(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    codec = "mpeg4" if name.endswith(".mp4") else "libvpx"
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "color=c=blue:s=64x64:r=5:d=1", "-c:v", codec, str(out)],
        check=True, timeout=30,
    )  # fmt: skip
    with pytest.raises(NotAudio) as info:
        load_audio(out, AudioLimits())
    assert "without any sound track" in info.value.detail


# -------------------------------------------------------------------------------- limits
def test_over_max_seconds_is_too_long() -> None:
    with pytest.raises(AudioTooLong) as info:
        load_audio(DATA / "speech.ogg", AudioLimits(max_seconds=1.0))
    check_detail(info.value)
    assert "longer than the limit of 1 s" in info.value.detail


def test_a_long_recording_is_rejected_without_decoding_all_of_it(tmp_path: Path) -> None:
    long_note = tmp_path / "long.ogg"
    subprocess.run(
        [
            ffmpeg_path(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=40",
            "-ac",
            "1",
            "-c:a",
            "libopus",
            "-b:a",
            "12k",
            str(long_note),
        ],
        check=True,
        timeout=60,
    )
    with pytest.raises(AudioTooLong) as info:
        load_audio(long_note, AudioLimits(max_seconds=30.0))
    assert "longer than the limit of 30 s" in info.value.detail
    assert "split it" in info.value.detail
    result = load_audio(long_note, AudioLimits(max_seconds=60.0))
    assert result.duration_s == pytest.approx(40.0, abs=0.1)


def test_exact_length_is_reported_when_known(tmp_path: Path) -> None:
    with pytest.raises(AudioTooLong) as info:
        load_audio(DATA / "speech.wav", AudioLimits(max_seconds=3.0))
    assert "3.7 s long" in info.value.detail and "the limit is 3 s" in info.value.detail


def test_over_max_bytes_is_too_large() -> None:
    size_kb = round((DATA / "speech.wav").stat().st_size / 1024)
    with pytest.raises(AudioTooLarge) as info:
        load_audio(DATA / "speech.wav", AudioLimits(max_bytes=100 * 1024))
    check_detail(info.value)
    assert f"The file is {size_kb} KB; the limit is 100 KB" in info.value.detail


def test_min_seconds_is_configurable() -> None:
    with pytest.raises(AudioTooShort):
        load_audio(DATA / "speech.ogg", AudioLimits(min_seconds=5.0))
    assert load_audio(DATA / "too_short.wav", AudioLimits(min_seconds=0.2)).duration_s == pytest.approx(
        0.3, abs=0.01
    )


# -------------------------------------------------------------------------------- ffmpeg
def test_ffmpeg_path_is_an_executable_ffmpeg() -> None:
    exe = ffmpeg_path()
    assert os.path.isfile(exe) and os.access(exe, os.X_OK)
    out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("ffmpeg version")


def test_a_system_ffmpeg_on_path_is_preferred(monkeypatch: pytest.MonkeyPatch) -> None:
    ffmpeg_path.cache_clear()
    monkeypatch.setattr(
        audio.shutil, "which", lambda name: "/usr/local/bin/ffmpeg" if name == "ffmpeg" else None
    )
    try:
        assert ffmpeg_path() == "/usr/local/bin/ffmpeg"
    finally:
        ffmpeg_path.cache_clear()
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    try:
        assert "imageio_ffmpeg" in ffmpeg_path()
    finally:
        ffmpeg_path.cache_clear()


def test_amr_uses_the_bundled_ffmpeg_when_the_system_one_lacks_opencore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ffmpeg_path()
    fake = tmp_path / "ffmpeg"  # a "system" ffmpeg built without libopencore-amrnb
    fake.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do\n'
        f'  [ "$a" = -decoders ] && {{ "{real}" "$@" | grep -v opencore; exit 0; }}\n'
        '  [ "$a" = libopencore_amrnb ] && { echo "Unknown decoder" >&2; exit 1; }\n'
        "done\n"
        f'exec "{real}" "$@"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setattr(audio.shutil, "which", lambda name: str(fake) if name == "ffmpeg" else None)
    ffmpeg_path.cache_clear()
    try:
        assert ffmpeg_path() == str(fake)
        result = load_audio(DATA / "speech.amr", AudioLimits())
        assert result.duration_s == pytest.approx(reference_seconds(), abs=TOLERANCE_S)
        assert load_audio(DATA / "speech.ogg", AudioLimits()).format == "ogg"  # other formats use it
    finally:
        ffmpeg_path.cache_clear()

"""Upload limits and sniffing edges that tests/intake/test_audio*.py leave open (issue 25's survivors).

Limits are inclusive, as README promises ("larger uploads get 413", "longer recordings get 422",
"shorter recordings get 422"): a file of exactly the size limit, or exactly the longest or
shortest length, is accepted, by the worker's decode and by the upload-time inspection alike. An
MP3 without an ID3 tag is known by its frame header; truncated ``moov`` boxes and RF64 WAVs (the
64-bit WAV that long recorders write) get the answer they should.
"""

from __future__ import annotations

import logging
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from intake import audio
from intake.audio import (
    ACCEPTED,
    MAX_CHANNELS,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    AudioInfo,
    AudioLimits,
    AudioTooLarge,
    AudioTooLong,
    AudioTooShort,
    CorruptAudio,
    NormalisedAudio,
    NotAudio,
    ffmpeg_path,
    inspect_audio,
    load_audio,
    sniff_format,
    too_large,
)
from models.errors import DomainError

from .test_audio import DATA, assert_speech, check_detail, ffmpeg_make, reference_seconds

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

Check = Callable[[Path, AudioLimits], AudioInfo | NormalisedAudio]
BOTH: list[Check] = [load_audio, inspect_audio]
BOTH_IDS = ["load", "inspect"]


def tone_wav(path: Path, seconds: float, rate: int = 16_000, channels: int = 1) -> Path:
    """A 16-bit WAV of a 440 Hz tone at 0.2 of full scale: exactly ``round(seconds * rate)`` frames."""
    frames = round(seconds * rate)
    t = np.arange(frames) / rate
    pcm = (0.2 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(pcm, channels).tobytes())
    return path


def without_id3(mp3: bytes) -> bytes:
    """The MPEG frames of an MP3, its leading ID3v2 tag cut off."""
    assert mp3[:3] == b"ID3"
    size = 0
    for b in mp3[6:10]:
        size = (size << 7) | b
    return mp3[10 + size :]


# --- limits, exactly at them -----------------------------------------------------------------------


@pytest.mark.parametrize("check", BOTH, ids=BOTH_IDS)
def test_a_file_of_exactly_the_size_limit_is_accepted_one_byte_more_is_not(
    tmp_path: Path, check: Check
) -> None:
    path = tone_wav(tmp_path / "note.wav", 2.0)
    size = path.stat().st_size
    check(path, AudioLimits(max_bytes=size))
    with pytest.raises(AudioTooLarge) as info:
        check(path, AudioLimits(max_bytes=size - 1))
    check_detail(info.value)
    assert (
        f"The file is {round(size / 1024)} KB; the limit is {round((size - 1) / 1024)} KB"
        in info.value.detail
    )


@pytest.mark.parametrize("check", BOTH, ids=BOTH_IDS)
def test_a_recording_of_exactly_the_longest_or_shortest_length_is_accepted(
    tmp_path: Path, check: Check
) -> None:
    path = tone_wav(tmp_path / "two.wav", 2.0)
    check(path, AudioLimits(max_seconds=2.0))
    check(path, AudioLimits(min_seconds=2.0))
    with pytest.raises(AudioTooLong) as long_:
        check(path, AudioLimits(max_seconds=1.5))
    assert long_.value.detail == (
        "The recording is 2 s long; the limit is 1.5 s. Please split it or send a shorter note."
    )
    with pytest.raises(AudioTooShort) as short:
        check(path, AudioLimits(min_seconds=2.5))
    assert short.value.detail.startswith("The recording is only 2 s long; the shortest we accept is 2.5 s.")


def test_one_sample_over_the_limit_is_too_long(tmp_path: Path) -> None:
    path = tone_wav(tmp_path / "over.wav", 2.0 + 1 / 16_000)
    for check in BOTH:
        with pytest.raises(AudioTooLong, match="longer than the limit of 2 s"):
            check(path, AudioLimits(max_seconds=2.0))


def test_long_limits_are_said_in_minutes(tmp_path: Path) -> None:
    path = tone_wav(tmp_path / "long.wav", 75.0, rate=4_000)
    with pytest.raises(AudioTooLong) as capped:
        load_audio(path, AudioLimits(max_seconds=60.0))
    assert capped.value.detail.startswith("The recording is longer than the limit of 1 min.")
    with pytest.raises(AudioTooLong) as exact:
        load_audio(path, AudioLimits(max_seconds=74.5))
    assert exact.value.detail.startswith("The recording is 1 min 15 s long; the limit is 1 min 14 s.")
    with pytest.raises(AudioTooShort) as short:
        load_audio(path, AudioLimits(min_seconds=80.0))
    assert "is only 1 min 15 s long; the shortest we accept is 1 min 20 s" in short.value.detail


def test_size_messages_use_megabytes_from_one_megabyte() -> None:
    assert too_large(25 * 1024 * 1024, int(31.5 * 1024 * 1024)).detail == (
        "The file is 31.5 MB; the limit is 25 MB. Please send a shorter recording."
    )
    assert too_large(1024 * 1024, 1024 * 1024 - 512).detail.startswith(
        "The file is 1024 KB; the limit is 1 MB."
    )
    assert too_large(800 * 1024).detail.startswith("The file is over the size limit; the limit is 800 KB.")
    assert too_large(100, 10).detail.startswith("The file is 1 KB; the limit is 1 KB.")


# --- the header's rate and channels, at their bounds -----------------------------------------------


@pytest.mark.parametrize(
    ("rate", "channels", "allowed"),
    [
        (MIN_SAMPLE_RATE, 1, True),
        (MIN_SAMPLE_RATE - 1, 1, False),
        (MAX_SAMPLE_RATE, 1, True),
        (MAX_SAMPLE_RATE + 1, 1, False),
        (16_000, MAX_CHANNELS, True),
        (16_000, MAX_CHANNELS + 1, False),
    ],
)
def test_header_rates_and_channels_are_accepted_up_to_their_bounds(
    tmp_path: Path, rate: int, channels: int, allowed: bool
) -> None:
    path = tone_wav(tmp_path / "bounds.wav", 0.6, rate=rate, channels=channels)
    for check in BOTH:
        if allowed:
            info = check(path, AudioLimits())
            seen = info.sample_rate if isinstance(info, AudioInfo) else info.original_sample_rate
            assert seen == rate
            continue
        with pytest.raises(CorruptAudio) as refused:
            check(path, AudioLimits())
        check_detail(refused.value)
        plural = "channel" if channels == 1 else "channels"
        assert f"describes {channels} {plural} at {rate:,} samples per second" in refused.value.detail
        assert (
            f"1 to {MAX_CHANNELS} channels at {MIN_SAMPLE_RATE:,} to {MAX_SAMPLE_RATE:,}"
            in refused.value.detail
        )


# --- MP3 without ID3, and MPEG frame headers -------------------------------------------------------


@pytest.mark.parametrize("check", BOTH, ids=BOTH_IDS)
def test_an_mp3_without_an_id3_tag_is_recognised_by_its_frame_header(tmp_path: Path, check: Check) -> None:
    bare = tmp_path / "bare.mp3"
    bare.write_bytes(without_id3((DATA / "speech.mp3").read_bytes()))
    assert sniff_format(bare.read_bytes()[:4]) == "mp3"
    result = check(bare, AudioLimits())
    assert result.format == "mp3"
    assert result.duration_s == pytest.approx(reference_seconds(), abs=0.15)


def test_a_large_id3_tag_is_looked_past_to_the_sound(tmp_path: Path) -> None:
    frames = without_id3((DATA / "speech.mp3").read_bytes())
    body = 70_000  # more than the bytes inspection looks at first (cover art)
    syncsafe = bytes((body >> shift) & 0x7F for shift in (21, 14, 7, 0))
    big = tmp_path / "cover-art.mp3"
    big.write_bytes(b"ID3\x04\x00\x00" + syncsafe + b"\x00" * body + frames)
    assert_speech(load_audio(big, AudioLimits()), reference_seconds())
    assert inspect_audio(big, AudioLimits()).format == "mp3"


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\xff\xfb\x90\x64", "mp3"),  # MPEG-1 layer III
        (b"\xff\xf3\x90\x64", "mp3"),  # MPEG-2 layer III
        (b"\xff\xe3\x90\x64", "mp3"),  # MPEG-2.5 layer III
        (b"\xff\xfd\x90\x64", "mp3"),  # MPEG-1 layer II
        (b"\xff\xeb\x90\x64", None),  # reserved MPEG version
        (b"\xff\xfb\xf0\x64", None),  # reserved bit rate
        (b"\xff\xfb\x9c\x64", None),  # reserved sample rate
        (b"\xff\xfb\xe0\x64", "mp3"),  # the highest real bit rate
        (b"\xff\xfb\x98\x64", "mp3"),  # the last real sample rate
        (b"\xfe\xfb\x90\x64", None),  # no sync byte
        (b"\xff\xdb\x90\x64", None),  # sync bits incomplete
        (b"\xff\xfb\x90", None),  # too short for a header
        (b"\xff\xf1\x50\x80", "aac"),  # ADTS, 44.1 kHz
        (b"\xff\xf1\x30\x80", "aac"),  # ADTS, sampling index 12 (the last real one)
        (b"\xff\xf1\x34\x80", None),  # ADTS, sampling index 13 (reserved)
        (b"\xff\xe1\x50\x80", None),  # layer 00 without ADTS's 12-bit sync
    ],
)
def test_mpeg_frame_headers_are_checked_field_by_field(head: bytes, fmt: str | None) -> None:
    assert sniff_format(head) == fmt


def test_an_id3_tag_is_measured_in_syncsafe_bytes_with_its_footer() -> None:
    frame = b"\xff\xf1\x50\x80"  # ADTS: would be "mp3" by default if the tag were mis-measured
    # Size bytes 0,0,1,0x7F: 1 * 128 + 127 = 255 (syncsafe, 7 bits a byte).
    tag = b"ID3\x04\x00\x00\x00\x00\x01\x7f" + b"\x00" * 255
    assert sniff_format(tag + frame) == "aac"
    footer = b"ID3\x04\x00\x10\x00\x00\x01\x7f" + b"\x00" * 265  # flag 0x10: a 10-byte footer follows
    assert sniff_format(footer + frame) == "aac"
    high_bits = b"ID3\x04\x00\x00\x80\x80\x81\xff" + b"\x00" * 255  # the top bit of each byte is not size
    assert sniff_format(high_bits + frame) == "aac"
    assert sniff_format(b"ID3\x04\x00\x00\x00\x00\x00\x00") == "mp3"  # an empty tag, and nothing after
    assert sniff_format(b"ID3\x04\x00\x00\x00\x00\x00") is None  # 9 bytes: too short for a tag
    assert sniff_format(tag + b"fLaC") == "flac" and sniff_format(tag + b"junk") == "mp3"


# --- truncated moov, RF64, other WAV layouts -------------------------------------------------------


@pytest.mark.parametrize("check", BOTH, ids=BOTH_IDS)
@pytest.mark.parametrize("cut", [1, 200])
def test_an_m4a_whose_moov_box_is_cut_off_is_damaged(tmp_path: Path, check: Check, cut: int) -> None:
    whole = (DATA / "speech.m4a").read_bytes()
    assert whole.rfind(b"moov") > len(whole) - 2000  # the index is at the end, as phones write it
    cut_off = tmp_path / "cut.m4a"
    cut_off.write_bytes(whole[:-cut])
    with pytest.raises(CorruptAudio) as info:
        check(cut_off, AudioLimits())
    check_detail(info.value)
    assert info.value.detail.startswith("This M4A recording is damaged or incomplete")


def _boxes(data: bytes) -> list[tuple[int, int, bytes]]:
    """Top-level (offset, size, type) of an ISO media file."""
    found, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        found.append((pos, size, kind))
        pos += size
    return found


def test_m4a_boxes_with_64_bit_or_open_ended_sizes_are_read(tmp_path: Path) -> None:
    data = bytearray((DATA / "speech.m4a").read_bytes())
    boxes = _boxes(bytes(data))
    kinds = [kind for _, _, kind in boxes]
    assert kinds[1:4] == [b"free", b"mdat", b"moov"], kinds
    (free_at, free_size, _), (_, mdat_size, _), (moov_at, _, _) = boxes[1:4]
    assert free_size == 8
    # free (8 bytes) + mdat's 8-byte header become one 16-byte header with a 64-bit size: nothing moves.
    data[free_at : free_at + 16] = struct.pack(">I4sQ", 1, b"mdat", mdat_size + 8)
    data[moov_at : moov_at + 4] = b"\x00\x00\x00\x00"  # size 0: the box runs to the end of the file
    path = tmp_path / "large-and-open.m4a"
    path.write_bytes(bytes(data))
    assert_speech(load_audio(path, AudioLimits()), reference_seconds())


@pytest.mark.parametrize("check", BOTH, ids=BOTH_IDS)
def test_an_rf64_wav_is_a_wav(tmp_path: Path, check: Check) -> None:
    path = ffmpeg_make(tmp_path, "long-recorder.wav", "-ar", "16000", "-ac", "2", "-rf64", "always")
    assert path.read_bytes()[:4] == b"RF64" and sniff_format(path.read_bytes()[:12]) == "wav"
    result = check(path, AudioLimits())
    assert result.format == "wav"
    assert result.duration_s == pytest.approx(reference_seconds(), abs=0.01)


def _riff(*chunks: tuple[bytes, bytes]) -> bytes:
    body = b"".join(
        kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) & 1) for kind, data in chunks
    )
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def _fmt(tag: int, channels: int = 1, rate: int = 16_000, bits: int = 16) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)


def _pcm(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (0.2 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2").tobytes()


def test_a_wav_with_an_odd_sized_chunk_before_its_format_is_read(tmp_path: Path) -> None:
    path = tmp_path / "odd.wav"
    path.write_bytes(_riff((b"LIST", b"INFOabc"), (b"fmt ", _fmt(1)), (b"data", _pcm())))
    result = load_audio(path, AudioLimits())
    assert result.duration_s == pytest.approx(1.0, abs=0.001) and result.peak == pytest.approx(0.2, abs=0.01)


def test_an_extensible_wav_is_read_by_its_sub_format(tmp_path: Path) -> None:
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    extensible = _fmt(0xFFFE) + struct.pack("<HHI", 22, 16, 4) + struct.pack("<H", 1) + guid_tail
    path = tmp_path / "extensible.wav"
    path.write_bytes(_riff((b"fmt ", extensible), (b"data", _pcm())))
    result = load_audio(path, AudioLimits())
    assert result.duration_s == pytest.approx(1.0, abs=0.001) and result.peak == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize(
    ("chunks", "error", "words"),
    [
        ([(b"fmt ", _fmt(0x0050))], NotAudio, "(encoding 0x0050)"),
        ([(b"data", _pcm(0.6)), (b"fmt ", _fmt(1))], CorruptAudio, "format description is missing"),
        ([(b"fmt ", _fmt(1)[:14])], CorruptAudio, "format description is missing"),
        ([(b"LIST", b"x" * 30)], CorruptAudio, "format description is missing"),
    ],
    ids=["unknown-encoding", "data-before-fmt", "short-fmt", "no-fmt"],
)
def test_wav_headers_without_a_usable_format_are_refused(
    tmp_path: Path, chunks: list[tuple[bytes, bytes]], error: type[DomainError], words: str
) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(_riff(*chunks) + (b"" if chunks[-1][0] == b"data" else b"data\x00\x00\x00\x00"))
    for check in BOTH:
        with pytest.raises(error) as info:
            check(path, AudioLimits())
        check_detail(info.value)
        assert words in info.value.detail


@pytest.mark.parametrize(
    ("codec", "extra"),
    [
        ("pcm_s16le", []),
        ("pcm_s24le", []),
        ("pcm_s32le", []),
        ("pcm_u8", []),
        ("pcm_f32le", []),
        ("pcm_f64le", []),
        ("pcm_alaw", []),
        ("pcm_mulaw", []),
        ("adpcm_ms", []),
        ("adpcm_ima_wav", []),
        ("libmp3lame", []),
    ],
)
def test_every_wav_encoding_decodes_at_its_own_length_and_loudness(
    tmp_path: Path, codec: str, extra: list[str]
) -> None:
    path = ffmpeg_make(tmp_path, f"{codec}.wav", "-c:a", codec, *extra)
    result = load_audio(path, AudioLimits())
    assert result.format == "wav"
    assert_speech(result, reference_seconds())
    reference = load_audio(DATA / "speech.wav", AudioLimits())
    assert result.peak == pytest.approx(reference.peak, rel=0.25)


def test_an_unreadable_ffmpeg_is_a_server_fault_not_the_uploads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tone_wav(tmp_path / "fine.wav", 1.0)
    ffmpeg_path.cache_clear()
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.setattr("imageio_ffmpeg.get_ffmpeg_exe", lambda: str(tmp_path / "missing-ffmpeg"))
    try:
        with pytest.raises(RuntimeError, match="ffmpeg not found"):
            load_audio(path, AudioLimits())
    finally:
        ffmpeg_path.cache_clear()


# --- what refusals say, per container ----------------------------------------------------------------


def _ogg_page(packet: bytes) -> bytes:
    """A first Ogg page (beginning of stream) holding one packet; the CRC is not checked by sniffing."""
    header = b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8
    return header + bytes([1, len(packet)]) + packet


@pytest.mark.parametrize(
    ("content", "error", "detail"),
    [
        (
            _ogg_page(b"Speex   1.2rc1" + b"\x00" * 60),
            NotAudio,
            f"This Ogg file holds sound in a format we cannot read (Speex). Please send the recording as "
            f"{ACCEPTED}.",
        ),
        (
            _ogg_page(b"\x80theora" + b"\x00" * 60),
            NotAudio,
            f"This file is not a sound recording we can read: it is a video file without any sound "
            f"track. Please send a voice recording ({ACCEPTED}).",
        ),
        (
            _ogg_page(b"\x01unknown" + b"\x00" * 60),
            CorruptAudio,
            "This Ogg recording is damaged or incomplete (perhaps the upload was cut off), so it cannot "
            "be played. Please send the recording again.",
        ),
        (
            b"\x1a\x45\xdf\xa3\x84webm\x16\x54\xae\x6b\x8b\x86\x88A_TRUEHD" + b"\x00" * 100,
            NotAudio,
            f"This WebM file holds sound in a format we cannot read (A_TRUEHD). Please send the recording "
            f"as {ACCEPTED}.",
        ),
    ],
    ids=["ogg-speex", "ogg-theora-only", "ogg-unknown", "webm-truehd"],
)
def test_refusals_name_the_container_and_the_encoding(
    tmp_path: Path, content: bytes, error: type[DomainError], detail: str
) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    for check in BOTH:
        with pytest.raises(error) as info:
            check(path, AudioLimits())
        assert info.value.detail == detail


def test_an_m4a_with_sound_in_an_unknown_encoding_says_so(tmp_path: Path) -> None:
    data = bytearray((DATA / "speech.m4a").read_bytes())
    entry = data.find(b"stsd") + 16
    assert data[entry : entry + 4] == b"mp4a"
    data[entry : entry + 4] = b"zzzz"
    path = tmp_path / "odd.m4a"
    path.write_bytes(bytes(data))
    with pytest.raises(NotAudio) as info:
        load_audio(path, AudioLimits())
    assert info.value.detail == (
        f"This M4A file holds sound in a format we cannot read (an unknown encoding). Please send the "
        f"recording as {ACCEPTED}."
    )


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"Dear committee,\n\tthe street light\tis broken.\n" * 3, "it looks like a text file"),
        (
            "路灯坏了".encode() * 42 + b"abcdefgh" + b"\x01",
            "it looks like a text file",
        ),  # a control byte past 512
        (b"a" * 511 + "坏".encode(), "it looks like a text file"),  # a character cut at the end
        (
            b"\x00\x01\x02\x03\x04\x05\x06\x07heic" + bytes(range(200)),
            "its contents are not any sound format",
        ),
        (b"\x00\x00\x00\x18ftypavif" + b"\x00" * 100, "it looks like a photo (HEIC or AVIF)"),
        (b"text\x08with a backspace", "its contents are not any sound format"),
    ],
    ids=["tabs", "control-after-512", "cut-character", "brand-without-ftyp", "avif", "control-byte"],
)
def test_non_audio_files_are_described_plainly(tmp_path: Path, content: bytes, what: str) -> None:
    path = tmp_path / "upload.mp3"
    path.write_bytes(content)
    with pytest.raises(NotAudio) as info:
        load_audio(path, AudioLimits())
    assert f"This file is not a sound recording we can read: {what}" in info.value.detail


def test_sizes_round_to_a_tenth_of_a_megabyte() -> None:
    assert too_large(1024 * 1024, int(100.04 * 1024 * 1024)).detail.startswith("The file is 100 MB;")
    assert too_large(int(2.25 * 1024 * 1024)).detail.startswith(
        "The file is over the size limit; the limit is 2.2 MB"
    )


@pytest.mark.parametrize("bits", [16, 24])
def test_pcm_in_matroska_is_read_at_its_bit_depth(tmp_path: Path, bits: int) -> None:
    path = ffmpeg_make(tmp_path, f"pcm{bits}.mka", "-c:a", f"pcm_s{bits}le", "-f", "matroska")
    result = load_audio(path, AudioLimits())
    assert result.format == "webm"
    assert_speech(result, reference_seconds())
    assert result.peak == pytest.approx(load_audio(DATA / "speech.wav", AudioLimits()).peak, rel=0.05)


def test_amr_without_the_opencore_decoder_falls_back_to_ffmpegs_own(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(audio, "_decoders", lambda exe: frozenset())
    with caplog.at_level(logging.WARNING, logger="intake.audio"):
        result = load_audio(DATA / "speech.amr", AudioLimits())
    assert result.format == "amr" and 2.5 < result.duration_s < 3.8
    (warning,) = [r.getMessage() for r in caplog.records if "decoder" in r.getMessage()]
    assert warning.startswith("no libopencore_amrnb decoder in ")
    assert warning.endswith("; using amrnb (audio around DTX frames may be lost)")


def test_a_damaged_file_is_logged_with_its_name_and_what_ffmpeg_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cut-short.ogg"
    path.write_bytes((DATA / "speech.ogg").read_bytes()[:300] + bytes(range(256)) * 8)
    with caplog.at_level(logging.INFO, logger="intake.audio"), pytest.raises(CorruptAudio):
        load_audio(path, AudioLimits())
    logged = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"ffmpeg could not decode {path} (ogg, opus): ") and len(m) > 60 for m in logged)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="intake.audio"):
        inspect_audio(DATA / "speech.wav", AudioLimits(max_seconds=4.0))
    assert "inspecting speech.wav (wav, pcm_s16le) needs a decoding pass: 3.69 s is near a limit" in [
        r.getMessage() for r in caplog.records
    ]

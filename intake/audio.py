"""Decode any phone or browser recording to 16 kHz mono float32, with errors a clerk can act on.

The container is recognised from the file's first bytes (never from its name or the client's
content type), and the decoder is chosen from the container's own codec tag.

Every byte a villager sends is hostile, and a few KB of FLAC can hold hours of 8-channel sound at
hundreds of kHz. So a recording is never decoded whole in this process: an ffmpeg child decodes,
mixes down and resamples while it streams, and this process only ever holds the 16 kHz mono
result (at most ``max_seconds + 1`` of it). A header describing more than :data:`MAX_CHANNELS`
channels or more than :data:`MAX_SAMPLE_RATE` samples per second is refused before anything is
decoded; ffmpeg is killed after a time limit; if it dies or is killed the caller gets a domain
error, not a crash.

AMR-NB is decoded with ``libopencore_amrnb``: ffmpeg's native decoder drops the audio around
DTX frames (SID / NO_DATA), which every phone's AMR encoder writes during pauses.

Two entry points: :func:`load_audio` decodes the whole recording (the worker, before
transcription); :func:`inspect_audio` answers at upload time whether a file is a usable recording
and how long it is, by reading its packets in-process with PyAV (the FFmpeg libraries
faster-whisper already brings) and decoding only its first second. When that cannot decide
plainly (an error, no timestamps, a length near a limit), it runs the worker's own ffmpeg command
and only counts its output, so a bad file gets exactly the same error either way. If that pass
runs out of its time, the upload is accepted and the worker decides: a villager's real recording
is never refused because the server was busy, and the worker's own limits still hold.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import re
import shutil
import struct
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import av
import numpy as np
from av.audio.codeccontext import AudioCodecContext
from av.audio.stream import AudioStream

from models.errors import N_, InvalidInput, TooLarge, UnsupportedMedia

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
# Enough bytes to recognise any supported container and, for Ogg and WebM, read the codec tag.
HEAD_BYTES = 64 * 1024
ACCEPTED = "MP3, M4A, AMR, OGG, WebM, WAV or FLAC"
# What a recording may describe: no phone or voice recorder makes more channels or samples per
# second. Beyond these a file is refused from its header, before any decoding.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE, MAX_CHANNELS = 4_000, 192_000, 8


# ---------------------------------------------------------------------------------------- errors
class NotAudio(UnsupportedMedia):
    """The file is not a recording we recognise (or holds no sound we can read). HTTP 415."""

    kind = "NotAudio"


class CorruptAudio(InvalidInput):
    """The container is recognised but the sound cannot be decoded (damaged or cut off). HTTP 422."""

    kind = "CorruptAudio"


class AudioTooShort(InvalidInput):
    """The file is empty or the recording is shorter than the minimum. HTTP 422."""

    kind = "AudioTooShort"


class AudioTooLong(InvalidInput):
    """The recording is longer than the maximum. HTTP 422."""

    kind = "AudioTooLong"


class AudioTooLarge(TooLarge):
    """The file is bigger than the maximum upload size. HTTP 413."""

    kind = "AudioTooLarge"


# ---------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class AudioLimits:
    """What a voice note may be (file size in bytes, duration in seconds) and how long ffmpeg may
    take on it: in the worker's decode, and in an upload's decoding pass when one is needed."""

    max_bytes: int = 25 * 1024 * 1024
    max_seconds: float = 600.0
    min_seconds: float = 0.5
    decode_timeout_s: float = 120.0
    inspect_timeout_s: float = 10.0


@dataclass(frozen=True)
class NormalisedAudio:
    """A decoded recording: float32 samples in [-1, 1], 16 kHz, mono, plus what it was before.

    ``original_sample_rate`` and ``original_channels`` are what the container's header says
    (0 when it says nothing readable).
    """

    samples: np.ndarray
    duration_s: float
    format: str
    original_sample_rate: int
    original_channels: int

    @property
    def peak(self) -> float:
        """Largest absolute sample value (0.0 for digital silence)."""
        return float(np.max(np.abs(self.samples))) if self.samples.size else 0.0

    @property
    def rms_dbfs(self) -> float:
        """Loudness of the whole recording in dB relative to full scale (-inf for digital silence)."""
        if not self.samples.size:
            return -math.inf
        rms = float(np.sqrt(np.mean(np.square(self.samples, dtype=np.float64))))
        return 20.0 * math.log10(rms) if rms > 0 else -math.inf


@dataclass(frozen=True)
class _Plan:
    """How to hand one file to ffmpeg: our format name, ffmpeg's demuxer and decoder names, and
    the rate and channels when our own reading of the header found them (WAV), else 0."""

    format: str
    demuxer: str
    codec: str
    sample_rate: int = 0
    channels: int = 0


# ---------------------------------------------------------------------------------------- ffmpeg
@functools.lru_cache(maxsize=1)
def ffmpeg_path() -> str:
    """Return the ffmpeg to use: a system ``ffmpeg`` on PATH, else the static one of imageio-ffmpeg."""
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg  # imported late: it is only needed when no system ffmpeg exists

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.lru_cache(maxsize=8)
def _decoders(exe: str) -> frozenset[str]:
    """Names of the audio decoders an ffmpeg binary has (one ``-decoders`` call, cached)."""
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-decoders"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0].startswith("A"):
            names.add(parts[1])
    return frozenset(names)


def _ffmpeg_for(codec: str) -> tuple[str, str]:
    """Pick the ffmpeg binary (and decoder) for ``codec``; AMR needs the opencore decoder."""
    exe = ffmpeg_path()
    if not codec.startswith("libopencore_") or codec in _decoders(exe):
        return exe, codec
    import imageio_ffmpeg

    bundled = str(imageio_ffmpeg.get_ffmpeg_exe())
    if codec in _decoders(bundled):
        return bundled, codec
    native = codec.removeprefix("libopencore_")
    log.warning(
        "no %s decoder in %s or %s; using %s (audio around DTX frames may be lost)",
        codec,
        exe,
        bundled,
        native,
    )
    return exe, native


# ---------------------------------------------------------------------------------------- sniffing
_MPEG_LAYERS = {1: "mp3", 2: "mp2", 3: "mp1"}  # header layer bits -> decoder name


def _mpeg_frame(head: bytes, pos: int = 0) -> str | None:
    """'mp3'/'aac' when ``head[pos:]`` starts with a plausible MPEG audio or ADTS frame header."""
    if len(head) < pos + 4 or head[pos] != 0xFF or head[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2 = head[pos + 1], head[pos + 2]
    layer = (b1 >> 1) & 3
    if layer == 0:  # ADTS (raw AAC): 12-bit sync, MPEG version bit, layer 00
        return "aac" if b1 & 0xF0 == 0xF0 and (b2 >> 2) & 0xF < 13 else None
    version = (b1 >> 3) & 3
    bitrate, rate = b2 >> 4, (b2 >> 2) & 3
    if version == 1 or bitrate == 15 or rate == 3:  # reserved values: not a frame header
        return None
    return "mp3"


def _id3_end(head: bytes) -> int:
    """Offset just past a leading ID3v2 tag (0 when there is none)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = 0
    for b in head[6:10]:
        size = (size << 7) | (b & 0x7F)
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def sniff_format(head: bytes) -> str | None:
    """Recognise an audio container from the first bytes of a file.

    Returns one of ``"wav"``, ``"flac"``, ``"mp3"``, ``"aac"`` (ADTS), ``"m4a"`` (any ISO media
    file: m4a, mp4, 3gp, mov with an ``ftyp`` box), ``"ogg"``, ``"webm"`` (also Matroska) or
    ``"amr"`` (AMR-NB or AMR-WB storage format), or ``None`` when the bytes are not one of these.
    The file name and the client's content type are never consulted. A few dozen bytes are enough,
    except after a large ID3 tag, where the bytes following the tag decide between MP3, AAC and FLAC.
    """
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:6] == b"#!AMR\n" or head[:9] == b"#!AMR-WB\n":
        return "amr"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return None
        return "m4a"
    end = _id3_end(head)
    if end:
        after = head[end : end + 4]
        if after == b"fLaC":
            return "flac"
        return _mpeg_frame(head, end) or "mp3"  # an ID3 tag is nearly always on an MP3
    return _mpeg_frame(head)


# HEIF/AVIF pictures are ISO media files too; they carry no sound.
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}

_OTHER_KINDS = (  # (magic, offset, what it is) -- only for a helpful NotAudio message
    (b"%PDF", 0, "a PDF document"),
    (b"\xff\xd8\xff", 0, "a photo (JPEG)"),
    (b"\x89PNG", 0, "a picture (PNG)"),
    (b"GIF8", 0, "a picture (GIF)"),
    (b"WEBP", 8, "a picture (WebP)"),
    (b"PK\x03\x04", 0, "a ZIP archive or office document"),
    (b"\xd0\xcf\x11\xe0", 0, "an office document"),
    (b"{\\rtf", 0, "a text document"),
    (b"<", 0, "a web page or text document"),
)


def _describe_other(head: bytes) -> str:
    """A plain description of a non-audio file for the NotAudio message."""
    for magic, offset, what in _OTHER_KINDS:
        if head[offset : offset + len(magic)] == magic:
            return f"it looks like {what}"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS:
        return "it looks like a photo (HEIC or AVIF)"
    sample = head[:512]
    try:
        sample.decode("utf-8")
        is_text = True
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the end of the sample is fine
        is_text = exc.start >= len(sample) - 3
    if is_text and not any(b < 9 for b in sample):
        return "it looks like a text file"
    return "its contents are not any sound format we know"


# ---------------------------------------------------------------------------------------- codecs
_WAV_TAGS = {  # WAVE format tag -> ffmpeg decoder (PCM sizes are resolved separately)
    0x0002: "adpcm_ms",
    0x0006: "pcm_alaw",
    0x0007: "pcm_mulaw",
    0x0011: "adpcm_ima_wav",
    0x0031: "gsm_ms",
    0x0055: "mp3",
}
_PCM_INT = {8: "pcm_u8", 16: "pcm_s16le", 24: "pcm_s24le", 32: "pcm_s32le"}
_PCM_FLOAT = {32: "pcm_f32le", 64: "pcm_f64le"}
_MP4_ENTRIES = {  # ISO sample entry fourcc -> ffmpeg decoder
    b"mp4a": "aac",
    b"alac": "alac",
    b"samr": "libopencore_amrnb",
    b"sawb": "libopencore_amrwb",
    b"Opus": "opus",
    b"fLaC": "flac",
    b".mp3": "mp3",
    b"ac-3": "ac3",
    b"ec-3": "eac3",
    b"sowt": "pcm_s16le",
    b"twos": "pcm_s16be",
    b"ulaw": "pcm_mulaw",
    b"alaw": "pcm_alaw",
}
_OGG_CODECS = ((b"OpusHead", "opus"), (b"\x01vorbis", "vorbis"), (b"\x7fFLAC", "flac"))
_OGG_UNSUPPORTED = ((b"Speex   ", "Speex"),)
# How each format is named in messages.
_DISPLAY = {
    "wav": "WAV",
    "flac": "FLAC",
    "mp3": "MP3",
    "aac": "AAC",
    "m4a": "M4A",
    "ogg": "Ogg",
    "webm": "WebM",
    "amr": "AMR",
}
_MKV_CODECS = (
    (b"A_OPUS", "opus"),
    (b"A_VORBIS", "vorbis"),
    (b"A_AAC", "aac"),
    (b"A_MPEG/L3", "mp3"),
    (b"A_FLAC", "flac"),
    (b"A_PCM/FLOAT/IEEE", "pcm_f32le"),
    (b"A_AC3", "ac3"),
    (b"A_EAC3", "eac3"),
)


def _not_audio(what: str) -> NotAudio:
    return NotAudio(
        "This file is not a sound recording we can read: %(what)s. Please send a voice "
        "recording (%(accepted)s).",
        what=what,
        accepted=ACCEPTED,
    )


def _unsupported(container: str, codec: str) -> NotAudio:
    return NotAudio(
        "This %(container)s file holds sound in a format we cannot read (%(codec)s). "
        "Please send the recording as %(accepted)s.",
        container=container,
        codec=codec,
        accepted=ACCEPTED,
    )


def _cut_off(container: str) -> CorruptAudio:
    return CorruptAudio(
        "This %(container)s recording is damaged or incomplete (perhaps the upload was "
        "cut off), so it cannot be played. Please send the recording again.",
        container=container,
    )


def _implausible(rate: int, channels: int) -> CorruptAudio:
    described = f"{channels} channel{'' if channels == 1 else 's'} at {rate:,} samples per second"
    return CorruptAudio(
        "This recording's header is damaged or not from a voice recorder: it describes "
        "%(described)s, and we accept 1 to %(max_channels)s channels at "
        "%(min_sample_rate)s to %(max_sample_rate)s samples per second. Please record or "
        "export it again.",
        described=described,
        max_channels=MAX_CHANNELS,
        min_sample_rate=format(MIN_SAMPLE_RATE, ","),
        max_sample_rate=format(MAX_SAMPLE_RATE, ","),
    )


def _check_header(rate: int, channels: int) -> None:
    """Refuse a rate or channel count that no recorder makes, before anything is decoded."""
    if not (MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE) or not (1 <= channels <= MAX_CHANNELS):
        raise _implausible(rate, channels)


def _wav_plan(f: IO[bytes], size: int) -> _Plan:
    """How to read a RIFF/WAVE file, from its ``fmt `` chunk (its rate and channels checked)."""
    pos = 12
    while pos + 8 <= size:
        f.seek(pos)
        header = f.read(8)
        if len(header) < 8:
            break
        chunk, length = header[:4], struct.unpack("<I", header[4:])[0]
        if chunk == b"fmt ":
            body = f.read(min(length, 40))
            if len(body) < 16:
                break
            tag, channels, rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: tag is in the sub-format GUID
                tag = struct.unpack("<H", body[24:26])[0]
            if tag == 1:
                codec = _PCM_INT.get(bits, "pcm_s16le")
            elif tag == 3:
                codec = _PCM_FLOAT.get(bits, "pcm_f32le")
            elif tag in _WAV_TAGS:
                codec = _WAV_TAGS[tag]
            else:
                raise _unsupported("WAV", f"encoding 0x{tag:04X}")
            _check_header(rate, channels)
            return _Plan("wav", "wav", codec, rate, channels)
        if chunk == b"data":
            break
        pos += 8 + length + (length & 1)
    raise CorruptAudio(
        "This WAV file's header is damaged (its format description is missing), so it cannot "
        "be played. Please record or export it again."
    )


def _mp4_codec(f: IO[bytes], size: int) -> str:
    """Decoder for an ISO media file, from the sample entry of its first sound track."""
    pos, moov = 0, b""
    while pos + 8 <= size:
        f.seek(pos)
        header = f.read(16)
        box_size, box = struct.unpack(">I", header[:4])[0], header[4:8]
        if box_size == 1 and len(header) == 16:
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            box_size = size - pos
        if box_size < 8:
            break
        if box == b"moov":
            if pos + box_size > size:
                break
            f.seek(pos)
            moov = f.read(box_size)
            break
        pos += box_size
    if not moov:
        raise _cut_off("M4A")  # the index (moov box) is missing: typical of an interrupted upload
    has_sound = b"soun" in moov
    start = moov.find(b"stsd")
    while start != -1:
        entry = moov[start + 16 : start + 20]  # "stsd", version/flags, entry count, entry size, fourcc
        if entry in _MP4_ENTRIES:
            return _MP4_ENTRIES[entry]
        start = moov.find(b"stsd", start + 4)
    if has_sound:
        raise _unsupported("M4A", "an unknown encoding")
    raise _not_audio(N_("it is an MP4 file without any sound track"))


def _ogg_codec(head: bytes) -> str:
    """Decoder for an Ogg file, from the identification packet of its first logical stream with sound."""
    first_page = head[:4096]
    for magic, codec in _OGG_CODECS:
        if magic in first_page:
            return codec
    for magic, name in _OGG_UNSUPPORTED:
        if magic in first_page:
            raise _unsupported("Ogg", name)
    if b"\x80theora" in first_page:
        raise _not_audio(N_("it is a video file without any sound track"))
    raise _cut_off("Ogg")


_CODEC_ID = re.compile(rb"\x86(?:([\x81-\xfe])|\x40([\x01-\x7f]))")  # CodecID element + 1/2-byte size
_CODEC_ID_TEXT = re.compile(rb"[AVS]_[A-Z0-9/_.\-]+")


def _mkv_codec(head: bytes) -> str:
    """Decoder for a WebM/Matroska file, from the CodecID of its first audio track."""
    ids = []
    for m in _CODEC_ID.finditer(head):
        length = m.group(1)[0] & 0x7F if m.group(1) else m.group(2)[0]
        text = head[m.end() : m.end() + length]
        if len(text) == length and _CODEC_ID_TEXT.fullmatch(text):
            ids.append(text)
    sound = [i for i in ids if i.startswith(b"A_")]
    if sound:
        codec_id = sound[0]
        for prefix, codec in _MKV_CODECS:
            if codec_id.startswith(prefix):
                return codec
        if codec_id == b"A_PCM/INT/LIT":
            depth = head.find(b"\x62\x64\x81")  # BitDepth element with a 1-byte value
            bits = head[depth + 3] if depth != -1 and depth + 3 < len(head) else 16
            return _PCM_INT.get(bits, "pcm_s16le")
        raise _unsupported("WebM", codec_id.decode("ascii"))
    if ids:
        raise _not_audio(N_("it is a video file without any sound track"))
    raise _cut_off("WebM")


def _plan(f: IO[bytes], head: bytes, size: int) -> _Plan:
    """Recognise the container and choose ffmpeg's demuxer and decoder for it."""
    fmt = sniff_format(head)
    end = _id3_end(head)
    if end and end + 4 > len(head):  # a big ID3 tag (cover art): look at what follows it
        f.seek(end)
        fmt = sniff_format(f.read(4)) or "mp3"
    if fmt is None:
        raise _not_audio(_describe_other(head))
    if fmt == "wav":
        return _wav_plan(f, size)
    if fmt == "flac":
        return _Plan(fmt, "flac", "flac")
    if fmt == "mp3":
        tail = head[end : end + 4] if end else head[:4]
        layer = (tail[1] >> 1) & 3 if len(tail) >= 2 else 1
        return _Plan(fmt, "mp3", _MPEG_LAYERS.get(layer, "mp3"))
    if fmt == "aac":
        return _Plan(fmt, "aac", "aac")
    if fmt == "m4a":
        return _Plan(fmt, "mp4", _mp4_codec(f, size))
    if fmt == "ogg":
        return _Plan(fmt, "ogg", _ogg_codec(head))
    if fmt == "webm":
        return _Plan(fmt, "webm", _mkv_codec(head))
    # AMR storage format: "#!AMR\n" (narrow-band) or "#!AMR-WB\n" (wide-band)
    wide = head.startswith(b"#!AMR-WB\n")
    return _Plan(fmt, "amr", "libopencore_amrwb" if wide else "libopencore_amrnb")


# ---------------------------------------------------------------------------------------- decoding
def _fmt_seconds(seconds: float) -> str:
    """'0.3 s', '12 s', '10 min', '12 min 5 s' -- for messages."""
    if seconds < 10:
        text = f"{seconds:.1f}".rstrip("0").rstrip(".")
        return f"{text} s"
    total = round(seconds)
    minutes, secs = divmod(total, 60)
    if not minutes:
        return f"{secs} s"
    return f"{minutes} min" if not secs else f"{minutes} min {secs} s"


def _fmt_bytes(n: int) -> str:
    """'31.5 MB', '25 MB', '800 KB' -- for messages (1 MB = 1024 * 1024 bytes)."""
    if n >= 1024 * 1024:
        text = f"{n / (1024 * 1024):.1f}".removesuffix(".0")
        return f"{text} MB"
    return f"{max(1, round(n / 1024))} KB"


def too_large(max_bytes: int, size: int | None = None) -> AudioTooLarge:
    """The error for a file over ``max_bytes`` (its ``size`` when known, e.g. not while streaming)."""
    what = f"The file is {_fmt_bytes(size)}" if size is not None else "The file is over the size limit"
    return AudioTooLarge(
        "%(what)s; the limit is %(fmt_bytes)s. Please send a shorter recording.",
        what=what,
        fmt_bytes=_fmt_bytes(max_bytes),
    )


class _Stopped(Exception):
    """ffmpeg did not finish: it ran out of time (``timed_out``) or something killed it."""

    def __init__(self, timed_out: bool, samples: int) -> None:
        super().__init__("timed out" if timed_out else "killed")
        self.timed_out = timed_out
        self.samples = samples  # how many 16 kHz samples it had written by then


_CHUNK = 1 << 16  # bytes read from ffmpeg's pipe at a time
_STDERR_TAIL = 4000  # bytes of ffmpeg's messages kept for the log


def _ffmpeg_command(exe: str, codec: str, path: Path, plan: _Plan, seconds: float) -> list[str]:
    """Decode the first sound stream of ``path`` (at most ``seconds``) to 16 kHz mono float32 on stdout.

    ffmpeg mixes down and resamples while it streams, so neither it nor we ever hold the sound at
    its own rate and channel count. ``rematrix_maxval`` 1 makes the mix-down an average, as loud
    as the input (without it, two channels are summed at 0.71 each and may clip).
    """
    return [
        exe, "-nostdin", "-hide_banner", "-loglevel", "error",
        "-f", plan.demuxer, "-c:a", codec, "-i", str(path),
        "-map", "0:a:0", "-t", f"{seconds:.3f}", "-vn", "-sn", "-dn",
        "-ac", "1", "-ar", str(SAMPLE_RATE), "-rematrix_maxval", "1",
        "-f", "f32le", "pipe:1",
    ]  # fmt: skip


def _keep_tail(stream: IO[bytes], tail: bytearray) -> None:
    """Drain ffmpeg's stderr (so it never blocks on a full pipe), keeping only its end."""
    while chunk := stream.read(_CHUNK):
        tail += chunk
        del tail[:-_STDERR_TAIL]


def _run_ffmpeg(path: Path, plan: _Plan, seconds: float, timeout: float, out: np.ndarray | None) -> int:
    """Decode with an ffmpeg child (killed after ``timeout`` seconds) into ``out``; return the count.

    The 16 kHz mono samples go into ``out`` (float32, room for ``seconds`` and one more second)
    or, when it is None, are counted and dropped. Raises :class:`_Stopped` when ffmpeg ran out of
    time or was killed, :class:`NotAudio` or :class:`CorruptAudio` when it failed on the file.
    """
    exe, codec = _ffmpeg_for(plan.codec)
    command = _ffmpeg_command(exe, codec, path, plan, seconds)
    try:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
        )
    except FileNotFoundError as exc:  # the ffmpeg binary itself is missing: a server fault, not the user's
        raise RuntimeError(f"ffmpeg not found at {exe}") from exc
    assert proc.stdout is not None and proc.stderr is not None
    tail = bytearray()
    drain = threading.Thread(target=_keep_tail, args=(proc.stderr, tail), name="ffmpeg-stderr", daemon=True)
    drain.start()
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    room = out.nbytes if out is not None else (int(seconds * SAMPLE_RATE) + SAMPLE_RATE) * 4
    target = out.data.cast("B") if out is not None else memoryview(bytearray(_CHUNK))
    pipe = cast(io.FileIO, proc.stdout)  # unbuffered (bufsize=0): a read returns what is there
    written, enough, done = 0, False, False
    try:
        while not enough:
            start = written if out is not None else 0
            got = pipe.readinto(target[start : start + min(_CHUNK, room - written)])
            if not got:
                break
            written += got
            enough = written >= room  # more than ``seconds`` (ffmpeg's -t stops it before that)
        done = True
    finally:
        if proc.poll() is None and (enough or not done):
            proc.kill()  # it writes more than we take, or we are unwinding: never leave it running
        returncode = proc.wait()
        timer.cancel()
        drain.join()
        proc.stdout.close()
        proc.stderr.close()
        target.release()
    samples = written // 4
    if returncode == 0 or enough:
        return samples
    if timed_out.is_set() or returncode < 0:
        log.warning(
            "ffmpeg %s on %s (%s, %s) after %d samples",
            "ran out of time" if timed_out.is_set() else f"was killed (signal {-returncode})",
            path, plan.format, codec, samples,
        )  # fmt: skip
        raise _Stopped(timed_out.is_set(), samples)
    stderr = tail.decode(errors="replace")
    log.warning("ffmpeg could not decode %s (%s, %s): %s", path, plan.format, codec, stderr)
    if "does not contain any stream" in stderr or "matches no streams" in stderr:
        raise _not_audio(N_("the file holds no sound track"))
    raise _cut_off(_DISPLAY[plan.format])


def _check_size(path: Path, limits: AudioLimits) -> int:
    """The file's size, refused when empty or over the limit."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise too_large(limits.max_bytes, size)
    if size == 0:
        raise AudioTooShort(
            "The file is empty (0 bytes): nothing was recorded or the upload failed. "
            "Please record the message again."
        )
    return size


def _recognise(path: Path, limits: AudioLimits) -> _Plan:
    """Check the file's size, recognise its container and choose how ffmpeg reads it."""
    size = _check_size(path, limits)
    with path.open("rb") as f:
        return _plan(f, f.read(HEAD_BYTES), size)


def _check_duration(duration: float, limits: AudioLimits, cap: float) -> None:
    """Refuse a recording outside [min_seconds, max_seconds] (``cap``: where decoding stopped)."""
    if duration > limits.max_seconds:
        limit = _fmt_seconds(limits.max_seconds)
        if duration >= cap - 0.05 or _fmt_seconds(duration) == limit:  # decoding stopped at the cap
            length = f"The recording is longer than the limit of {limit}."
        else:
            length = f"The recording is {_fmt_seconds(duration)} long; the limit is {limit}."
        raise AudioTooLong("%(length)s Please split it or send a shorter note.", length=length)
    if duration < limits.min_seconds:
        what = "has no sound in it" if duration == 0 else f"is only {_fmt_seconds(duration)} long"
        raise AudioTooShort(
            "The recording %(what)s; the shortest we accept is %(fmt_seconds)s. Please "
            "record the message again and speak for a few seconds.",
            what=what,
            fmt_seconds=_fmt_seconds(limits.min_seconds),
        )


def _header_of(stream: AudioStream) -> tuple[int, int]:
    """Rate and channels of a PyAV sound stream as its container says, refused when implausible.

    (0, 0) when the container does not say; the decoder then finds out, in ffmpeg's process.
    """
    context = stream.codec_context
    rate, channels = int(context.sample_rate or 0), int(context.channels or 0)
    if not rate or not channels:
        return 0, 0
    _check_header(rate, channels)
    return rate, channels


def _header(path: Path, plan: _Plan) -> tuple[int, int]:
    """Rate and channels from the file's header (ours for WAV, else PyAV's), before decoding."""
    if plan.sample_rate:
        return plan.sample_rate, plan.channels
    try:
        with av.open(str(path), format=plan.demuxer) as container:
            return _header_of(container.streams.audio[0]) if container.streams.audio else (0, 0)
    except (av.FFmpegError, OSError):
        return 0, 0  # ffmpeg's decode says what is wrong, in the same words as ever


def _stopped(exc: _Stopped, timeout: float) -> CorruptAudio:
    """The error for a decode that did not finish (see :class:`_Stopped`)."""
    if exc.timed_out:
        return CorruptAudio(
            "This recording takes longer than %(fmt_seconds)s to decode, far longer than any "
            "voice note, so it cannot be played. Please record or export it again.",
            fmt_seconds=_fmt_seconds(timeout),
        )
    return CorruptAudio(
        "Decoding this recording was stopped before it finished (the server may be short of "
        "memory), so it cannot be played yet. Please send the recording again later."
    )


def load_audio(path: Path, limits: AudioLimits | None = None) -> NormalisedAudio:
    """Decode a recording to 16 kHz mono float32 samples in [-1, 1], enforcing ``limits``.

    The container is recognised from the file's bytes (see :func:`sniff_format`); the name is
    ignored. A header beyond :data:`MAX_CHANNELS` or :data:`MAX_SAMPLE_RATE` is refused before
    decoding. ffmpeg decodes at most ``limits.max_seconds + 1`` seconds in its own process, so an
    hour-long upload is rejected after a few seconds of work, and is killed after
    ``limits.decode_timeout_s``. Raises :class:`AudioTooLarge`, :class:`AudioTooShort` (also for
    an empty file), :class:`NotAudio`, :class:`CorruptAudio` (also when ffmpeg ran out of time or
    was killed) or :class:`AudioTooLong`; their ``detail`` is a plain-English message for staff,
    never ffmpeg output (that is logged).
    """
    limits = limits or AudioLimits()
    path = Path(path).resolve()  # absolute, so ffmpeg never reads a name as "protocol:..."
    plan = _recognise(path, limits)
    rate, channels = _header(path, plan)
    cap = limits.max_seconds + 1.0
    samples = np.empty(math.ceil(cap * SAMPLE_RATE) + SAMPLE_RATE, dtype=np.float32)
    try:
        count = _run_ffmpeg(path, plan, cap, limits.decode_timeout_s, samples)
    except _Stopped as exc:
        raise _stopped(exc, limits.decode_timeout_s) from None
    samples.resize(count, refcheck=False)  # gives back the room not written (never touched)
    np.clip(samples, -1.0, 1.0, out=samples)
    _check_duration(count / SAMPLE_RATE, limits, cap)
    return NormalisedAudio(
        samples=samples,
        duration_s=count / SAMPLE_RATE,
        format=plan.format,
        original_sample_rate=rate,
        original_channels=channels,
    )


# ---------------------------------------------------------------------------------------- inspecting
@dataclass(frozen=True)
class AudioInfo:
    """What an upload is, found without decoding it all: container, length, original rate and channels."""

    format: str
    duration_s: float
    sample_rate: int
    channels: int


# Lengths this close to a limit are measured by ffmpeg's decode, so both paths draw the line alike.
_NEAR_LIMIT_S = 1.0
_CHECK_DECODE_S = 1.0  # how much sound inspection decodes, to know the codec really reads it


class _Undecided(Exception):
    """Inspection cannot answer plainly; a counting pass of the worker's decode decides."""


def _inspect_packets(path: Path, plan: _Plan, cap: float) -> AudioInfo:
    """Demux every packet (stopping past ``cap`` seconds) and decode the first second, in-process.

    An implausible header is refused before decoding, as :func:`load_audio` refuses it.
    """
    try:
        with av.open(str(path), format=plan.demuxer) as container:
            if not container.streams.audio:
                raise _Undecided("no audio stream")
            stream = container.streams.audio[0]
            header = (plan.sample_rate, plan.channels) if plan.sample_rate else _header_of(stream)
            decoder = stream.codec_context
            if plan.codec.startswith("libopencore_"):  # see the module docstring: DTX frames
                decoder = cast(AudioCodecContext, av.CodecContext.create(plan.codec, "r"))
                decoder.sample_rate = stream.codec_context.sample_rate or 8000
            time_base = stream.time_base
            if time_base is None:
                raise _Undecided("no time base")
            first = last = None
            decoded, rate, channels = 0, 0, 0
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    if packet.size:
                        raise _Undecided("a packet without a timestamp")
                    continue
                end = packet.pts + (packet.duration or 0)
                first = packet.pts if first is None else min(first, packet.pts)
                last = end if last is None else max(last, end)
                if float((last - first) * time_base) > cap:
                    break
                if not rate or decoded < _CHECK_DECODE_S * rate:
                    for frame in decoder.decode(packet):
                        decoded += frame.samples
                        rate, channels = int(frame.sample_rate), int(frame.layout.nb_channels)
    except av.FFmpegError as exc:
        raise _Undecided(f"PyAV: {exc}") from None
    if first is None or last is None or not decoded:
        raise _Undecided("no decodable sound")
    if not (MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE) or not (1 <= channels <= MAX_CHANNELS):
        raise _Undecided(f"the first second decodes to {rate} Hz, {channels} channels")
    if header[0]:
        rate, channels = header
    return AudioInfo(plan.format, float((last - first) * time_base), rate, channels)


def inspect_audio(path: Path, limits: AudioLimits | None = None) -> AudioInfo:
    """Check that a file is a usable recording within ``limits`` and say what it is, quickly.

    Recognises the container and checks its header as :func:`load_audio` does, reads every
    packet's timestamps (the length) and decodes the first second (the codec works). When that
    cannot answer plainly it runs the worker's ffmpeg decode, counting the samples and dropping
    them (killed after ``limits.inspect_timeout_s``), so it raises the same errors with the same
    messages. If that pass runs out of time, the file is accepted with what is known and the
    worker decides. A file that passes may still fail in the worker's decode if it is damaged
    after its first second: the worker then marks the suggestion failed, with the audio kept.
    """
    limits = limits or AudioLimits()
    path = Path(path).resolve()
    plan = _recognise(path, limits)
    cap = limits.max_seconds + 1.0
    info: AudioInfo | None = None
    try:
        info = _inspect_packets(path, plan, cap)
        near = min(abs(info.duration_s - limits.min_seconds), abs(info.duration_s - limits.max_seconds))
        if near < _NEAR_LIMIT_S:
            raise _Undecided(f"{info.duration_s:.2f} s is near a limit")
    except _Undecided as why:
        log.info("inspecting %s (%s, %s) needs a decoding pass: %s", path.name, plan.format, plan.codec, why)
        rate, channels = (info.sample_rate, info.channels) if info else _header(path, plan)
        try:
            seconds = _run_ffmpeg(path, plan, cap, limits.inspect_timeout_s, None) / SAMPLE_RATE
        except _Stopped as exc:
            so_far = exc.samples / SAMPLE_RATE
            if so_far > limits.max_seconds:  # too long already, whatever follows
                _check_duration(so_far, limits, so_far)
            log.warning("accepting %s unchecked after %.1f s of sound; the worker decides", path.name, so_far)
            return AudioInfo(plan.format, info.duration_s if info else so_far, rate, channels)
        _check_duration(seconds, limits, cap)
        return AudioInfo(plan.format, seconds, rate, channels)
    _check_duration(info.duration_s, limits, cap)
    return info

"""Audio decompression bombs, made with the bundled ffmpeg, and a measure of a process's peak memory.

A bomb is a small file that describes far more sound than a voice note: FLAC codes a block of
digital silence in a few bytes per channel, so minutes of 8-channel sound at hundreds of kHz
fit in tens of KB; a WAV header can claim any rate at all.
"""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

from intake.audio import ffmpeg_path

MB = 1024 * 1024


def flac_bomb(path: Path, rate: int, seconds: float, layout: str = "7.1") -> Path:
    """``seconds`` of silence at ``rate`` in ``layout``, as FLAC in the largest blocks FLAC allows."""
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"anullsrc=r={rate}:cl={layout}:d={seconds}",
         "-c:a", "flac", "-frame_size", "65535", "-sample_fmt", "s16", str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    return path


def relabel_flac(source: Path, target: Path, rate: int, channels: int) -> Path:
    """A copy of a FLAC file whose STREAMINFO claims ``rate`` and ``channels``; the frames still
    say what they really hold."""
    data = bytearray(source.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0, "STREAMINFO must be the first block"
    # After "fLaC", the block header and 10 bytes of block and frame sizes: 20 bits of rate,
    # 3 bits of channels - 1, then 5 bits of bits per sample - 1 and 36 of total samples (kept).
    fields = int.from_bytes(data[18:26], "big") & ((1 << 41) - 1)
    fields |= (rate << 44) | ((channels - 1) << 41)
    data[18:26] = fields.to_bytes(8, "big")
    target.write_bytes(bytes(data))
    return target


def wav_bomb(path: Path, rate: int, channels: int) -> Path:
    """A 16-bit PCM WAV whose header claims ``rate`` and ``channels`` and 4 GB of data, over 64 KB
    of silence."""
    align = 2 * channels
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * align) & 0xFFFFFFFF, align & 0xFFFF, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", 0xFFFFFFFF) + bytes(64 * 1024)
    path.write_bytes(b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + body)
    return path


def _status(field: str) -> int:
    """A memory field of /proc/self/status (VmRSS, VmHWM, ...) in bytes."""
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB$", text, re.MULTILINE)
    assert match, f"no {field} in /proc/self/status"
    return int(match.group(1)) * 1024


def reset_peak() -> int:
    """Start measuring this process's peak memory afresh; return the resident size now.

    Writing 5 to clear_refs resets VmHWM to the current resident size (Linux 4.0 and later);
    where that is refused, the earlier peak stays and growth is measured from it.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return _status("VmHWM")
    return _status("VmRSS")


def peak() -> int:
    """This process's peak resident size, in bytes, since the last :func:`reset_peak`."""
    return _status("VmHWM")

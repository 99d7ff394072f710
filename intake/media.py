"""The media type a stored recording is served with, from the container the server recognised.

The client's declared Content-Type is never trusted: a file that is also valid HTML or JavaScript
would run in a staff member's browser if it were served back with the type its uploader chose.
"""

from __future__ import annotations

# Keys are the container names of ``intake.audio.sniff_format``.
MEDIA_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "webm": "audio/webm",
    "amr": "audio/amr",
}
# Anything else (a row stored by an older version, a format added without a type) is served as
# bytes to download, never as something a browser would render or run.
FALLBACK = "application/octet-stream"


def media_type_of(container: str | None) -> str:
    """The type to serve a recording of this container with."""
    return MEDIA_TYPES.get(container or "", FALLBACK)


def extension_of(container: str | None) -> str:
    """A file extension for a download's name (``bin`` when unknown)."""
    return container if container in MEDIA_TYPES else "bin"

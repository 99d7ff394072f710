"""intake.media: the type and file extension a stored recording is served with.

Only containers the server itself recognised get an audio type; anything else (a row from an
older version, a container added without a type, nothing at all) is served as bytes to download,
never as something a browser would render or run.
"""

from __future__ import annotations

import pytest

from intake.media import FALLBACK, MEDIA_TYPES, extension_of, media_type_of

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

RECOGNISED = ["wav", "flac", "mp3", "aac", "m4a", "ogg", "webm", "amr"]  # intake.audio.sniff_format's names


@pytest.mark.parametrize("container", RECOGNISED)
def test_every_recognised_container_is_served_as_audio_with_its_own_extension(container: str) -> None:
    assert media_type_of(container).startswith("audio/")
    assert extension_of(container) == container


def test_the_audio_types_are_the_registered_ones() -> None:
    assert MEDIA_TYPES == {
        "wav": "audio/wav",
        "flac": "audio/flac",
        "mp3": "audio/mpeg",
        "aac": "audio/aac",
        "m4a": "audio/mp4",
        "ogg": "audio/ogg",
        "webm": "audio/webm",
        "amr": "audio/amr",
    }


@pytest.mark.parametrize("container", [None, "", "html", "text/html", "svg", "WAV", "exe"])
def test_anything_else_is_a_download(container: str | None) -> None:
    assert FALLBACK == "application/octet-stream"
    assert media_type_of(container) == "application/octet-stream"
    assert extension_of(container) == "bin"

"""Fuzzing: generated requests from the OpenAPI schema never cause a 500, and malformed audio of
every kind gets a clean 4xx (tests/api/test_bad_input.py covers the committed bad fixtures; this
adds damaged variants made from the good ones)."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import func, select

from api.context import AppContext
from models.tables import Audio, Suggestion
from tests.api.conftest import make_client, staff_headers
from tests.conftest import DATA


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    """The app with small limits and no worker (fuzzing checks the request handling only)."""
    with make_client(
        tmp_path_factory.mktemp("fuzz"),
        weights_cache,
        worker_enabled=False,
        max_upload_mb=0.2,
        max_audio_seconds=5.0,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def admin(fuzz_client: TestClient) -> dict[str, str]:
    return staff_headers(fuzz_client, "admin")


def test_generated_requests_never_cause_a_server_error(
    fuzz_client: TestClient, admin: dict[str, str]
) -> None:
    # Requests go straight to the ASGI app, whose context the fuzz_client's lifespan has built.
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            # As an administrator, so the staff endpoints are exercised past the sign-in check.
            response = case.call(headers=admin)
            case.validate_response(response, checks=[not_a_server_error])

        call()


# --- malformed audio -------------------------------------------------------------------------------


def _wav(channels: int, rate: int, bits: int, data_size: int, payload: bytes) -> bytes:
    block = max(1, channels * bits // 8)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(payload))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_size)
        + payload
    )


def _noise(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def _head(name: str, fraction: float) -> bytes:
    data = (DATA / name).read_bytes()
    return data[: int(len(data) * fraction)]


# (name, bytes, may it decode?) — a cut stream can legitimately keep its first part.
CORPUS: list[tuple[str, bytes, bool]] = [
    ("header only, no samples", _wav(1, 16000, 16, 0, b""), False),
    ("header cut inside fmt", _wav(1, 16000, 16, 0, b"")[:22], False),
    ("4 GB data claim, 1 KB present", _wav(1, 16000, 16, 0xFFFFFFFF, _noise(1024)), False),
    ("zero sample rate", _wav(1, 0, 16, 32000, _noise(32000)), False),
    ("zero channels", _wav(0, 16000, 16, 32000, _noise(32000)), False),
    # FFmpeg reads a zero sample size as 8-bit PCM: it decodes (as noise), which is not an error.
    ("zero bits per sample", _wav(1, 16000, 0, 32000, _noise(32000)), True),
    ("RIFF/WAVE magic then noise", b"RIFF\xff\xff\xff\xffWAVE" + _noise(20000), False),
    ("Ogg magic then noise", b"OggS\x00\x02" + _noise(20000), False),
    ("FLAC magic then noise", b"fLaC" + _noise(20000), False),
    ("ID3 tag then noise", b"ID3\x04\x00\x00\x00\x00\x00\x0a" + _noise(20000), False),
    ("EBML (WebM) magic then noise", b"\x1a\x45\xdf\xa3" + _noise(20000), False),
    ("AMR magic then noise", b"#!AMR\n" + _noise(20000, seed=3), True),
    ("MP4 ftyp then noise", b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom" + _noise(20000), False),
    ("a single byte", b"\x00", False),
    ("Ogg cut after its headers", _head("speech.ogg", 0.05), True),
    ("WebM stream cut in half", _head("speech_stream.webm", 0.5), True),
    ("FLAC cut to a tenth", _head("speech.flac", 0.1), True),
    ("AMR cut to a third", _head("speech.amr", 0.33), True),
]


def _stored(client: TestClient) -> tuple[int, int]:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    with context.factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Suggestion)) or 0,
            session.scalar(select(func.count()).select_from(Audio)) or 0,
        )


@pytest.mark.parametrize(("case", "data", "may_decode"), CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_audio_gets_a_clean_4xx(
    fuzz_client: TestClient, case: str, data: bytes, may_decode: bool
) -> None:
    before = _stored(fuzz_client)
    response = fuzz_client.post("/api/v1/suggestions", files={"audio": ("note.wav", data, "audio/wav")})
    body = response.json()
    if may_decode and response.status_code == 202:
        assert _stored(fuzz_client) == (before[0] + 1, before[1] + 1)
        return
    assert response.status_code in (413, 415, 422), (case, response.status_code, body)
    assert body["error"] in {"NotAudio", "CorruptAudio", "AudioTooShort", "AudioTooLong", "AudioTooLarge"}
    assert len(body["detail"]) > 20 and "Traceback" not in body["detail"]
    assert _stored(fuzz_client) == before

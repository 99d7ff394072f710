"""The OpenAI-compatible endpoints refuse bad requests in OpenAI's error shape, with OpenAI's
statuses, before any transcription (no worker runs here; tests/api/test_openai_audio.py drives
the real thing with OpenAI's own client)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models.db import unit_of_work
from models.jobs.tables import Job
from models.suggestions.tables import Suggestion
from models.transcriptions.tables import TranscriptionRequest
from tests.api.conftest import _context, make_client, staff_headers, staff_login
from tests.conftest import DATA

SPEECH = (DATA / "speech.wav").read_bytes()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("openai-errors"), weights_cache, worker_enabled=False) as c:
        yield c


@pytest.fixture(scope="module")
def headers(client: TestClient) -> dict[str, str]:
    return staff_headers(client, "transcriber")


def _error(response: Any, status: int, code: str, param: str | None = None) -> str:
    """Check an OpenAI error response; returns its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == ("invalid_request_error" if status < 500 else "server_error")
    assert (error["code"], error["param"]) == (code, param), error
    assert error["message"]
    return str(error["message"])


def _transcribe(
    client: TestClient, headers: dict[str, str], data: dict[str, Any], audio: bytes | None = SPEECH
) -> Any:
    files = {"file": ("note.wav", audio, "audio/wav")} if audio is not None else None
    return client.post("/v1/audio/transcriptions", data=data, files=files, headers=headers)


def _stored(client: TestClient) -> tuple[int, int, int]:
    with unit_of_work(_context(client).factory) as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (TranscriptionRequest, Job, Suggestion)
        )


def test_no_token_or_a_bad_one_is_401(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer msk_not-a-real-token-not-a-real-token-xx"}):
        for method, path in (("GET", "/v1/models"), ("POST", "/v1/audio/transcriptions")):
            response = client.request(method, path, headers=headers)
            _error(response, 401, "invalid_api_key")
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_browser_session_is_not_an_api_token(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(tmp_path, weights_cache, worker_enabled=False) as browser:
        staff_login(browser, "admin")
        message = _error(browser.get("/v1/models"), 401, "invalid_api_key")
        assert "Authorization: Bearer" in message


def test_only_transcription_clients_and_admins_may(client: TestClient, headers: dict[str, str]) -> None:
    for role in ("reviewer", "handler", "deputy"):
        staff = staff_headers(client, role, "power_station" if role == "handler" else None)
        _error(client.get("/v1/models", headers=staff), 403, "permission_denied")
    assert client.get("/v1/models", headers=headers).status_code == 200
    assert client.get("/v1/models", headers=staff_headers(client, "admin")).status_code == 200


def test_models_lists_the_installed_model_and_its_openai_alias(
    client: TestClient, headers: dict[str, str]
) -> None:
    listing = client.get("/v1/models", headers=headers).json()
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["whisper-base", "whisper-1"]
    for model in listing["data"]:
        assert set(model) == {"id", "object", "created", "owned_by"}
        assert model["object"] == "model" and model["owned_by"] == "minsheng"
        assert isinstance(model["created"], int) and model["created"] > 1_600_000_000
    assert client.get("/v1/models/whisper-1", headers=headers).json() == listing["data"][1]
    _error(client.get("/v1/models/gpt-4o-transcribe", headers=headers), 404, "model_not_found", "model")


@pytest.mark.parametrize(
    ("data", "code", "param", "status"),
    [
        ({}, "invalid_parameter", "model", 400),
        ({"model": "gpt-4o-transcribe"}, "model_not_found", "model", 404),
        (
            {"model": "whisper-1", "response_format": "diarized_json"},
            "invalid_parameter",
            "response_format",
            400,
        ),
        ({"model": "whisper-1", "language": "fr"}, "invalid_parameter", "language", 400),
        ({"model": "whisper-1", "temperature": "2"}, "invalid_parameter", "temperature", 400),
        ({"model": "whisper-1", "temperature": "nan"}, "invalid_parameter", "temperature", 400),
        ({"model": "whisper-1", "prompt": "x" * 2001}, "invalid_parameter", "prompt", 400),
        (
            {"model": "whisper-1", "timestamp_granularities[]": "word"},
            "invalid_parameter",
            "timestamp_granularities[]",
            400,
        ),
        (
            {"model": "whisper-1", "response_format": "verbose_json", "timestamp_granularities[]": "line"},
            "invalid_parameter",
            "timestamp_granularities[]",
            400,
        ),
    ],
)
def test_bad_fields_are_400_naming_the_field(
    client: TestClient, headers: dict[str, str], data: dict[str, Any], code: str, param: str, status: int
) -> None:
    before = _stored(client)
    _error(_transcribe(client, headers, data), status, code, param)
    assert _stored(client) == before


def test_a_request_without_a_file_is_400(client: TestClient, headers: dict[str, str]) -> None:
    _error(_transcribe(client, headers, {"model": "whisper-1"}, audio=None), 400, "invalid_parameter", "file")


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("not_audio.mp3", "not_audio"),
        ("empty.wav", "audio_too_short"),
        ("too_short.wav", "audio_too_short"),
        ("truncated.m4a", "corrupt_audio"),
        ("absurd_header.wav", "corrupt_audio"),
    ],
)
def test_files_a_villager_could_not_send_are_refused_alike(
    client: TestClient, headers: dict[str, str], fixture: str, code: str
) -> None:
    before = _stored(client)
    response = _transcribe(client, headers, {"model": "whisper-1"}, (DATA / fixture).read_bytes())
    _error(response, 400, code)
    villager = client.post("/api/v1/suggestions", files={"audio": (fixture, (DATA / fixture).read_bytes())})
    assert villager.json()["detail"] == response.json()["error"]["message"]
    assert _stored(client) == before


def test_without_a_worker_the_request_is_refused_and_nothing_is_kept(
    client: TestClient, headers: dict[str, str]
) -> None:
    before = _stored(client)
    _error(_transcribe(client, headers, {"model": "whisper-1"}), 503, "worker_unavailable")
    assert _stored(client) == before
    incoming = _context(client).store.incoming
    assert not any(incoming.iterdir()), "the staged upload was left behind"


def test_unknown_paths_under_v1_answer_in_openai_shape(client: TestClient, headers: dict[str, str]) -> None:
    _error(client.get("/v1/audio/translations", headers=headers), 404, "not_found")

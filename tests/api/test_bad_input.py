"""Bad uploads get clear 4xx errors and leave nothing half-stored."""

from __future__ import annotations

import select as io_select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.context import AppContext
from api.settings import Settings
from models.suggestions.tables import Audio, Suggestion
from tests.api.conftest import make_client


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    """Small limits (200 KB, 2 s) so the limit paths are quick to reach; worker off."""
    with make_client(
        tmp_path_factory.mktemp("strict"),
        weights_cache,
        max_upload_mb=0.2,
        max_audio_seconds=2.0,
        worker_enabled=False,
    ) as c:
        yield c


def _stored(client: TestClient) -> tuple[int, int, list[Path]]:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    with context.factory() as session:
        n_sugg = session.scalar(select(func.count()).select_from(Suggestion)) or 0
        n_audio = session.scalar(select(func.count()).select_from(Audio)) or 0
    files = [p for p in context.store.root.rglob("*") if p.is_file()]
    return n_sugg, n_audio, files


def _post(client: TestClient, path: Path, name: str | None = None) -> tuple[int, dict[str, str]]:
    with path.open("rb") as fh:
        response = client.post("/api/v1/suggestions", files={"audio": (name or path.name, fh, "audio/mpeg")})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("fixture", "status", "kind"),
    [
        ("not_audio.mp3", 415, "NotAudio"),
        ("wrong_magic.wav", 415, "NotAudio"),
        ("empty.wav", 422, "AudioTooShort"),
        ("too_short.wav", 422, "AudioTooShort"),
        ("truncated.m4a", 422, "CorruptAudio"),
        ("absurd_header.wav", 422, "CorruptAudio"),
        ("speech.wav", 422, "AudioTooLong"),  # 3 s against the 2 s limit of this app
    ],
)
def test_bad_audio_is_refused_and_nothing_is_stored(
    strict: TestClient, data_dir: Path, fixture: str, status: int, kind: str
) -> None:
    before = _stored(strict)
    code, body = _post(strict, data_dir / fixture)
    assert (code, body["error"]) == (status, kind), body
    assert len(body["detail"]) > 20 and "Traceback" not in body["detail"]
    assert _stored(strict) == before


def test_an_upload_over_the_size_limit_is_413(strict: TestClient, tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    big.write_bytes(b"RIFF" + b"\0" * 400_000)
    before = _stored(strict)
    code, body = _post(strict, big)
    assert code == 413 and body["error"] == "AudioTooLarge" and "limit is" in body["detail"]
    assert _stored(strict) == before


def test_a_streamed_upload_without_length_is_cut_off_at_the_limit(
    tmp_path: Path, weights_cache: Path
) -> None:
    """On a real server over a socket: chunked upload, no Content-Length, far over the limit."""
    settings = Settings(
        data_dir=tmp_path / "var", weights_cache=weights_cache, max_upload_mb=0.2, worker_enabled=False
    )
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    sent = 0
    reply = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            head = (
                "POST /api/v1/suggestions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n\r\n"
            )
            part = b'--b\r\nContent-Disposition: form-data; name="audio"; filename="x.wav"\r\n\r\n'
            sock.sendall(head.encode() + f"{len(part):x}\r\n".encode() + part + b"\r\n")
            chunk = b"\0" * 65536
            while sent < 640 * 1024 * 1024:
                if io_select.select([sock], [], [], 0)[0]:
                    break
                try:
                    sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(chunk)
            while not reply.endswith(b"}") and (data := sock.recv(4096)):
                reply += data
    finally:
        server.should_exit = True
        thread.join(30)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"AudioTooLarge" in reply
    # Refused long before the 640 MB end; what was "sent" beyond 0.2 MB sat in loopback socket buffers.
    assert sent < 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({}, "Nothing to submit"),
        ({"text": "   "}, "empty"),
        ({"text": "路灯坏了", "language": "fr"}, "language"),
        ({"text": "路灯坏了", "latitude": "95"}, "latitude"),
        ({"text": "路灯坏了", "longitude": "east"}, "longitude"),
        ({"text": "x" * 5001}, "too long"),
    ],
)
def test_bad_form_fields_are_422(strict: TestClient, data: dict[str, str], needle: str) -> None:
    before = _stored(strict)
    response = strict.post("/api/v1/suggestions", data=data, files={"dummy": ("", b"")} if not data else None)
    assert response.status_code == 422, response.text
    assert needle in response.json()["detail"]
    assert _stored(strict) == before


def test_json_body_gets_a_helpful_error(strict: TestClient) -> None:
    response = strict.post("/api/v1/suggestions", json={"text": "路灯坏了"})
    assert response.status_code == 422
    assert "multipart/form-data" in response.json()["detail"]

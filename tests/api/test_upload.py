"""Uploaded files are stored under names the server makes, never under the client's file name; an
upload the client abandons midway costs one log line."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.context import AppContext
from models.suggestions.tables import Audio
from tests.api.conftest import make_client
from tests.intake.bombs import MB, flac_bomb, peak, reset_peak
from tests.server import start_server

BOUNDARY = "minsheng-test-boundary"


def test_the_stored_name_is_the_content_hash_not_the_clients_name(
    tmp_path: Path, weights_cache: Path, data_dir: Path
) -> None:
    hostile = "../../../etc/cron.d/evil name;rm -rf.wav"
    with make_client(tmp_path / "var", weights_cache, worker_enabled=False) as client:
        client_: TestClient = client
        context: AppContext = client_.app.state.context  # type: ignore[attr-defined]
        with (data_dir / "speech.ogg").open("rb") as fh:
            response = client_.post("/api/v1/suggestions", files={"audio": (hostile, fh, "image/png")})
        assert response.status_code == 202, response.text
        with context.factory() as session:
            audio = session.scalars(select(Audio)).one()
        assert audio.original_name == hostile  # kept as data for staff, never used as a path
        assert audio.format == "ogg"  # sniffed from the bytes, not from the name or content type
        assert audio.path == f"{audio.sha256[:2]}/{audio.sha256}.ogg"
        stored = [p for p in context.store.root.rglob("*") if p.is_file()]
        assert [p.relative_to(context.store.root).as_posix() for p in stored] == [audio.path]
    assert not any("evil" in p.name for p in tmp_path.rglob("*"))


def test_an_upload_cut_off_midway_is_one_log_line(tmp_path: Path, weights_cache: Path) -> None:
    # An anonymous client that declares a big body, sends half and hangs up, again and again, must
    # not fill the server's log (it used to log a 70-line traceback each time).
    server = start_server(tmp_path / "var", weights_cache, env={"MINSHENG_WORKER_ENABLED": "false"})
    try:
        port = int(server.url.rsplit(":", 1)[1])
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="note.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        request = (
            "POST /api/v1/suggestions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 2000000\r\n\r\n"
        ).encode()
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as conn:
                conn.sendall(request + head + b"RIFF" + b"\0" * 1_000_000)
                time.sleep(0.3)
        deadline = time.monotonic() + 30
        while server.log.read_text().count("hung up") < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
    finally:
        server.stop()
    log = server.log.read_text()
    lines = [line for line in log.splitlines() if "hung up" in line]
    assert len(lines) == 3, log[-3000:]
    assert "Traceback" not in log and "ClientDisconnect" not in log, log[-3000:]
    assert not list((tmp_path / "var" / "audio" / ".incoming").iterdir())


def test_an_audio_bomb_is_refused_at_upload_within_bounded_memory(
    tmp_path: Path, weights_cache: Path
) -> None:
    bomb = flac_bomb(tmp_path / "bomb.flac", 655_350, 60)  # 60 s of 7.1 at 655 kHz in ~30 KB
    with make_client(tmp_path / "var", weights_cache, worker_enabled=False) as client:
        start = reset_peak()
        with bomb.open("rb") as fh:
            response = client.post("/api/v1/suggestions", files={"audio": ("note.flac", fh, "audio/flac")})
        growth = peak() - start
    assert growth < 150 * MB, f"the upload grew the server by {growth / MB:.0f} MB"
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "CorruptAudio"
    assert "8 channels at 655,350 samples per second" in response.json()["detail"]
    assert not [p for p in (tmp_path / "var" / "audio").rglob("*") if p.is_file()]

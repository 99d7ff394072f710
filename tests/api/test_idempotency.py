"""Idempotency-Key on POST /api/v1/suggestions: retries are stored once, even across a kill -9."""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tests.databases import count, fetch
from tests.server import start_server


def _post_text(client: TestClient, key: str, text: str) -> httpx.Response:
    return client.post("/api/v1/suggestions", data={"text": text}, headers={"Idempotency-Key": key})


def test_a_repeated_keyed_text_returns_the_first_receipt(client: TestClient) -> None:
    key = str(uuid.uuid4())
    first = _post_text(client, key, "村口的路灯坏了一个星期")
    again = _post_text(client, key, "村口的路灯坏了一个星期")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["tracking_code"] == first.json()["tracking_code"]
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"


def test_a_key_reused_for_another_suggestion_gets_409_with_a_clear_message(client: TestClient) -> None:
    key = str(uuid.uuid4())
    assert _post_text(client, key, "河水发臭").status_code == 202
    response = _post_text(client, key, "公交车太少")
    assert response.status_code == 409
    assert response.json()["error"] == "IdempotencyConflict"
    assert "different suggestion" in response.json()["detail"]


def test_a_repeated_keyed_voice_note_is_stored_once(client: TestClient, data_dir: Path) -> None:
    key = str(uuid.uuid4())
    ids = []
    for _ in range(2):
        with (data_dir / "voice_environment.ogg").open("rb") as fh:
            response = client.post(
                "/api/v1/suggestions",
                files={"audio": ("n.ogg", fh, "audio/ogg")},
                headers={"Idempotency-Key": key},
            )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    assert ids[0] == ids[1]
    with (data_dir / "voice_power.ogg").open("rb") as fh:
        other = client.post(
            "/api/v1/suggestions", files={"audio": ("n.ogg", fh)}, headers={"Idempotency-Key": key}
        )
    assert other.status_code == 409


def test_a_too_long_key_is_refused(client: TestClient) -> None:
    response = _post_text(client, "k" * 300, "路灯坏了")
    assert response.status_code == 422
    assert "idempotency" in response.json()["detail"].lower()


def _multipart(note: Path, key: str, host: str) -> tuple[bytes, bytes]:
    """An HTTP request head and multipart body for one voice note, written by hand so the test can
    send part of it and stop."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="{note.name}"\r\n'
            "Content-Type: audio/ogg\r\n\r\n"
        ).encode()
        + note.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST /api/v1/suggestions HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\nIdempotency-Key: {key}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head, body


def _stored(db: str) -> dict[str, int]:
    return {t: count(db, t) for t in ("suggestions", "audio", "jobs", "events", "idempotency_keys")}


def test_an_api_killed_during_uploads_leaves_nothing_half_written_and_retries_store_once(
    tmp_path: Path, weights_cache: Path, data_dir: Path
) -> None:
    """kill -9 of the API (1) while a body is still arriving and (2) right after a full request
    arrived, before the answer went out. Afterwards every table is consistent, and the client's
    retries with the same Idempotency-Key store each note exactly once."""
    data = tmp_path / "var"
    no_worker = {"MINSHENG_WORKER_ENABLED": "false"}  # only the intake path is under test
    server = start_server(data, weights_cache, env=no_worker)
    db, port = server.database_url, int(server.url.rsplit(":", 1)[1])
    notes = {"half": data_dir / "voice_power.ogg", "whole": data_dir / "voice_other.ogg"}
    keys = {name: str(uuid.uuid4()) for name in notes}
    try:
        head, body = _multipart(notes["half"], keys["half"], f"127.0.0.1:{port}")
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head + body[: len(body) // 2])
            time.sleep(0.5)  # the server is now reading the body
            server.kill()
    finally:
        if server.process.poll() is None:
            server.kill()
    assert _stored(db) == {"suggestions": 0, "audio": 0, "jobs": 0, "events": 0, "idempotency_keys": 0}
    assert not list((data / "audio").rglob("*.ogg"))

    server = start_server(data, weights_cache, database_url=db, port=port, env=no_worker)
    try:
        head, body = _multipart(notes["whole"], keys["whole"], f"127.0.0.1:{port}")
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head + body)
            server.kill()  # the answer never leaves
    finally:
        if server.process.poll() is None:
            server.kill()
    # Either the note was stored whole (suggestion, job, event, audio, key) or not at all.
    after_kill = _stored(db)
    assert after_kill in (
        {"suggestions": 0, "audio": 0, "jobs": 0, "events": 0, "idempotency_keys": 0},
        {"suggestions": 1, "audio": 1, "jobs": 1, "events": 1, "idempotency_keys": 1},
    ), after_kill

    server = start_server(data, weights_cache, database_url=db, port=port, env=no_worker)
    try:
        receipts: dict[str, set[int]] = {name: set() for name in notes}
        for _ in range(2):  # the client retries each upload; the second retry is a pure replay
            for name, note in notes.items():
                with note.open("rb") as fh:
                    response = httpx.post(
                        f"{server.url}/api/v1/suggestions",
                        files={"audio": (note.name, fh, "audio/ogg")},
                        headers={"Idempotency-Key": keys[name]},
                        timeout=30,
                    )
                assert response.status_code == 202, response.text
                receipts[name].add(response.json()["id"])
    finally:
        server.stop()
    assert all(len(ids) == 1 for ids in receipts.values()), receipts
    assert _stored(db) == {"suggestions": 2, "audio": 2, "jobs": 2, "events": 2, "idempotency_keys": 2}
    rows = fetch(db, "SELECT s.id FROM suggestions s JOIN jobs j ON j.target_id = s.id")
    assert sorted(r[0] for r in rows) == sorted(next(iter(ids)) for ids in receipts.values())

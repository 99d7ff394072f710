"""Nothing is lost: a server killed mid-job finishes after restart; a failing job keeps the audio."""

from __future__ import annotations

import time
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.context import AppContext
from intake.audio import load_audio
from models.jobs.tables import Job
from tests.api.conftest import create_staff_headers, make_client, reader_headers, wait_until_processed
from tests.databases import count, fetch
from tests.server import start_server


def _job_state(url: str) -> tuple[object, ...] | None:
    rows = fetch(url, "SELECT state, attempts FROM jobs ORDER BY id DESC LIMIT 1")
    return rows[0] if rows else None


def test_server_killed_mid_transcription_finishes_after_restart(
    tmp_path: Path, weights_cache: Path, data_dir: Path
) -> None:
    data = tmp_path / "var"
    # A longer note (all five voice fixtures back to back) keeps the worker busy for seconds.
    long_note = tmp_path / "long.wav"
    samples = np.concatenate([load_audio(p).samples for p in sorted(data_dir.glob("voice_*.ogg"))] * 2)
    with wave.open(str(long_note), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes((samples * 32767).astype("<i2").tobytes())

    # Recovery is lease-based (several processes may share the database): a short lease lets the
    # restarted server take the cut-off job again within seconds.
    short_lease = {"MINSHENG_JOB_LEASE_SECONDS": "3"}
    server = start_server(data, weights_cache, env=short_lease)
    db = server.database_url
    try:
        with long_note.open("rb") as fh:
            receipt = httpx.post(
                f"{server.url}/api/v1/suggestions", files={"audio": ("long.wav", fh)}, timeout=30
            ).json()
        deadline = time.monotonic() + 60
        while _job_state(db) != ("running", 1):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        time.sleep(1.0)  # inside the transcription
        server.kill()
    finally:
        if server.process.poll() is None:
            server.kill()
    assert _job_state(db) == ("running", 1)
    assert count(db, "transcripts") == 0

    headers = create_staff_headers(db, "reviewer")
    server = start_server(data, weights_cache, database_url=db, env=short_lease)
    try:
        deadline = time.monotonic() + 120
        while True:
            body = httpx.get(
                f"{server.url}/api/v1/suggestions/{receipt['id']}", headers=headers, timeout=10
            ).json()
            if body["status"] in {"routed", "needs_review", "failed"} or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    finally:
        server.stop()
    assert body["status"] in {"routed", "needs_review"}, body
    assert "power" in body["transcript"].lower()
    assert count(db, "transcripts") == 1
    assert count(db, "suggestions") == 1
    assert _job_state(db) == ("done", 2)


def test_a_job_that_keeps_failing_leaves_the_suggestion_failed_with_its_audio(
    tmp_path: Path, weights_cache: Path, data_dir: Path
) -> None:
    with make_client(tmp_path / "var", weights_cache, worker_enabled=False, job_max_attempts=3) as client:
        context: AppContext = client.app.state.context  # type: ignore[attr-defined]
        with (data_dir / "voice_power.ogg").open("rb") as fh:
            receipt = client.post("/api/v1/suggestions", files={"audio": ("n.ogg", fh)}).json()
        stored = next(p for p in context.store.root.rglob("*.ogg"))
        original = stored.read_bytes()
        # The storage volume goes away under the worker (a real-world NFS blip): every attempt fails.
        hidden = stored.with_suffix(".away")
        stored.rename(hidden)
        for _ in range(3):
            time.sleep(0.3)  # past the backoff
            context.runner.drain()
        body = client.get(f"/api/v1/suggestions/{receipt['id']}", headers=reader_headers(client)).json()
        assert body["status"] == "failed"
        assert "recording is kept" in body["review_reason"]
        with context.factory() as session:
            job = session.scalars(select(Job)).one()
            assert (job.state, job.attempts) == ("failed", 3)
            assert job.last_error
        hidden.rename(stored)
        assert stored.read_bytes() == original
        assert [e["kind"] for e in body["history"]] == ["received", "failed"]


@pytest.mark.parametrize("repeat", [2])
def test_the_same_recording_twice_is_stored_once_but_gives_two_suggestions(
    client: TestClient, data_dir: Path, repeat: int
) -> None:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    ids = []
    for _ in range(repeat):
        with (data_dir / "voice_other.ogg").open("rb") as fh:
            ids.append(client.post("/api/v1/suggestions", files={"audio": ("o.ogg", fh)}).json()["id"])
    bodies = [wait_until_processed(client, i) for i in ids]
    assert len({b["tracking_code"] for b in bodies}) == repeat
    assert len(list(context.store.root.rglob("*.ogg"))) == 1

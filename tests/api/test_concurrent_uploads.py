"""200 villagers submit at the same moment to a real server on loopback: all stored, all
processed, none duplicated."""

from __future__ import annotations

import asyncio
import io
import time
import wave
from collections import Counter
from pathlib import Path

import httpx

from tests.api.conftest import create_staff_headers
from tests.databases import count, fetch
from tests.server import start_server

TEXTS = (
    "村口公交站没有遮雨棚，下雨天等车全身湿透",
    "河里漂着很多垃圾，夏天味道很难闻",
    "我们村这个月已经停电三次了",
    "老街的房子墙体开裂，担心会倒塌",
    "希望在村委会旁边建一个老年活动室",
)


def _silence(seconds: float) -> bytes:
    """A WAV of digital silence; each length gives a different file (and sha256)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\0\0" * int(16_000 * seconds))
    return buffer.getvalue()


def _submissions(data_dir: Path) -> list[dict[str, object]]:
    """148 texts, 48 different silent clips, one clip sent twice, two real voice notes: 200."""
    subs: list[dict[str, object]] = [
        {"data": {"text": f"{TEXTS[n % len(TEXTS)]}（第{n}条）", "village": f"村{n % 7}"}} for n in range(148)
    ]
    subs += [{"files": {"audio": (f"s{n}.wav", _silence(1.0 + n * 0.02), "audio/wav")}} for n in range(48)]
    twice = _silence(0.9)
    subs += [{"files": {"audio": ("twice.wav", twice, "audio/wav")}} for _ in range(2)]
    for name in ("voice_transport.ogg", "voice_power.ogg"):
        subs.append({"files": {"audio": (name, (data_dir / name).read_bytes(), "audio/ogg")}})
    assert len(subs) == 200
    return subs


async def _send_all(url: str, subs: list[dict[str, object]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(subs), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        return await asyncio.gather(*(client.post("/api/v1/suggestions", **sub) for sub in subs))  # type: ignore[arg-type]


def test_200_concurrent_uploads_are_all_stored_processed_and_none_duplicated(
    tmp_path: Path, weights_cache: Path, data_dir: Path
) -> None:
    """The clips are short on purpose, to keep CI fast: silence is dropped by the VAD before
    Whisper runs (→ needs_review in milliseconds) and texts need only the classifier, while the
    two real voice notes and the one clip sent twice still go through transcription and the
    shared content-addressed audio row. What is under test is the intake under concurrency
    (200 requests in flight at once) and the queue draining every job exactly once."""
    server = start_server(tmp_path / "var", weights_cache)
    db = server.database_url
    try:
        responses = asyncio.run(_send_all(server.url, _submissions(data_dir)))
        assert [r.status_code for r in responses] == [202] * 200, Counter(r.status_code for r in responses)
        receipts = [r.json() for r in responses]
        assert len({r["id"] for r in receipts}) == 200
        assert len({r["tracking_code"] for r in receipts}) == 200

        deadline = time.monotonic() + 300
        while fetch(db, "SELECT count(*) FROM jobs WHERE state <> 'done'")[0][0] != 0:
            assert time.monotonic() < deadline, "the queue did not drain"
            time.sleep(0.5)
        reader = create_staff_headers(db, "reviewer")
        sample = httpx.get(
            f"{server.url}/api/v1/suggestions/{receipts[-1]['id']}", headers=reader, timeout=30
        ).json()
    finally:
        server.stop()
    assert sample["status"] == "routed" and sample["category"] == "power"
    assert count(db, "suggestions") == 200
    statuses = Counter(status for (status,) in fetch(db, "SELECT status FROM suggestions"))
    assert set(statuses) <= {"routed", "needs_review"}, statuses
    # Every job ran once; every suggestion has one job, one 'received' event, at most one transcript.
    assert fetch(db, "SELECT state, attempts, count(*) FROM jobs GROUP BY state, attempts") == [
        ("done", 1, 200)
    ]
    per_suggestion = fetch(
        db,
        "SELECT (SELECT count(*) FROM jobs j WHERE j.target_id = s.id),"
        " (SELECT count(*) FROM events e WHERE e.suggestion_id = s.id AND e.kind = 'received'),"
        " (SELECT count(*) FROM transcripts t WHERE t.suggestion_id = s.id), s.channel FROM suggestions s",
    )
    assert Counter(per_suggestion) == {(1, 1, 0, "text"): 148, (1, 1, 1, "voice"): 52}
    assert count(db, "audio") == 51  # 48 + the clip sent twice (stored once) + 2 voice notes
    silent = fetch(db, "SELECT count(*) FROM suggestions WHERE channel = 'voice' AND status = 'needs_review'")
    assert silent[0][0] >= 50

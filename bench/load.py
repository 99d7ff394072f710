"""Load benchmark: upload acceptance and reads while the workers are busy, and the drain rate.

Usage (from the repository root; nice it on a shared machine)::

    nice -n 10 .venv-test/bin/python bench/load.py [--url http://127.0.0.1:8000] [--workers 1]
        [--uploads 40] [--upload-rate 4] [--reads 3000] [--read-concurrency 16] [--drain-notes 10]
        [--max-seconds 600]

Without ``--url`` it starts ``minsheng serve`` itself on a free loopback port, with a fresh data
directory (SQLite unless ``--database-url`` is given) and ``--workers`` worker threads, and stops
it at the end. With ``--url`` it uses a running server (say how many worker processes/threads it
has with ``--workers``; the drain phase then needs that server's queue to be otherwise empty).

Phases, each printing one JSON line:

1. ``bare_transcriber`` — the same Whisper set-up as the server (engine, compute type, one thread),
   in this process, decoding and transcribing the voice notes from tests/data one after another
   with nothing else running: the speed a worker could reach.
2. ``upload`` — a backlog of voice notes is queued so the workers are busy, then ``--uploads``
   voice notes arrive at ``--upload-rate`` per second (open loop); latency is the time to the 202.
3. ``read`` — ``--reads`` GETs of suggestions and tracking codes, ``--read-concurrency`` at a time,
   still with the workers busy.
4. ``drain`` — with no more requests coming in, the time the workers take for the next
   ``--drain-notes`` queued notes (same clip mix as phase 1) gives notes per minute per worker,
   compared with phase 1. The server is stopped with the rest of its queue unprocessed.

Every phase is bounded in count and the whole run by ``--max-seconds``. Targets (issue 5): upload
p95 < 100 ms while workers are busy, reads >= 300 requests/s, drain >= 90 % of the bare speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

NOTES = sorted((REPO / "tests" / "data").glob("voice_*.ogg"))
FINAL = {"routed", "needs_review", "failed"}


def emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout."""
    print(json.dumps({"bench": "load", **record}, ensure_ascii=False), flush=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds."""
    if len(samples) < 2:
        return {"p50_ms": round(samples[0] * 1000, 1) if samples else 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
    }


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    data_dir: Path, weights: Path, workers: int, database_url: str | None
) -> tuple[subprocess.Popen[bytes], str]:
    """``minsheng serve`` on a free port; returns once /healthz answers."""
    port = free_port()
    env = {
        **os.environ,
        "MINSHENG_DATA_DIR": str(data_dir),
        "MINSHENG_WEIGHTS_CACHE": str(weights),
        "MINSHENG_WORKER_THREADS": str(workers),
        "MINSHENG_ASR_THREADS": "1",
    }
    if database_url:
        env["MINSHENG_DATABASE_URL"] = database_url
    log = (data_dir / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited; see {data_dir / 'server.log'}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


def bare_transcriber(weights: Path, notes: list[Path], language: str | None) -> dict[str, Any]:
    """Decode and transcribe ``notes`` one after another with the server's Whisper set-up."""
    from api.settings import Settings
    from intake.audio import AudioLimits, load_audio
    from intake.engines import build_transcriber

    settings = Settings()
    transcriber = build_transcriber(
        settings.asr_engine, weights, compute_type=settings.asr_compute_type, threads=1
    )
    transcriber.transcribe(load_audio(notes[0], AudioLimits()).samples, language)  # warm-up
    started = time.perf_counter()
    for note in notes:
        transcriber.transcribe(load_audio(note, AudioLimits()).samples, language)
    seconds = time.perf_counter() - started
    return {
        "notes": len(notes),
        "seconds": round(seconds, 2),
        "notes_per_min": round(len(notes) / seconds * 60, 2),
    }


async def timed(
    n: int, concurrency: int, call: Callable[[int], Awaitable[httpx.Response]], deadline: float
) -> tuple[list[float], int, float]:
    """Run ``call(i)`` for i < n with ``concurrency`` in flight; (latencies, errors, wall seconds)."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(n))

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            if time.monotonic() > deadline:
                return
            t0 = time.perf_counter()
            try:
                response = await call(i)
                ok = response.status_code < 400
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - t0)
            errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


async def upload(client: httpx.AsyncClient, note: Path, language: str) -> httpx.Response:
    """POST one voice note."""
    return await client.post(
        "/api/v1/suggestions",
        files={"audio": (note.name, note.read_bytes(), "audio/ogg")},
        data={"language": language},
    )


async def open_jobs(client: httpx.AsyncClient, ids: list[int]) -> int:
    """How many of ``ids`` are not yet processed."""
    bodies = await asyncio.gather(*(client.get(f"/api/v1/suggestions/{i}") for i in ids))
    return sum(1 for b in bodies if b.json().get("status") not in FINAL)


async def run(args: argparse.Namespace, url: str, bare: dict[str, Any]) -> None:
    """Phases 2–4 against the server at ``url``."""
    deadline = time.monotonic() + args.max_seconds
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        # Wait until the server's Whisper is loaded, so the drain measures transcription only.
        while time.monotonic() < deadline:
            ready = (await client.get("/readyz")).json()
            if ready.get("checks", {}).get("asr_model") == "loaded":
                break
            await asyncio.sleep(0.5)

        backlog = [
            (await upload(client, NOTES[i % len(NOTES)], args.language)).json()["id"]
            for i in range(args.backlog)
        ]
        await asyncio.sleep(1.0)  # the workers have picked up the first notes

        # Open loop: villagers arrive at a steady rate whatever the server's speed, so the
        # latency is what one villager waits, not a queue the benchmark itself builds up.
        lat: list[float] = []
        errors = 0
        uploaded: list[int] = []

        async def one(i: int) -> None:
            nonlocal errors
            t0 = time.perf_counter()
            try:
                response = await upload(client, NOTES[i % len(NOTES)], args.language)
            except httpx.HTTPError:
                errors += 1
                return
            lat.append(time.perf_counter() - t0)
            if response.status_code == 202:
                uploaded.append(response.json()["id"])
            else:
                errors += 1

        started = time.perf_counter()
        tasks = []
        for i in range(args.uploads):
            if time.monotonic() > deadline:
                break
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(max(0.0, started + (i + 1) / args.upload_rate - time.perf_counter()))
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
        uploaded_busy = await open_jobs(client, backlog)
        emit(
            {
                "phase": "upload",
                "n": len(lat),
                "errors": errors,
                "arrival_rate_per_s": args.upload_rate,
                "throughput_rps": round(len(lat) / wall, 1),
                **percentiles(lat),
                "backlog_unprocessed_after": uploaded_busy,
                "workers_busy": uploaded_busy > 0,
                "target_p95_ms": 100,
            }
        )

        ids = backlog
        codes = [(await client.get(f"/api/v1/suggestions/{i}")).json()["tracking_code"] for i in ids[:20]]

        def read(i: int) -> Awaitable[httpx.Response]:
            if i % 2:
                return client.get(f"/api/v1/track/{codes[i % len(codes)]}")
            return client.get(f"/api/v1/suggestions/{ids[i % len(ids)]}")

        lat, errors, wall = await timed(args.reads, args.read_concurrency, read, deadline)
        read_busy = await open_jobs(client, backlog)
        emit(
            {
                "phase": "read",
                "n": len(lat),
                "errors": errors,
                "concurrency": args.read_concurrency,
                "throughput_rps": round(len(lat) / wall, 1),
                **percentiles(lat),
                "backlog_unprocessed_after": read_busy,
                "workers_busy": read_busy > 0,
                "target_rps": 300,
            }
        )

        # Drain: with nothing else running, time drain_notes consecutive completions of the
        # queued notes (the queue is first in, first out, so one GET per poll suffices).
        everything = sorted(backlog + uploaded)
        pending = [
            i
            for i in everything
            if (await client.get(f"/api/v1/suggestions/{i}")).json()["status"] not in FINAL
        ]
        if len(pending) < args.drain_notes + 1:
            raise SystemExit(
                "too few notes left in the queue to time the drain; raise --backlog or --uploads"
            )

        async def finished(suggestion_id: int) -> float:
            while time.monotonic() < deadline:
                if (await client.get(f"/api/v1/suggestions/{suggestion_id}")).json()["status"] in FINAL:
                    return time.perf_counter()
                await asyncio.sleep(0.1)
            raise SystemExit("ran out of time while timing the drain")

        first = await finished(pending[0])
        last = await finished(pending[args.drain_notes])
        seconds = last - first
        per_worker = args.drain_notes / seconds * 60 / args.workers
        emit(
            {
                "phase": "drain",
                "notes": args.drain_notes,
                "workers": args.workers,
                "seconds": round(seconds, 2),
                "notes_per_min_per_worker": round(per_worker, 2),
                "bare_notes_per_min": bare["notes_per_min"],
                "ratio_to_bare": round(per_worker / bare["notes_per_min"], 3),
                "target_ratio": 0.9,
            }
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; JSON lines on stdout."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--database-url", help="database of the server this bench starts (default SQLite)")
    parser.add_argument("--weights-cache", type=Path, help="unpacked Whisper weights (default: var/weights)")
    parser.add_argument("--workers", type=int, default=1, help="worker threads/processes of the server")
    parser.add_argument("--language", default="auto", choices=["auto", "zh", "en"])
    parser.add_argument("--backlog", type=int, default=20, help="notes queued to keep the workers busy")
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--upload-rate", type=float, default=4.0, help="upload arrivals per second")
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--read-concurrency", type=int, default=16)
    parser.add_argument("--drain-notes", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args(argv)

    weights = args.weights_cache or REPO / "var" / "weights"
    work = Path(tempfile.mkdtemp(prefix="minsheng-load-"))
    language = None if args.language == "auto" else args.language
    drain_set = [NOTES[i % len(NOTES)] for i in range(args.drain_notes)]
    bare = bare_transcriber(weights, drain_set, language)
    emit({"phase": "bare_transcriber", **bare})

    proc = None
    url = args.url
    if url is None:
        proc, url = start_server(work, weights, args.workers, args.database_url)
    try:
        asyncio.run(run(args, url, bare))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

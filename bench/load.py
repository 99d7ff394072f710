"""Load benchmark: upload acceptance and reads while the workers are busy, and the drain rate.

Usage (from the repository root; nice it on a shared machine)::

    nice -n 10 .venv-test/bin/python bench/load.py [--url http://127.0.0.1:8000] [--workers 1]
        [--api-processes 2]
        [--backlog 40] [--uploads 40] [--upload-rate 4] [--reads 3000] [--read-concurrency 16]
        [--drain-notes 10] [--max-seconds 600] [--postgres SERVER_URL | --database-url URL]
        [--token TOKEN]

Without ``--url`` it starts ``minsheng serve`` itself on a free loopback port, with a fresh data
directory (SQLite unless ``--postgres`` names a server, where it makes a fresh database and drops
it at the end, or ``--database-url`` an existing empty database), ``--api-processes`` HTTP
processes (default 2: one per core; one of them runs the embedded worker) and ``--workers`` worker
threads, creates a
staff account and API token there with ``minsheng create-admin`` / ``create-token``, and stops the
server at the end. With ``--url`` it uses a running server (say how many worker processes/threads
it has with ``--workers``; the drain phase then needs that server's queue to be otherwise empty)
and a staff API token from ``--token`` or ``$MINSHENG_TOKEN``: reading a suggestion is staff-only.

Phases, each printing one JSON line:

1. ``bare_transcriber`` — the same Whisper set-up as the server (engine, compute type, one thread),
   in this process, decoding and transcribing the voice notes from tests/data one after another
   with nothing else running: the speed a worker could reach.
2. ``upload`` — a backlog of voice notes is queued so the workers are busy, then ``--uploads``
   voice notes arrive at ``--upload-rate`` per second (open loop); latency is the time to the 202.
3. ``read_idle`` (before phase 2, on 20 typed suggestions, nothing queued) and ``read`` (after
   phase 2, on the voice notes, still with the workers busy) — ``--reads`` GETs,
   ``--read-concurrency`` connections at a time: half are staff reads of a suggestion (API token),
   half villagers' anonymous tracking look-ups. The client is a minimal keep-alive HTTP/1.1 one
   (see RawHttp) so that it takes little of the CPU the server needs. ``read_idle`` also gives the
   CPU time the server's processes and PostgreSQL spent per read (when the bench started the
   server): a figure that, unlike throughput, hardly moves with the rest of the machine's load.
4. ``drain`` — with no more requests coming in, the time the workers take for the next
   ``--drain-notes`` queued notes (same clip mix as phase 1) gives notes per minute per worker,
   compared with phase 1. The server is stopped with the rest of its queue unprocessed.

Every phase is bounded in count and the whole run by ``--max-seconds``. Targets (issue 5): upload
p95 < 100 ms while workers are busy, reads >= 300 requests/s, drain >= 90 % of the bare speed.
Measured figures are in the README (section "Benchmarks").
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
from pathlib import Path
from typing import Any

import httpx
import uvloop

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

NOTES = sorted((REPO / "tests" / "data").glob("voice_*.ogg"))
FINAL = {"routed", "needs_review", "failed"}
TYPED = "Cars park all over Wuxing Road again and the school bus cannot pass"


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


def _process_tree(root: int) -> set[int]:
    """``root`` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def _postgres_pids() -> set[int]:
    """Every PostgreSQL server process on this machine (the bench's database server is local)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                pids.add(int(entry.name))
        except OSError:
            continue
    return pids


def cpu_seconds(pids: set[int]) -> float:
    """CPU time (user + system) of ``pids`` and of their children that have exited and been reaped
    (PostgreSQL's per-connection processes end up in the postmaster's count)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def server_env(
    data_dir: Path, weights: Path, workers: int, database_url: str | None, api_processes: int = 1
) -> dict[str, str]:
    """The environment of the server this bench starts (and of its CLI commands)."""
    env = {
        **os.environ,
        "MINSHENG_DATA_DIR": str(data_dir),
        "MINSHENG_API_PROCESSES": str(api_processes),
        "MINSHENG_WEIGHTS_CACHE": str(weights),
        "MINSHENG_WORKER_THREADS": str(workers),
        "MINSHENG_ASR_THREADS": "1",
        # Every simulated villager comes from 127.0.0.1: per-address limits would refuse the load.
        "MINSHENG_SUBMIT_RATE_LIMIT": "0",
        "MINSHENG_TRACK_RATE_LIMIT": "0",
    }
    if database_url:
        env["MINSHENG_DATABASE_URL"] = database_url
    return env


def staff_token(env: dict[str, str]) -> str:
    """Create a staff account and an API token for it with the product's CLI; return the token."""

    def cli(*args: str, stdin: str = "") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            env=env,
            cwd=REPO,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"minsheng {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    cli("create-admin", "--username", "bench", stdin="load-bench-password-1\n")
    out = cli("create-token", "--username", "bench", "--name", "load benchmark")
    tokens = [word for word in out.split() if word.startswith("msk_")]
    if not tokens:
        raise SystemExit(f"no token in create-token's output: {out!r}")
    return tokens[0]


def start_server(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """``minsheng serve`` on a free port; returns once /healthz answers."""
    port = free_port()
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


class RawHttp:
    """One keep-alive HTTP/1.1 connection that sends GETs and reads whole responses.

    The read phase measures the server, so its client must cost little: httpx spends about as much
    CPU per request as the server does, and on a 2-core machine the client would then take half of
    the CPU the server needs. This client pre-formats each request and parses only the status line
    and Content-Length (every minsheng JSON response carries one).
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        """GET ``path``; returns (status, body). Reconnects when the server closed the connection."""
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.extra}\r\n"
        self.writer.write(request.encode("latin-1"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        if "content-length" not in fields:
            raise RuntimeError(f"response to {path} without Content-Length: {fields}")
        body = await self.reader.readexactly(int(fields["content-length"]))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        """Close the connection (a later get() opens a new one)."""
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()
        self.reader = self.writer = None


async def timed_reads(
    url: str, paths: list[tuple[str, dict[str, str]]], concurrency: int, deadline: float
) -> tuple[list[float], int, float]:
    """GET each (path, headers) with ``concurrency`` connections; (latencies, errors, wall seconds)."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    queue = iter(paths)

    async def worker() -> None:
        nonlocal errors
        connections: dict[str, RawHttp] = {}
        try:
            for path, headers in queue:
                if time.monotonic() > deadline:
                    return
                key = repr(sorted(headers.items()))
                conn = connections.setdefault(key, RawHttp(host, int(port), headers))
                t0 = time.perf_counter()
                try:
                    status, _ = await conn.get(path)
                    ok = status < 400
                except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError):
                    await conn.close()
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok
        finally:
            for conn in connections.values():
                await conn.close()

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


async def open_jobs(staff_client: httpx.AsyncClient, ids: list[int]) -> int:
    """How many of ``ids`` are not yet processed."""
    bodies = await asyncio.gather(*(staff_client.get(f"/api/v1/suggestions/{i}") for i in ids))
    return sum(1 for b in bodies if b.json().get("status") not in FINAL)


async def read_phase(
    url: str,
    staff_client: httpx.AsyncClient,
    ids: list[int],
    args: argparse.Namespace,
    deadline: float,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """``--reads`` GETs over ``ids``: staff reads of the suggestions alternating with anonymous
    tracking look-ups of their codes, ``--read-concurrency`` connections at a time.

    With ``server_pid`` (a server this bench started, its workers idle) it also gives the CPU the
    server's processes and PostgreSQL spent per read: unlike throughput, that hardly depends on
    what else the shared machine is doing."""
    codes = [(await staff_client.get(f"/api/v1/suggestions/{i}")).json()["tracking_code"] for i in ids[:20]]
    auth = {"Authorization": staff_client.headers["authorization"]}
    reads = [
        (f"/api/v1/track/{codes[i % len(codes)]}", {})
        if i % 2
        else (f"/api/v1/suggestions/{ids[i % len(ids)]}", auth)
        for i in range(args.reads)
    ]
    server = _process_tree(server_pid) if server_pid else set()
    postgres = _postgres_pids() if server_pid else set()
    before = (cpu_seconds(server), cpu_seconds(postgres))
    lat, errors, wall = await timed_reads(url, reads, args.read_concurrency, deadline)
    after = (cpu_seconds(server), cpu_seconds(postgres))
    cpu: dict[str, Any] = {}
    if server_pid and lat:
        cpu = {
            "server_cpu_ms_per_read": round((after[0] - before[0]) / len(lat) * 1000, 3),
            "postgres_cpu_ms_per_read": round((after[1] - before[1]) / len(lat) * 1000, 3),
        }
    return {
        **cpu,
        "n": len(lat),
        "errors": errors,
        "concurrency": args.read_concurrency,
        "api_processes": args.api_processes,
        "throughput_rps": round(len(lat) / wall, 1),
        **percentiles(lat),
        "target_rps": 300,
    }


async def run(
    args: argparse.Namespace, url: str, token: str, bare: dict[str, Any], server_pid: int | None = None
) -> None:
    """Phases 2–4 against the server at ``url``; ``token`` is a staff API token; ``server_pid`` the
    server's process when this bench started it."""
    deadline = time.monotonic() + args.max_seconds
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    staff = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client,
        httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=staff) as staff_client,
    ):
        # Wait until the server's Whisper is loaded, so the drain measures transcription only. A new
        # connection each time: with several API processes only the one running the jobs knows.
        # (The checks of /readyz are shown to staff only.)
        while time.monotonic() < deadline:
            async with httpx.AsyncClient(base_url=url, timeout=60, headers=staff) as probe:
                ready = (await probe.get("/readyz")).json()
            if ready.get("checks", {}).get("asr_model") == "loaded":
                break
            await asyncio.sleep(0.2)

        # Reads with the workers idle: typed suggestions, processed before the voice backlog arrives.
        typed = [
            (await client.post("/api/v1/suggestions", data={"text": f"{TYPED} ({i})"})).json()["id"]
            for i in range(20)
        ]
        while await open_jobs(staff_client, typed) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        idle = await read_phase(url, staff_client, typed, args, deadline, server_pid)
        emit({"phase": "read_idle", **idle, "workers_busy": False})

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
        uploaded_busy = await open_jobs(staff_client, backlog)
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

        busy = await read_phase(url, staff_client, backlog, args, deadline)
        busy_after = await open_jobs(staff_client, backlog)
        emit(
            {"phase": "read", **busy, "backlog_unprocessed_after": busy_after, "workers_busy": busy_after > 0}
        )

        # Drain: with nothing else running, time drain_notes consecutive completions of the
        # queued notes (the queue is first in, first out, so one GET per poll suffices).
        everything = sorted(backlog + uploaded)
        pending = [
            i
            for i in everything
            if (await staff_client.get(f"/api/v1/suggestions/{i}")).json()["status"] not in FINAL
        ]
        if len(pending) < args.drain_notes + 1:
            raise SystemExit(
                "too few notes left in the queue to time the drain; raise --backlog or --uploads"
            )

        async def finished(suggestion_id: int) -> float:
            while time.monotonic() < deadline:
                if (await staff_client.get(f"/api/v1/suggestions/{suggestion_id}")).json()["status"] in FINAL:
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
    parser.add_argument("--token", default=os.environ.get("MINSHENG_TOKEN"), help="staff API token for --url")
    parser.add_argument(
        "--database-url", help="an existing, empty database for the server this bench starts (default SQLite)"
    )
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="a PostgreSQL server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres): the bench "
        "creates a fresh database there for its server and drops it at the end",
    )
    parser.add_argument("--weights-cache", type=Path, help="unpacked Whisper weights (default: var/weights)")
    parser.add_argument("--workers", type=int, default=1, help="worker threads/processes of the server")
    parser.add_argument(
        "--api-processes", type=int, default=2, help="HTTP processes of the server this bench starts"
    )
    parser.add_argument("--language", default="auto", choices=["auto", "zh", "en"])
    parser.add_argument("--backlog", type=int, default=40, help="notes queued to keep the workers busy")
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
    url, token = args.url, args.token
    database_url, scratch = args.database_url, None
    if args.postgres:
        scratch = ScratchDatabase(args.postgres)
        database_url = scratch.url
    try:
        if url is None:
            env = server_env(work, weights, args.workers, database_url, args.api_processes)
            token = staff_token(env)
            proc, url = start_server(work, env)
        elif not token:
            parser.error("--url needs a staff API token: --token or MINSHENG_TOKEN (minsheng create-token)")
        assert token is not None
        # uvloop (a dependency of the server already) costs the client less CPU than asyncio's own
        # loop, leaving more of the two cores to the server being measured.
        uvloop.run(run(args, url, token, bare, proc.pid if proc is not None else None))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(60)
        if scratch is not None:
            scratch.drop()
    return 0


class ScratchDatabase:
    """A fresh, empty database on a PostgreSQL server, for one run (dropped by ``drop``)."""

    def __init__(self, server_url: str) -> None:
        """Create ``minsheng_load_<random>`` on the server that ``server_url`` names."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.name = f"minsheng_load_{os.urandom(4).hex()}"
        self._server = create_engine(server_url, isolation_level="AUTOCOMMIT")
        self._text = text
        with self._server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(server_url).set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        """Drop the database (closing anything still connected to it)."""
        with self._server.connect() as conn:
            conn.execute(self._text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._server.dispose()


if __name__ == "__main__":
    raise SystemExit(main())

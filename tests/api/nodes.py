"""Real processes for the multi-node tests: a private redis-server and `minsheng worker` nodes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.server import free_port

REDIS_SERVER = Path("/usr/bin/redis-server")

# Short leases and sweeps so that recovery takes seconds in tests (the defaults are minutes).
FAST = {
    "MINSHENG_JOB_LEASE_SECONDS": "3",
    "MINSHENG_BROKER_VISIBILITY_TIMEOUT": "8",
    "MINSHENG_SWEEP_SECONDS": "0.5",
    "MINSHENG_JOB_RETRY_SECONDS": "0.2",
    "MINSHENG_BROKER_CONNECT_TIMEOUT": "1",
}


def require_redis_server() -> None:
    """Skip when redis-server is not installed on a user's machine; fail on CI (CI=true)."""
    if REDIS_SERVER.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {REDIS_SERVER} is missing (apt-get install redis-server)")
    pytest.skip(f"{REDIS_SERVER} is not installed")


def wait_for(check: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``check()`` until it is true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A private, non-persistent redis-server on its own port, to stop and start at will."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Broker URL for MINSHENG_BROKER_URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (again) on the same port, empty."""
        require_redis_server()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                *(str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, 10, "redis-server to answer")

    def ping(self) -> bool:
        """Whether the server answers."""
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """Stop it hard (SIGKILL): everything it held is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


class Worker:
    """A `minsheng worker` node: one parent process and its worker processes (one session)."""

    def __init__(
        self,
        data: Path,
        database_url: str,
        weights: Path,
        broker: str,
        log: Path,
        concurrency: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        env = {
            **os.environ,
            **FAST,
            **(env or {}),
            "MINSHENG_DATA_DIR": str(data),
            "MINSHENG_DATABASE_URL": database_url,
            "MINSHENG_WEIGHTS_CACHE": str(weights),
            "MINSHENG_BROKER_URL": broker,
        }
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker", "--concurrency", str(concurrency)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.concurrency = concurrency

    def wait_ready(self, timeout: float = 120) -> None:
        """Until every worker process has loaded its models."""

        def ready() -> bool:
            assert self.proc.poll() is None, f"worker exited:\n{self.log.read_text()[-3000:]}"
            return self.log.read_text().count("ready to run jobs") >= self.concurrency

        wait_for(ready, timeout, "the worker processes to load their models", interval=0.3)

    def kill_all(self) -> None:
        """SIGKILL the parent and every worker process at once, as when a machine dies."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill_all()


def long_note(data_dir: Path, out: Path, repeat: int = 2) -> Path:
    """All voice fixtures back to back (a note that keeps a worker busy for seconds)."""
    import wave

    from intake.audio import load_audio

    samples = np.concatenate([load_audio(p).samples for p in sorted(data_dir.glob("voice_*.ogg"))] * repeat)
    with wave.open(str(out), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(16_000)
        fh.writeframes((samples * 32767).astype("<i2").tobytes())
    return out

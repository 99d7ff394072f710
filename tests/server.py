"""Start the real server as a subprocess (``python -m api.cli serve``) for end-to-end tests.

``start_server(data_dir, weights_cache, ...)`` gives a ``Server`` on a fresh database of the
session's backend (tests.databases) unless ``database_url=`` is given: pass a previous server's
``database_url`` to restart on the same data. ``stop()`` shuts down cleanly, ``kill()`` is kill -9.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.databases import fresh_database_url


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A ``minsheng serve`` subprocess: its URL, database, data folder and log."""

    process: subprocess.Popen[bytes]
    url: str
    database_url: str
    data_dir: Path
    log: Path

    def kill(self) -> None:
        """``kill -9``: no clean-up of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 30) -> None:
        """A clean shutdown (SIGTERM), killing it if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(
    data_dir: Path,
    weights_cache: Path,
    *,
    database_url: str | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
    ready_timeout: float = 120,
) -> Server:
    """Start ``python -m api.cli serve`` on loopback and wait until /healthz answers.

    Rate limits are off, as for ``make_client`` (every test request comes from one address), unless
    ``env`` turns them on; ``env`` adds or overrides MINSHENG_* settings. Output goes to
    ``data_dir/server-<port>.log``, whose tail the assertion message carries if the server never
    comes up.
    """
    port = port or free_port()
    database_url = database_url or fresh_database_url()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"server-{port}.log"
    full_env = {
        **os.environ,
        "MINSHENG_DATA_DIR": str(data_dir),
        "MINSHENG_WEIGHTS_CACHE": str(weights_cache),
        "MINSHENG_DATABASE_URL": database_url,
        "MINSHENG_SUBMIT_RATE_LIMIT": "0",
        "MINSHENG_TRACK_RATE_LIMIT": "0",
        "MINSHENG_LOGIN_RATE_LIMIT": "0",
        "MINSHENG_LOGIN_ACCOUNT_RATE_LIMIT": "0",
        **(env or {}),
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", database_url, data_dir, log)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError(f"server did not start:\n{log.read_text()[-3000:]}")

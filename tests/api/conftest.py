"""Apps and servers on a fresh database of the selected backend, with the real worker, Whisper and
the seed classifier.

- ``make_client(data_dir, weights_cache, **settings)`` — a TestClient over an in-process app. It
  gets a fresh database from tests.databases unless ``database_url=`` is given.
- ``start_server(data_dir, weights_cache, ...)`` — a real ``minsheng serve`` subprocess (its own
  fresh database unless ``database_url=`` is given), for tests that kill or restart the process.
  ``Server.url`` is its base URL, ``Server.database_url`` its database; ``stop()``/``kill()``.
- ``client`` (module fixture) and ``wait_until_processed``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.databases import fresh_database_url

FINAL = {"routed", "needs_review", "failed"}


@pytest.fixture(scope="session")
def weights_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One unpacked copy of the Whisper weights for the whole test session."""
    return tmp_path_factory.mktemp("weights")


def make_client(
    data_dir: Path, weights_cache: Path, database_url: str | None = None, **overrides: Any
) -> TestClient:
    """A TestClient over an app whose files live in ``data_dir``, on a fresh database by default."""
    settings = Settings(
        data_dir=data_dir,
        weights_cache=weights_cache,
        database_url=database_url or fresh_database_url(),
        job_retry_seconds=0.05,
        **overrides,
    )
    return TestClient(create_app(settings))


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A ``minsheng serve`` subprocess."""

    process: subprocess.Popen[bytes]
    url: str
    database_url: str
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

    The server gets a fresh database of the session's backend unless ``database_url`` is given
    (pass the previous server's ``database_url`` to restart on the same data). ``env`` adds
    MINSHENG_* settings. Its output goes to ``data_dir/server-<port>.log``.
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
        **(env or {}),
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", database_url, log)
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


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    """A running app (worker on) shared by the tests of one module."""
    with make_client(tmp_path_factory.mktemp("var"), weights_cache) as c:
        yield c


def wait_until_processed(client: TestClient, suggestion_id: int, timeout: float = 90.0) -> dict[str, Any]:
    """Poll the suggestion until the worker has taken it as far as it goes."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/api/v1/suggestions/{suggestion_id}").json()
        if body["status"] in FINAL or time.monotonic() > deadline:
            return body
        time.sleep(0.2)

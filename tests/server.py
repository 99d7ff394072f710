"""Start the real server as a subprocess (``python -m api.cli serve``) for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A running ``minsheng serve`` process and where it keeps its data and its log."""

    url: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop it gracefully (SIGTERM), killing it if it does not exit within 30 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    data_dir: Path, weights: Path, *, env: dict[str, str] | None = None, timeout: float = 120.0
) -> LiveServer:
    """Start a server on a free port with its data in ``data_dir``; return once /healthz answers.

    Its output goes to ``data_dir/server.log``, which the assertion message names if it never starts.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {
        **os.environ,
        "MINSHENG_DATA_DIR": str(data_dir),
        "MINSHENG_WEIGHTS_CACHE": str(weights),
        **(env or {}),
    }
    log = data_dir / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", data_dir, log, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.stop()
    raise AssertionError(f"server did not start; see {log}:\n{log.read_text(errors='replace')[-2000:]}")

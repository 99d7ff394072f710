"""A real S3-compatible server for tests, and a TCP proxy that can cut uploads midway.

moto's standalone server (``moto[server]``, from PyPI) speaks the S3 REST API over HTTP like
MinIO does; MinIO itself is a Go binary that is not on any registry this project installs from,
so moto stands in for it. The code under test reaches it through boto3 with ``endpoint_url``,
exactly as it would reach MinIO or any other S3-compatible store.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any

import httpx

from tests.server import free_port

CREDENTIALS = {"access_key_id": "minsheng-test", "secret_access_key": "minsheng-test-secret"}


class S3Server:
    """moto's S3 server as a subprocess on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise AssertionError("the S3 server did not start") from None
                time.sleep(0.2)

    @property
    def url(self) -> str:
        """Its endpoint URL."""
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        """A boto3 client that talks to it directly (not through any proxy)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=CREDENTIALS["access_key_id"],
            aws_secret_access_key=CREDENTIALS["secret_access_key"],
        )

    def stop(self) -> None:
        """Stop the server."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class CuttingProxy:
    """Forwards TCP connections to a server; while ``cut_after`` is set, every connection is
    reset (RST) once the client has sent that many bytes: a network that drops mid-upload."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.cut_after: int | None = None
        self.cuts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """Endpoint URL to give the code under test."""
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            limit = self.cut_after
            threading.Thread(target=self._pump, args=(client, upstream, limit), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while data := src.recv(65536):
                if limit is not None and sent + len(data) > limit:
                    dst.sendall(data[: limit - sent])
                    self.cuts += 1
                    for sock in (src, dst):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        sock.close()
                    return
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop accepting connections."""
        self.listener.close()

"""One embedded worker per data directory when ``minsheng serve`` runs several API processes.

``minsheng serve --processes N`` starts N copies of the app so that reads use more than one core.
Each copy would otherwise start its own embedded worker and load its own Whisper model, and the
worker threads setting would be multiplied by N. Instead every process waits for an exclusive lock
on a file in the data directory, and only the holder runs the worker. When the holder dies (even
with ``kill -9``) the kernel releases the lock and a waiting process takes over within a poll
interval; jobs are leased and idempotent, so a job the dead process had claimed is simply claimed
again when its lease runs out.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

WORKER_LOCK_FILE = "embedded-worker.lock"


class WorkerLock:
    """Runs ``on_acquired`` once this process holds the data directory's worker lock.

    ``start()`` begins waiting on a background thread; ``cancel()`` stops waiting (after it returns
    ``on_acquired`` will not be called any more); ``release()`` lets another process take over. The
    lock file holds the holder's process id, for operators and tests.
    """

    def __init__(self, path: Path, on_acquired: Callable[[], None], poll_seconds: float = 1.0) -> None:
        self.path = path
        self.on_acquired = on_acquired
        self.poll_seconds = poll_seconds
        self._fd: int | None = None
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock (and so runs the worker)."""
        return self._held

    def start(self) -> None:
        """Begin waiting for the lock on a daemon thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        self._stop.clear()
        self._thread = threading.Thread(target=self._wait, name="minsheng-worker-lock", daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        assert self._fd is not None
        while not self._stop.is_set():
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._stop.wait(self.poll_seconds)
                continue
            self._held = True
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)
            log.info("process %d runs the embedded worker (lock %s)", os.getpid(), self.path)
            try:
                self.on_acquired()
            except Exception:  # let another process try rather than hold the lock with no worker
                log.exception("could not start the embedded worker; giving the lock up")
                self._held = False
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                self._stop.wait(self.poll_seconds)
                continue
            return

    def cancel(self) -> None:
        """Stop waiting; once this returns, ``on_acquired`` is not called any more."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def release(self) -> None:
        """Give the lock up (closing the file releases it) so another process can take over."""
        self.cancel()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._held = False


def worker_lock_path(data_dir: Path) -> Path:
    """Where the lock of ``data_dir``'s embedded worker lives."""
    return data_dir / WORKER_LOCK_FILE

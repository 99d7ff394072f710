"""The embedded job runner: worker threads that claim durable job rows from the database.

The database row is the source of truth. A job is claimed with a lease; when a worker dies the
lease runs out (or the next start releases it) and the job runs again. Handlers are idempotent.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from models import queries
from models.db import unit_of_work
from models.errors import DomainError

log = logging.getLogger(__name__)

Handler = Callable[[int], None]
GiveUp = Callable[[int, str], None]


@dataclass(frozen=True)
class RunnerOptions:
    """How the embedded worker behaves."""

    threads: int = 1
    lease: timedelta = timedelta(minutes=15)
    backoff: timedelta = timedelta(seconds=5)
    poll_seconds: float = 1.0


class JobRunner:
    """Claims and runs jobs on background threads until stopped."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        handlers: dict[str, tuple[Handler, GiveUp]],
        options: RunnerOptions | None = None,
    ) -> None:
        self.factory = factory
        self.handlers = handlers
        self.options = options or RunnerOptions()
        self.name = f"embedded-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Release jobs cut off by an earlier run, then start the worker threads."""
        with unit_of_work(self.factory) as session:
            released = queries.release_jobs_of(session)
        if released:
            log.warning("requeued %d job(s) left running by a previous process", released)
        for index in range(self.options.threads):
            thread = threading.Thread(target=self._loop, name=f"minsheng-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the threads to finish their current job and stop."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def wake(self) -> None:
        """A new job was queued: look now instead of at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the database may be briefly unreachable; keep the worker alive
                log.exception("job loop error")
                ran = False
            if not ran:
                self._wake.wait(self.options.poll_seconds)
                self._wake.clear()

    def run_once(self) -> bool:
        """Claim and run one job. Returns False when there was nothing to do."""
        worker = f"{self.name}-{threading.current_thread().name}"
        with unit_of_work(self.factory) as session:
            job = queries.claim_job(session, worker, self.options.lease)
            if job is None:
                return False
            job_id, kind, target, attempt = job.id, job.kind, job.suggestion_id, job.attempts
        handler, give_up = self.handlers[kind]
        try:
            handler(target if target is not None else 0)
        except Exception as exc:
            error = exc.detail if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
            log.warning(
                "job %d (%s) attempt %d failed: %s\n%s", job_id, kind, attempt, error, traceback.format_exc()
            )
            with unit_of_work(self.factory) as session:
                job = session.get(queries.Job, job_id)
                assert job is not None
                backoff = self.options.backoff * (2 ** (attempt - 1))
                gave_up = queries.retry_or_fail_job(session, job, error, backoff)
            if gave_up and target is not None:
                give_up(target, error)
            return True
        with unit_of_work(self.factory) as session:
            job = session.get(queries.Job, job_id)
            assert job is not None
            queries.finish_job(session, job)
        return True

    def drain(self, max_jobs: int = 1000) -> int:
        """Run due jobs on the calling thread until none is left (used by the CLI and tests)."""
        done = 0
        while done < max_jobs and self.run_once():
            done += 1
        return done

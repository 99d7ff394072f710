"""Running durable jobs: the embedded runner (threads in the server) and the shared executor.

The database row is the source of truth. A job is claimed with a short lease that a heartbeat
renews while the job runs; when a worker dies the heartbeat stops, the lease runs out and any
other worker (a thread here, or a Celery worker on another machine) claims the job again.
Handlers are idempotent, so running a job twice stores the same result once.

A job kind is registered once, in the handler table that ``api.context.build_context`` builds
(``kind -> (handler, give_up)``); the embedded runner and the Celery task both dispatch by
``Job.kind`` through that same table.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.errors import DomainError
from models.jobs import queue as job_queue
from models.jobs.queue import Handlers
from models.jobs.tables import Job

log = logging.getLogger(__name__)


class JobQueue(Protocol):
    """What happens once a job row is committed: wake a local thread, or publish to a broker."""

    def submitted(self, job_id: int) -> None:
        """The job row is committed; get it run. Must never raise: the row is already safe."""


@dataclass(frozen=True)
class RunnerOptions:
    """How the embedded worker behaves."""

    threads: int = 1
    lease: timedelta = timedelta(seconds=60)
    backoff: timedelta = timedelta(seconds=5)
    poll_seconds: float = 1.0


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds the lease on."""

    id: int
    kind: str
    target: int | None
    attempt: int
    max_attempts: int

    @classmethod
    def of(cls, job: Job) -> ClaimedJob:
        """Copy the fields a worker needs out of the row (usable after the session closes)."""
        return cls(job.id, job.kind, job.target_id, job.attempts, job.max_attempts)


def worker_name(prefix: str) -> str:
    """A name unique to this process and host, recorded in ``Job.locked_by``."""
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class JobExecutor:
    """Claims jobs and runs them: heartbeat, finish, retry with backoff, give up after the last try.

    Used by the embedded runner's threads and by the Celery task alike.
    """

    def __init__(
        self, factory: sessionmaker[Session], handlers: Handlers, lease: timedelta, backoff: timedelta
    ) -> None:
        self.factory = factory
        self.handlers = handlers
        self.lease = lease
        self.backoff = backoff

    def claim_next(self, worker: str) -> ClaimedJob | None:
        """Claim the oldest runnable job, if any."""
        with unit_of_work(self.factory) as session:
            job = job_queue.claim_job(session, worker, self.lease)
            return ClaimedJob.of(job) if job is not None else None

    def claim(self, job_id: int, worker: str) -> ClaimedJob | None:
        """Claim one named job; None when it is held by a live worker, finished, or backing off."""
        with unit_of_work(self.factory) as session:
            job = job_queue.claim_job_by_id(session, job_id, worker, self.lease)
            return ClaimedJob.of(job) if job is not None else None

    def run(self, job: ClaimedJob, worker: str) -> None:
        """Run a claimed job to its end state; handler errors are recorded, never raised."""
        if job.kind not in self.handlers:
            self._failed(job, f"No handler is registered for jobs of kind {job.kind!r}.")
            return
        handler, _ = self.handlers[job.kind]
        if job.attempt > job.max_attempts:
            # Claimed again after its lease ran out more times than it may be tried: a job that
            # kills its worker (out of memory, a crash in native code) must not loop forever.
            self._failed(job, f"The worker running this job stopped {job.attempt - 1} time(s).")
            return
        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(job.id, worker, stop), name=f"lease-{job.id}", daemon=True
        )
        beat.start()
        error: str | None = None
        try:
            handler(job.target if job.target is not None else 0)
        except Exception as exc:
            error = exc.detail if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
            log.warning(
                "job %d (%s) attempt %d failed: %s\n%s",
                job.id,
                job.kind,
                job.attempt,
                error,
                traceback.format_exc(),
            )
        finally:
            stop.set()
            beat.join()
        if error is not None:
            self._failed(job, error)
            return
        with unit_of_work(self.factory) as session:
            row = session.get(Job, job.id)
            assert row is not None
            job_queue.finish_job(session, row)

    def _failed(self, job: ClaimedJob, error: str) -> None:
        with unit_of_work(self.factory) as session:
            row = session.get(Job, job.id)
            assert row is not None
            gave_up = job_queue.retry_or_fail_job(
                session, row, error, self.backoff * (2 ** max(job.attempt - 1, 0))
            )
        if gave_up and job.kind in self.handlers:
            self.handlers[job.kind][1](job.target if job.target is not None else 0, error)

    def _heartbeat(self, job_id: int, worker: str, stop: threading.Event) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while not stop.wait(interval):
            try:
                with unit_of_work(self.factory) as session:
                    held = job_queue.renew_lease(session, job_id, worker, self.lease)
            except Exception:  # a database blip: try again at the next beat, the lease still runs
                log.exception("could not renew the lease of job %d", job_id)
                continue
            if not held:
                log.warning("job %d: lease lost to another worker; the job is idempotent", job_id)
                return


class JobRunner:
    """The embedded worker: claims and runs jobs on background threads until stopped."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        handlers: Handlers,
        options: RunnerOptions | None = None,
    ) -> None:
        self.factory = factory
        self.handlers = handlers
        self.options = options or RunnerOptions()
        self.executor = JobExecutor(factory, handlers, self.options.lease, self.options.backoff)
        self.name = worker_name("embedded")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the worker threads.

        Jobs left running by a process that died are not released here (other processes may
        be running them): their lease runs out and they are claimed again.
        """
        self._stop.clear()
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

    def submitted(self, job_id: int) -> None:
        """JobQueue: a job row was committed; a thread picks it up now."""
        self.wake()

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
        job = self.executor.claim_next(worker)
        if job is None:
            return False
        self.executor.run(job, worker)
        return True

    def drain(self, max_jobs: int = 1000) -> int:
        """Run due jobs on the calling thread until none is left (used by the CLI and tests)."""
        done = 0
        while done < max_jobs and self.run_once():
            done += 1
        return done

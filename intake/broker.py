"""Celery dispatch: publish committed job rows to a broker (Redis), and the sweeper.

A broker message carries only a job id. The row stays the source of truth: a worker claims the
row before running it, so a lost, duplicated or stale message can never lose or double a job.
The sweeper publishes every runnable job that no message carries: jobs queued while the broker
was down, failed jobs whose retry is due, and jobs whose worker vanished (lease expired).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.jobs import queue as job_queue

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)

RUN_JOB_TASK = "minsheng.run_job"


def make_celery(
    broker_url: str,
    *,
    queue: str,
    visibility_timeout: float,
    connect_timeout: float = 3.0,
    fail_fast: bool = False,
) -> Celery:
    """The Celery app every node shares (API nodes publish with it, ``minsheng worker`` consumes).

    acks_late + prefetch 1: a message is acknowledged only after its job ran, and a worker
    process holds at most one unstarted message, so a busy worker does not hoard work. The
    visibility timeout (when Redis hands an unacknowledged message out again) is longer than a
    job lease, so a redelivery finds the lease of a dead worker already expired.

    ``fail_fast`` (API nodes): publishing tries the broker twice, 0.1 s apart, then gives up and
    leaves the job to the sweeper, instead of kombu's default 2 s back-off inside an upload.
    """
    from celery import Celery

    app = Celery("minsheng", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=queue,
        task_publish_retry=False,  # the upload must not wait on a dead broker: the sweeper retries
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=connect_timeout,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "socket_connect_timeout": connect_timeout,
            "socket_timeout": max(connect_timeout, 10.0),
            **({"max_retries": 1, "interval_start": 0.1, "interval_step": 0.1} if fail_fast else {}),
        },
        worker_send_task_events=False,
        # Keep running jobs when Redis goes away: their rows, not the messages, say what is done.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
    )
    return app


class BrokerQueue:
    """JobQueue for Celery mode: publish a committed job's id; the sweeper catches what is missed."""

    def __init__(
        self, factory: sessionmaker[Session], app: Celery, queue: str, stale: timedelta, batch: int = 500
    ) -> None:
        self.factory = factory
        self.batch = batch
        self.app = app
        self.queue = queue
        self.stale = stale

    def submitted(self, job_id: int) -> None:
        """Publish now; if the broker or database is unreachable, log it and leave it to the sweeper."""
        try:
            self.publish(job_id)
        except Exception as exc:
            log.warning("job %d not published now (%s); the sweeper will publish it", job_id, exc)

    def publish(self, job_id: int) -> bool:
        """Publish one runnable job unless a live message already carries it. True if published.

        The row is marked first (a conditional UPDATE, so racing publishers send one message),
        then the message is sent; if sending fails the mark is removed again.
        """
        with unit_of_work(self.factory) as session:
            if not job_queue.mark_published(session, job_id, self.stale):
                return False
        try:
            self.app.send_task(RUN_JOB_TASK, args=[job_id], queue=self.queue)
        except BaseException:
            with unit_of_work(self.factory) as session:
                job_queue.unmark_published(session, job_id)
            raise
        return True

    def sweep(self) -> int:
        """Publish every runnable job that no live message carries. Returns how many were sent."""
        sent = 0
        while True:
            with unit_of_work(self.factory) as session:
                job_ids = job_queue.jobs_needing_a_message(session, self.stale, limit=self.batch)
            sent_now = 0
            for job_id in job_ids:
                if self.publish(job_id):  # a broker error ends this sweep; the next one tries again
                    sent_now += 1
            sent += sent_now
            if len(job_ids) < self.batch or sent_now == 0:
                break
        if sent:
            log.info("sweeper published %d job(s)", sent)
        return sent


class Sweeper:
    """Runs ``BrokerQueue.sweep`` every ``interval`` seconds on a daemon thread.

    Several sweepers (one per ``minsheng worker``) are safe together: ``publish`` marks each job
    with a conditional UPDATE, so only one of them sends its message.
    """

    def __init__(self, queue: BrokerQueue, interval: float) -> None:
        self.queue = queue
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start sweeping (first sweep at once)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="minsheng-sweeper", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current sweep."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.queue.sweep()
            except Exception as exc:  # broker or database down: keep sweeping, it comes back
                log.warning("sweep failed: %s: %s", type(exc).__name__, exc)
            self._stop.wait(self.interval)

"""``minsheng worker``: a Celery worker node that runs jobs published by the API nodes.

One parent process upgrades the schema, makes sure a classifier is active, then forks
``--concurrency`` worker processes. Each process builds its own context after the fork (its
own database connections) and loads Whisper and the active classifier once, before its first
task. The parent also runs the sweeper, which publishes every runnable job no message carries.

The task carries a job id only; it dispatches by ``Job.kind`` through the same handler table
the embedded runner uses (``AppContext.handlers``), so every registered job kind runs here too.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from api.context import AppContext, build_context
from api.settings import Settings
from intake.broker import RUN_JOB_TASK, BrokerQueue, Sweeper, make_celery
from intake.jobs import JobExecutor, worker_name
from intake.weights import ensure_base_model
from models.db import make_engine, make_session_factory
from models.errors import InvalidInput

log = logging.getLogger(__name__)


class _Process:
    """What one worker process holds: built after the fork, once."""

    settings: Settings | None = None
    context: AppContext | None = None
    executor: JobExecutor | None = None
    name: str = ""


def _init_process(settings: Settings) -> None:
    if _Process.context is not None:  # a half-built context from a failed start
        _Process.context.engine.dispose()
        _Process.context = None
    context = build_context(settings, migrate=False)
    _Process.context = context
    context.transcriber.get()  # Whisper, loaded once per process, before the first task
    context.classifiers.active()
    _Process.executor = JobExecutor(
        context.factory,
        context.handlers,
        lease=timedelta(seconds=settings.job_lease_seconds),
        backoff=timedelta(seconds=settings.job_retry_seconds),
    )
    _Process.name = worker_name("celery")
    log.info("worker process %d ready to run jobs (%s)", os.getpid(), _Process.name)


def _backoff(task: Any) -> int:
    return int(min(60, 2 ** min(task.request.retries, 6)))


def run_job(task: Any, job_id: int) -> str:
    """The Celery task body: claim the job row, run it, record the outcome. Returns what happened."""
    if _Process.executor is None:
        # The start-up load failed (weights missing, database down...): try again now, and if it
        # still fails keep the message for later instead of losing the job to a broken process.
        try:
            assert _Process.settings is not None, "build_worker_app() was not called"
            _init_process(_Process.settings)
        except Exception as exc:
            delay = _backoff(task)
            log.error(
                "worker process cannot run jobs (%s: %s); job %d retried in %ds",
                type(exc).__name__,
                exc,
                job_id,
                delay,
            )
            raise task.retry(exc=exc, countdown=delay) from exc
    executor = _Process.executor
    assert executor is not None
    try:
        job = executor.claim(job_id, _Process.name)
    except SQLAlchemyError as exc:
        # The database is unreachable: keep the message and try again (the row is still queued).
        delay = _backoff(task)
        log.warning("job %d: cannot claim (%s); retrying in %ds", job_id, type(exc).__name__, delay)
        raise task.retry(exc=exc, countdown=delay) from exc
    if job is None:
        # Held by a live worker, finished already, or backing off: the row decides, drop the message.
        log.info("job %d is not runnable now; message dropped", job_id)
        return "skipped"
    executor.run(job, _Process.name)
    return "ran"


def build_worker_app(settings: Settings) -> Any:
    """The Celery app of a worker node, with the task and the per-process start-up registered."""
    from celery.signals import worker_process_init, worker_process_shutdown, worker_ready, worker_shutdown

    if settings.broker_url is None:
        raise InvalidInput("Set MINSHENG_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run a worker.")
    app = make_celery(
        settings.broker_url,
        queue=settings.broker_queue,
        visibility_timeout=settings.broker_visibility_timeout,
        connect_timeout=settings.broker_connect_timeout,
    )
    # max_retries=None: a database outage is waited out (the retries back off to once a minute).
    app.task(name=RUN_JOB_TASK, bind=True, acks_late=True, ignore_result=True, max_retries=None)(run_job)

    _Process.settings = settings

    def _process_init(**_: Any) -> None:
        try:
            _init_process(settings)
        except Exception:  # logged; the first task tries again and keeps its message meanwhile
            log.exception("worker process %d could not load its models", os.getpid())

    def _process_shutdown(**_: Any) -> None:
        if _Process.context is not None:
            _Process.context.engine.dispose()

    sweeper: list[Sweeper] = []

    def _ready(**_: Any) -> None:
        # In the parent, after the pool has forked: the sweeper's engine is never shared by a fork.
        engine = make_engine(settings.resolved_database_url)
        queue = BrokerQueue(
            make_session_factory(engine),
            app,
            settings.broker_queue,
            timedelta(seconds=settings.republish_seconds),
        )
        sweeper.append(Sweeper(queue, settings.sweep_seconds))
        sweeper[0].start()

    def _shutdown(**_: Any) -> None:
        for each in sweeper:
            each.stop()

    worker_process_init.connect(_process_init, weak=False)
    worker_process_shutdown.connect(_process_shutdown, weak=False)
    worker_ready.connect(_ready, weak=False)
    worker_shutdown.connect(_shutdown, weak=False)
    return app


def run_worker(settings: Settings, *, concurrency: int, loglevel: str = "INFO") -> None:
    """Prepare the database, then run the Celery worker in this process until it is stopped."""
    app = build_worker_app(settings)
    context = build_context(settings)  # schema upgrade, seed data, an active classifier
    context.engine.dispose()
    ensure_base_model(settings.weights_dir)  # unpacked once here, not raced by the processes
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            f"--loglevel={loglevel}",
            f"--queues={settings.broker_queue}",
            f"--hostname=minsheng-{os.getpid()}@{socket.gethostname()}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )

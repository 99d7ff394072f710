"""Wires the layers together once per process: database, audio store, models, pipeline, worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from classify.registry import ClassifierRegistry
from classify.retraining import Learner, LearningPolicy
from classify.theme_jobs import ThemeBuilder, ThemeSettings
from classify.themes import ThemeOptions
from intake.audio import AudioLimits
from intake.duplicates import DuplicatePolicy
from intake.engines import build_transcriber
from intake.jobs import JobQueue, JobRunner, RunnerOptions
from intake.pipeline import LazyTranscriber, Pipeline, RoutingPolicy
from intake.storage import AudioStore, S3Options, open_store
from intake.submission import Desk
from intake.transcription_job import TranscriptionJob
from models.db import make_engine, make_session_factory, unit_of_work, upgrade
from models.directory import queries as directory
from models.jobs.queue import Handlers, announce_jobs


@dataclass
class AppContext:
    """Everything a request handler or CLI command needs."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    store: AudioStore
    limits: AudioLimits
    classifiers: ClassifierRegistry
    transcriber: LazyTranscriber
    pipeline: Pipeline
    runner: JobRunner
    desk: Desk
    # kind -> (handler, give_up): THE table of job kinds, run by the embedded runner and by Celery.
    handlers: Handlers
    # Where committed jobs go: the embedded runner (default) or the broker (MINSHENG_BROKER_URL).
    queue: JobQueue
    learner: Learner
    themes: ThemeBuilder


def _open_database(settings: Settings, *, migrate: bool) -> tuple[Engine, sessionmaker[Session]]:
    """The engine and session factory; with ``migrate``, the schema upgraded and defaults seeded."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(
        settings.resolved_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    if migrate:
        upgrade(engine)
    factory = make_session_factory(engine)
    if migrate:
        with unit_of_work(factory) as session:
            directory.seed_departments(session)
    return engine, factory


def _open_store(settings: Settings) -> AudioStore:
    """Where recordings are kept: a local directory or an S3-compatible bucket."""
    return open_store(
        settings.audio_store,
        settings.audio_dir,
        S3Options(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            timeout_seconds=settings.s3_timeout_seconds,
        ),
    )


def _job_queue(settings: Settings, factory: sessionmaker[Session], runner: JobRunner) -> JobQueue:
    """Where committed jobs go: the embedded runner, or the broker when one is set."""
    if settings.broker_url is None:
        return runner
    from intake.broker import BrokerQueue, make_celery

    celery = make_celery(
        settings.broker_url,
        queue=settings.broker_queue,
        visibility_timeout=settings.broker_visibility_timeout,
        connect_timeout=settings.broker_connect_timeout,
        fail_fast=True,
    )
    return BrokerQueue(factory, celery, settings.broker_queue, timedelta(seconds=settings.republish_seconds))


def build_context(settings: Settings, *, migrate: bool = True) -> AppContext:
    """Open the database (upgrading its schema), seed defaults and make sure a classifier is active.

    ``migrate=False`` skips the schema upgrade and seeding (Celery worker processes: the parent
    ``minsheng worker`` process did both before forking them).
    """
    engine, factory = _open_database(settings, migrate=migrate)
    store = _open_store(settings)
    limits = AudioLimits(
        max_bytes=settings.max_upload_bytes,
        max_seconds=settings.max_audio_seconds,
        min_seconds=settings.min_audio_seconds,
    )
    classifiers = ClassifierRegistry(factory, settings.classifier_dir)
    classifiers.ensure_active()
    transcriber = LazyTranscriber(
        lambda: build_transcriber(
            settings.asr_engine,
            settings.weights_dir,
            compute_type=settings.asr_compute_type,
            threads=settings.asr_threads,
        )
    )
    pipeline = Pipeline(
        factory,
        store,
        transcriber,
        classifiers,
        limits=limits,
        policy=RoutingPolicy(
            settings.min_transcript_confidence,
            settings.min_classifier_confidence,
            township_vocabulary=settings.asr_township_vocabulary,
        ),
        duplicates=DuplicatePolicy(settings.duplicate_window_days, settings.duplicate_min_similarity),
    )
    themes = ThemeBuilder(
        factory,
        ThemeSettings(
            window_days=settings.theme_window_days,
            options=ThemeOptions(distance_threshold=settings.theme_distance_threshold),
        ),
    )
    learner = Learner(
        factory,
        classifiers,
        LearningPolicy(
            retrain_after_reviews=settings.retrain_after_reviews,
            promotion_margin=settings.promotion_margin,
            reviewed_weight=settings.reviewed_weight,
            cv_max_examples=settings.retrain_cv_max_examples,
        ),
    )
    # Each module that owns a kind of job declares it; this is where they meet the runner.
    transcriptions = TranscriptionJob(
        factory,
        transcriber,
        limits,
        store.incoming,
        keep=timedelta(seconds=2 * settings.transcription_wait_seconds),
    )
    handlers: Handlers = {
        **pipeline.handlers(),
        **learner.handlers(),
        **themes.handlers(),
        **transcriptions.handlers(),
    }
    runner = JobRunner(
        factory,
        handlers,
        RunnerOptions(
            threads=settings.worker_threads,
            lease=timedelta(seconds=settings.job_lease_seconds),
            backoff=timedelta(seconds=settings.job_retry_seconds),
        ),
    )
    queue = _job_queue(settings, factory, runner)
    announce_jobs(factory, queue.submitted)
    learner.retrain_if_categories_changed()  # after announce_jobs: its job is announced on commit
    desk = Desk(factory, store, limits, max_attempts=settings.job_max_attempts)
    return AppContext(
        settings,
        engine,
        factory,
        store,
        limits,
        classifiers,
        transcriber,
        pipeline,
        runner,
        desk,
        handlers,
        queue,
        learner,
        themes,
    )

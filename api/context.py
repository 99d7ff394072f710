"""Wires the layers together once per process: database, audio store, models, pipeline, worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from classify.registry import ClassifierRegistry
from intake.audio import AudioLimits
from intake.engines import build_transcriber
from intake.jobs import JobRunner, RunnerOptions
from intake.learning import RECLASSIFY_JOB, RETRAIN_JOB, Learner, LearningPolicy
from intake.pipeline import LazyTranscriber, Pipeline, RoutingPolicy
from intake.storage import AudioStore
from intake.submission import PROCESS_JOB, Desk
from models import queries
from models.db import make_engine, make_session_factory, unit_of_work, upgrade


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
    learner: Learner


def _no_give_up(_target: int, _error: str) -> None:
    """Jobs without a suggestion record their own failure (a retraining run is marked failed)."""


def build_context(settings: Settings) -> AppContext:
    """Open the database (upgrading its schema), seed defaults and make sure a classifier is active."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        queries.seed_departments(session)
    store = AudioStore(settings.audio_dir)
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
        policy=RoutingPolicy(settings.min_transcript_confidence, settings.min_classifier_confidence),
    )
    learner = Learner(
        factory,
        classifiers,
        LearningPolicy(
            retrain_after_reviews=settings.retrain_after_reviews,
            promotion_margin=settings.promotion_margin,
            cv_max_examples=settings.retrain_cv_max_examples,
        ),
    )
    runner = JobRunner(
        factory,
        {
            PROCESS_JOB: (pipeline.process, pipeline.give_up),
            RETRAIN_JOB: (learner.retrain_job, _no_give_up),
            RECLASSIFY_JOB: (learner.reclassify_job, _no_give_up),
        },
        RunnerOptions(
            threads=settings.worker_threads,
            lease=timedelta(seconds=settings.job_lease_seconds),
            backoff=timedelta(seconds=settings.job_retry_seconds),
        ),
    )
    learner.on_queued = runner.wake
    desk = Desk(factory, store, limits, max_attempts=settings.job_max_attempts, on_queued=runner.wake)
    return AppContext(
        settings, engine, factory, store, limits, classifiers, transcriber, pipeline, runner, desk, learner
    )

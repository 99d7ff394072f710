"""Wires the layers together once per process: database, audio store, models, pipeline, worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from classify.registry import ClassifierRegistry
from classify.themes import ThemeOptions
from intake.audio import AudioLimits
from intake.duplicates import DuplicatePolicy
from intake.engines import build_transcriber
from intake.jobs import JobRunner, RunnerOptions
from intake.pipeline import LazyTranscriber, Pipeline, RoutingPolicy
from intake.storage import AudioStore
from intake.submission import PROCESS_JOB, Desk
from intake.theme_job import RECOMPUTE_THEMES_JOB, ThemeBuilder, ThemeSettings
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
    themes: ThemeBuilder


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
        duplicates=DuplicatePolicy(settings.duplicate_window_days, settings.duplicate_min_similarity),
    )
    themes = ThemeBuilder(
        factory,
        ThemeSettings(
            window_days=settings.theme_window_days,
            options=ThemeOptions(distance_threshold=settings.theme_distance_threshold),
        ),
    )
    runner = JobRunner(
        factory,
        {
            PROCESS_JOB: (pipeline.process, pipeline.give_up),
            RECOMPUTE_THEMES_JOB: (themes.recompute, themes.give_up),
        },
        RunnerOptions(
            threads=settings.worker_threads,
            lease=timedelta(seconds=settings.job_lease_seconds),
            backoff=timedelta(seconds=settings.job_retry_seconds),
        ),
    )
    desk = Desk(factory, store, limits, max_attempts=settings.job_max_attempts, on_queued=runner.wake)
    return AppContext(
        settings, engine, factory, store, limits, classifiers, transcriber, pipeline, runner, desk, themes
    )

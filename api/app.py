"""The FastAPI application factory."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, redaction
from api.context import AppContext, build_context
from api.logs import configure_logging
from api.ratelimit import RateLimits
from api.routes import (
    accounts,
    appointment_pages,
    appointments,
    consultation,
    consultation_pages,
    health,
    login,
    open311,
    openai_audio,
    papers,
    problem_lists,
    pwa,
    reports,
    review,
    review_pages,
    staff_pages,
    suggestions,
    theme_pages,
    themes,
    villager_pages,
    vocabulary,
    workflow,
)
from api.security_headers import SecurityHeaders
from api.settings import Settings
from api.web.templating import STATIC_DIR
from api.worker_lock import WorkerLock, worker_lock_path


def create_app(
    settings: Settings | None = None,
    context: AppContext | None = None,
    *,
    migrate: bool = True,
    shared_worker: bool = False,
) -> FastAPI:
    """Build the app. Start-up opens the database and starts the in-process worker if enabled.

    With a broker (MINSHENG_BROKER_URL) the server runs no jobs itself: it publishes them to
    the ``minsheng worker`` processes. ``migrate=False`` skips the schema upgrade (someone else
    did it); ``shared_worker=True`` runs the embedded worker only while this process holds the
    data directory's worker lock (api.worker_lock), for ``minsheng serve --processes N``.
    """
    settings = settings or Settings()
    redaction.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = context or build_context(settings, migrate=migrate)
        app.state.context = ctx
        loaders: list[threading.Thread] = []

        def start_worker() -> None:
            ctx.runner.start()
            # Load Whisper now, off the event loop, so the first note does not wait for it.
            loader = threading.Thread(target=ctx.transcriber.get, name="minsheng-asr-load", daemon=True)
            loader.start()
            loaders.append(loader)

        lock: WorkerLock | None = None
        if ctx.settings.embedded_worker:
            if shared_worker:
                lock = WorkerLock(worker_lock_path(ctx.settings.data_dir), start_worker)
                lock.start()
                app.state.worker_lock = lock
            else:
                start_worker()
        try:
            yield
        finally:
            if lock is not None:
                lock.cancel()
            ctx.runner.stop()
            for loader in loaders:
                # Native model code aborts the process if the interpreter exits mid-load.
                loader.join()
            if lock is not None:
                lock.release()
            if context is None:
                ctx.engine.dispose()

    app = FastAPI(
        title="minsheng 民声",
        description="Voice-first intake for villagers' suggestions: transcribe, classify, route.",
        version="0.1.0",
        lifespan=lifespan,
    )
    errors.install(app)
    limit = context.settings if context is not None else settings
    app.state.rate_limits = RateLimits(
        limit.submit_rate_limit,
        limit.track_rate_limit,
        limit.login_rate_limit,
        limit.rate_limit_window_seconds,
        open311=limit.open311_rate_limit,
        login_account=limit.login_account_rate_limit,
    )
    # Outside every other layer, so even the 500 page of an unexpected crash gets the headers.
    inner_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeaders(inner_stack())  # type: ignore[method-assign]
    app.include_router(suggestions.router)
    app.include_router(health.router)
    app.include_router(login.router)
    app.include_router(accounts.router)
    app.include_router(workflow.router)
    app.include_router(themes.router)
    app.include_router(reports.router)
    app.include_router(appointments.router)
    app.include_router(appointment_pages.router)
    app.include_router(open311.router)
    app.include_router(openai_audio.router)
    app.include_router(villager_pages.router)
    app.include_router(pwa.router)
    app.include_router(staff_pages.router)
    app.include_router(vocabulary.router)
    app.include_router(review.router)
    app.include_router(review_pages.router)
    app.include_router(theme_pages.router)
    app.include_router(papers.router)
    app.include_router(problem_lists.router)
    app.include_router(consultation.router)
    app.include_router(consultation_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    return app


def served_app() -> FastAPI:
    """The app in each process of ``minsheng serve --processes N`` (a uvicorn factory).

    Settings come from the environment. The parent process upgraded the schema, seeded the
    departments and made sure a classifier is active before starting the processes, so they
    skip that (N processes migrating at once would race); one of them at a time runs the
    embedded worker.
    """
    configure_logging()
    return create_app(Settings(), migrate=False, shared_worker=True)

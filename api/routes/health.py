"""Liveness and readiness probes for operators and load balancers.

Both are public, so they say ok or not ok and nothing else; the checks behind ``/readyz`` (where
the audio is kept, process ids, the classifier version) are shown to signed-in staff and API tokens.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.auth import identify
from api.deps import ContextDep
from api.worker_lock import WorkerLock
from intake.weights import weights_status
from models.db import unit_of_work
from models.reviews import classifiers

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def _is_staff(request: Request) -> bool:
    """Whether the caller is signed-in staff or an API token; no when that cannot be told (the
    database is down, say)."""
    try:
        return identify(request) is not None
    except Exception:
        return False


@router.get("/readyz")
def readyz(request: Request, context: ContextDep) -> JSONResponse:
    """Ready (200) when the database answers, the Whisper weights are in place and a classifier is
    active, else 503. Staff also get each check.

    With several API processes (``minsheng serve --processes N``) the answer comes from whichever
    process took the connection; only one of them runs the worker and loads Whisper.
    """
    checks: dict[str, str] = {}
    try:
        with unit_of_work(context.factory) as session:
            session.execute(text("SELECT 1"))
            active = classifiers.active_classifier(session)
        checks["database"] = "ok"
        checks["classifier"] = f"ok (version {active.id})" if active else "no active classifier"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        checks.setdefault("classifier", "unknown")
    checks["asr_weights"] = weights_status(context.settings.weights_dir)
    lock: WorkerLock | None = getattr(request.app.state, "worker_lock", None)
    if context.settings.broker_url:
        checks["jobs"] = "published to the broker; `minsheng worker` nodes run them"
    elif lock is None:
        checks["jobs"] = "run by this server"
    elif lock.held:
        checks["jobs"] = f"run by this process ({os.getpid()}) for all of this server's processes"
    else:
        checks["jobs"] = f"run by another process of this server (its id is in {lock.path})"
    if lock is not None and not lock.held:
        checks["asr_model"] = "loaded by the process that runs the jobs"
    else:
        checks["asr_model"] = "loaded" if context.transcriber.loaded else "not loaded yet"
    checks["audio_store"] = context.store.describe()
    ready = all(checks[k].startswith("ok") for k in ("database", "classifier", "asr_weights"))
    body: dict[str, object] = {"status": "ready" if ready else "not ready"}
    if _is_staff(request):
        body["checks"] = checks
    return JSONResponse(body, status_code=200 if ready else 503)

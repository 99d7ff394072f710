"""Liveness and readiness probes for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import ContextDep
from intake.weights import weights_status
from models import queries
from models.db import unit_of_work

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(context: ContextDep) -> JSONResponse:
    """Ready when the database answers, the Whisper weights are in place and a classifier is active."""
    checks: dict[str, str] = {}
    try:
        with unit_of_work(context.factory) as session:
            session.execute(text("SELECT 1"))
            active = queries.active_classifier(session)
        checks["database"] = "ok"
        checks["classifier"] = f"ok (version {active.id})" if active else "no active classifier"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        checks.setdefault("classifier", "unknown")
    checks["asr_weights"] = weights_status(context.settings.weights_dir)
    checks["asr_model"] = "loaded" if context.transcriber.loaded else "not loaded yet"
    checks["jobs"] = (
        "published to the broker; `minsheng worker` nodes run them"
        if context.settings.broker_url
        else "run by this server"
    )
    checks["audio_store"] = context.store.describe()
    ready = all(checks[k].startswith("ok") for k in ("database", "classifier", "asr_weights"))
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )

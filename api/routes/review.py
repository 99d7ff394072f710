"""Staff review: the queue (least confident first), decisions, the recording, the classifier's versions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response

from api import i18n
from api.accounts import ADMIN, Staff
from api.auth import require_roles
from api.deps import ContextDep, SessionDep
from api.ids import BodyId, PathId
from api.review_schemas import (
    AccuracyPointOut,
    RetrainOut,
    ReviewIn,
    ReviewItemOut,
    ReviewOut,
    ReviewQueueOut,
    ReviewRecordOut,
    RunOut,
    VersionOut,
)
from api.review_views import KNOWN_STATUSES, ReviewerDep, review_item, run_out, version_out
from api.security_headers import user_content_headers
from intake.media import extension_of, media_type_of
from models.errors import InvalidInput, NotFound
from models.reviews import queries as rq
from models.suggestions import queries
from models.taxonomy import LABELS

router = APIRouter(prefix="/api/v1", tags=["review"])

SuggestionId = PathId
VersionId = PathId
RunId = PathId
AdminDep = Annotated[Staff, Depends(require_roles(ADMIN))]
AnyStaffDep = Annotated[Staff, Depends(require_roles())]


@router.get("/review", response_model=ReviewQueueOut)
def review_queue(
    request: Request,
    session: SessionDep,
    staff: ReviewerDep,
    status: Annotated[
        list[str] | None, Query(description="Statuses to show (repeatable); default needs_review.")
    ] = None,
    category: Annotated[str | None, Query(description="Only this (current) category.")] = None,
    language: Annotated[str | None, Query(description="zh or en.")] = None,
    department: Annotated[str | None, Query(description="Department code.")] = None,
    since: Annotated[date | None, Query(description="Submitted on or after this day (UTC).")] = None,
    until: Annotated[date | None, Query(description="Submitted on or before this day (UTC).")] = None,
    include_reviewed: Annotated[bool, Query(description="Also items staff already decided on.")] = False,
    exclude: Annotated[list[BodyId] | None, Query(description="Suggestion ids to leave out.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ReviewQueueOut:
    """Suggestions to review, least confident first (spot-check routed ones with ``status=routed``)."""
    statuses = tuple(status) if status else rq.DEFAULT_QUEUE_STATUSES
    unknown = [s for s in statuses if s not in KNOWN_STATUSES]
    if unknown:
        raise InvalidInput(
            "Unknown status '%(unknown)s'; use one of %(known_statuses)s.",
            unknown=unknown[0],
            known_statuses=", ".join(KNOWN_STATUSES),
        )
    if category is not None and category not in LABELS:
        raise InvalidInput(
            "Unknown category '%(category)s'; use one of %(labels)s.",
            category=category,
            labels=", ".join(LABELS),
        )
    if since and until and since > until:
        raise InvalidInput("The start day is after the end day.")
    flt = rq.QueueFilter(
        statuses=statuses,
        category=category,
        language=language,
        department=department,
        since=since,
        until=until,
        include_reviewed=include_reviewed,
        exclude_ids=tuple(exclude or ()),
    )
    total, page = rq.review_queue(session, flt, limit=limit, offset=offset)
    lang = i18n.response_language(request)
    return ReviewQueueOut(total=total, items=[review_item(session, s, lang) for s in page])


@router.get("/review/{suggestion_id}", response_model=ReviewItemOut)
def review_one(
    suggestion_id: SuggestionId, request: Request, session: SessionDep, staff: ReviewerDep
) -> ReviewItemOut:
    """One suggestion as the review page shows it."""
    return review_item(
        session, queries.get_suggestion(session, suggestion_id), i18n.response_language(request)
    )


@router.post("/suggestions/{suggestion_id}/review", response_model=ReviewOut)
def decide(
    suggestion_id: SuggestionId, body: ReviewIn, staff: ReviewerDep, session: SessionDep, context: ContextDep
) -> ReviewOut:
    """Record a staff decision: confirm the category (send the same one) or correct it and/or the text.

    A corrected category re-routes a suggestion that has not been dispatched yet; every decision is
    stored as a Review next to the model's prediction and appended to the history.
    """
    outcome = context.learner.review(
        session,
        suggestion_id,
        reviewer=staff.username,
        category=body.category,
        transcript=body.transcript,
    )
    return ReviewOut(
        review_id=outcome.review_id,
        suggestion_id=suggestion_id,
        verdict=outcome.verdict,
        category=outcome.category,
        status=outcome.status,
        department=outcome.department,
        rerouted=outcome.rerouted,
        retrain_run_id=outcome.retrain_run_id,
    )


@router.get("/suggestions/{suggestion_id}/reviews", response_model=list[ReviewRecordOut])
def reviews(suggestion_id: SuggestionId, session: SessionDep, staff: AnyStaffDep) -> list[ReviewRecordOut]:
    """Every staff decision on a suggestion, oldest first."""
    queries.get_suggestion(session, suggestion_id)
    return [
        ReviewRecordOut(
            id=r.id,
            reviewer=r.reviewer,
            verdict=r.verdict,
            label=r.label,
            predicted_label=r.predicted_label,
            predicted_confidence=r.predicted_confidence,
            text_corrected=r.text_corrected,
            corrected_text=r.corrected_text,
            created_at=r.created_at,
        )
        for r in rq.reviews_of(session, suggestion_id)
    ]


@router.get(
    "/suggestions/{suggestion_id}/audio",
    response_class=FileResponse,
    responses={200: {"content": {"audio/*": {}}, "description": "The original recording."}},
)
def audio(
    suggestion_id: SuggestionId, session: SessionDep, context: ContextDep, staff: AnyStaffDep
) -> Response:
    """The original recording of a voice suggestion, byte for byte, as a download.

    Its type comes from the container the server recognised, never from the uploader.
    """
    suggestion = queries.get_suggestion(session, suggestion_id)
    if suggestion.audio is None:
        raise NotFound(
            "Suggestion %(suggestion_id)s was typed, not recorded: there is no audio.",
            suggestion_id=suggestion_id,
        )
    container = suggestion.audio.format
    media_type = media_type_of(container)
    headers = user_content_headers(f"suggestion-{suggestion_id}.{extension_of(container)}")
    missing = NotFound(
        "The recording of suggestion %(suggestion_id)s is missing from the audio store.",
        suggestion_id=suggestion_id,
    )
    path = context.store.local_path(suggestion.audio.path)
    if path is not None:
        if not path.is_file():
            raise missing
        return FileResponse(path, media_type=media_type, headers=headers)  # byte ranges: the player seeks
    try:
        return Response(
            context.store.read_bytes(suggestion.audio.path), media_type=media_type, headers=headers
        )
    except FileNotFoundError:
        raise missing from None


# --- classifier versions and retraining ------------------------------------------------------------


@router.get("/classifier/versions", response_model=list[VersionOut], tags=["classifier"])
def versions(session: SessionDep, staff: ReviewerDep) -> list[VersionOut]:
    """Every classifier version, newest first, with metrics on the fixed evaluation set."""
    accuracy = rq.accuracy_by_version(session)
    return [version_out(v, accuracy) for v in rq.classifier_versions(session)]


@router.post("/classifier/versions/{version_id}/activate", response_model=VersionOut, tags=["classifier"])
def activate(version_id: VersionId, staff: AdminDep, session: SessionDep, context: ContextDep) -> VersionOut:
    """Make a stored version the active one (roll back or forward); open items are re-classified later."""
    context.learner.activate(session, version_id, actor=staff.username)
    return version_out(rq.get_classifier_version(session, version_id), rq.accuracy_by_version(session))


@router.post("/classifier/retrain", status_code=202, response_model=RetrainOut, tags=["classifier"])
def retrain(staff: AdminDep, session: SessionDep, context: ContextDep) -> RetrainOut:
    """Queue a retraining run (a background job); an already queued or running run is returned instead."""
    run, created = context.learner.request_retrain(session, trigger="manual", requested_by=staff.username)
    return RetrainOut(run=run_out(run), created=created)


@router.get("/classifier/runs", response_model=list[RunOut], tags=["classifier"])
def runs(
    session: SessionDep, staff: ReviewerDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[RunOut]:
    """Retraining runs, newest first."""
    return [run_out(r) for r in rq.recent_runs(session, limit)]


@router.get("/classifier/runs/{run_id}", response_model=RunOut, tags=["classifier"])
def run(run_id: RunId, session: SessionDep, staff: ReviewerDep) -> RunOut:
    """One retraining run."""
    return run_out(rq.get_run(session, run_id))


@router.get("/classifier/accuracy", response_model=list[AccuracyPointOut], tags=["classifier"])
def live_accuracy(
    session: SessionDep, staff: ReviewerDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> list[AccuracyPointOut]:
    """Per day: how many auto-tagged items staff reviewed and how many kept the model's category."""
    return [
        AccuracyPointOut(day=p.day, reviewed=p.reviewed, correct=p.correct, accuracy=round(p.accuracy, 4))
        for p in rq.live_accuracy(session, days=days)
    ]

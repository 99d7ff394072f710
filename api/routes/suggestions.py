"""Submitting suggestions and reading them back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api import i18n, submission
from api.auth import StaffGate, staff_gate
from api.deps import ContextDep, in_unit_of_work
from api.ids import PathId
from api.ratelimit import limit_submissions, limit_tracking
from api.schemas import (
    ContactOut,
    DepartmentOut,
    EventOut,
    PredictionOut,
    ReceiptOut,
    SegmentOut,
    SuggestionOut,
    TrackOut,
)
from api.staff import actor_of
from api.tracking import tracking_view
from api.upload import read_form
from intake.submission import Submitter
from models.errors import InvalidInput
from models.suggestions import queries
from models.suggestions.contact import may_see_contact
from models.suggestions.idempotency import MAX_KEY_LENGTH
from models.suggestions.lifecycle import Actor
from models.suggestions.tables import Suggestion

router = APIRouter(prefix="/api/v1", tags=["suggestions"])

_FORM_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "audio": {"type": "string", "format": "binary", "description": "A voice note."},
                        "text": {
                            "type": "string",
                            "description": "A typed suggestion (instead of audio; not both).",
                        },
                        "language": {"type": "string", "enum": ["auto", "zh", "en"], "default": "auto"},
                        "name": {"type": "string"},
                        "phone": {"type": "string"},
                        "village": {"type": "string"},
                        "address": {"type": "string"},
                        "latitude": {"type": "number"},
                        "longitude": {"type": "number"},
                    },
                }
            }
        },
    }
}


def _number(form_value: Any, name: str) -> float | None:
    if form_value is None or str(form_value).strip() == "":
        return None
    try:
        return float(str(form_value))
    except ValueError as exc:
        raise InvalidInput(
            "The %(name)s must be a number, not '%(form_value)s'.", name=name, form_value=form_value
        ) from exc


def _text(form_value: Any) -> str | None:
    if form_value is None or isinstance(form_value, UploadFile):
        return None
    return str(form_value)


@router.post(
    "/suggestions",
    status_code=202,
    response_model=ReceiptOut,
    openapi_extra=_FORM_SCHEMA,
    dependencies=[Depends(limit_submissions)],
    tags=["villagers"],
)
async def submit(
    request: Request,
    response: Response,
    context: ContextDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Any unique string (a UUID) chosen by the client. Resending the same suggestion "
            "with the same key returns the first receipt and stores nothing new; the same key with a "
            "different suggestion is refused with 409.",
            max_length=MAX_KEY_LENGTH,
        ),
    ] = None,
) -> ReceiptOut:
    """Accept a voice note (``audio``) or a typed suggestion (``text``). Processing happens later.

    Public and anonymous, limited per client address (429 with Retry-After past the limit).
    """
    form = await read_form(request, context.settings.max_upload_bytes)
    try:
        submitter = Submitter(
            name=_text(form.get("name")),
            phone=_text(form.get("phone")),
            village=_text(form.get("village")),
            address=_text(form.get("address")),
            latitude=_number(form.get("latitude"), "latitude"),
            longitude=_number(form.get("longitude"), "longitude"),
        )
        audio = form.get("audio")
        receipt = await submission.submit(
            context,
            submission.Submission(
                submitter,
                text=_text(form.get("text")),
                audio=audio if isinstance(audio, UploadFile) else None,
                language=_text(form.get("language")),
                idempotency_key=idempotency_key,
            ),
        )
    finally:
        await form.close()
    if receipt.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return ReceiptOut(
        id=receipt.id,
        tracking_code=receipt.tracking_code,
        status=receipt.status,
        rating_key=receipt.rating_key,
    )


def _department(suggestion: Suggestion) -> DepartmentOut | None:
    dept = suggestion.department
    return DepartmentOut(code=dept.code, name_zh=dept.name_zh, name_en=dept.name_en) if dept else None


@router.get("/suggestions/{suggestion_id}", response_model=SuggestionOut)
async def read(
    suggestion_id: PathId,
    request: Request,
    context: ContextDep,
    gate: Annotated[StaffGate, Depends(staff_gate())],
) -> SuggestionOut:
    """Staff view of one suggestion (any staff role): transcript, category, department, history and
    the villager's contact details, if this account may see them (models.contact)."""

    lang = i18n.response_language(request)

    def admitted_view(session: Session) -> SuggestionOut:
        staff = gate.admit(session)
        return _staff_view(session, suggestion_id, actor_of(staff), lang)

    # One thread-pool hop and one transaction for the credential check and the read together.
    return await in_unit_of_work(context, admitted_view)


def _staff_view(session: Session, suggestion_id: int, viewer: Actor, lang: str) -> SuggestionOut:
    """What ``viewer`` sees of one suggestion (blocking: runs in a worker thread)."""
    record = queries.get_record(session, suggestion_id)
    suggestion, transcript, prediction = record.suggestion, record.transcript, record.prediction
    return SuggestionOut(
        id=suggestion.id,
        tracking_code=suggestion.tracking_code,
        channel=suggestion.channel,
        status=suggestion.status,
        submitted_at=suggestion.submitted_at,
        language=suggestion.language,
        transcript=suggestion.text,
        transcript_detail=None
        if transcript is None
        else {
            "text": transcript.text,
            "language": transcript.language,
            "language_probability": transcript.language_probability,
            "confidence": transcript.confidence,
            "engine": transcript.engine,
            "model": transcript.model,
            "seconds": transcript.seconds,
            "segments": [SegmentOut(**s) for s in transcript.segments],
        },
        category=suggestion.category,
        category_source=suggestion.category_source,
        confidence=suggestion.confidence,
        prediction=None
        if prediction is None
        else PredictionOut(
            label=prediction.label,
            confidence=prediction.confidence,
            probabilities=prediction.probabilities,
            classifier_version=prediction.classifier_version_id,
        ),
        department=_department(suggestion),
        review_reason=i18n.reason_text(suggestion.review_reason, lang),
        village=suggestion.village,
        contact=ContactOut(
            name=suggestion.submitter_name,
            phone=suggestion.submitter_phone,
            address=suggestion.address,
            latitude=suggestion.latitude,
            longitude=suggestion.longitude,
        )
        if may_see_contact(session, suggestion, viewer)
        else None,
        history=[
            EventOut(
                at=e.at,
                actor=e.actor,
                kind=e.kind,
                from_status=e.from_status,
                to_status=e.to_status,
                detail=e.detail,
            )
            for e in queries.history(session, suggestion_id)
        ],
    )


@router.get(
    "/track/{tracking_code}",
    response_model=TrackOut,
    tags=["villagers"],
    dependencies=[Depends(limit_tracking)],
)
async def track(tracking_code: str, context: ContextDep) -> TrackOut:
    """The villager's view by tracking code: status in plain words, department, result note.

    Public and anonymous, so it never shows personal data; limited per client address.
    """
    return await in_unit_of_work(context, lambda session: tracking_view(session, tracking_code))

"""Submitting suggestions and reading them back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import StaffGate, staff_gate
from api.deps import ContextDep, in_unit_of_work
from api.ids import PathId
from api.ratelimit import limit_submissions, limit_tracking
from api.redaction import hide_in_logs, stop_hiding
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
from api.upload import read_form
from intake.submission import Submitter
from models import queries, rating, theme_store
from models.contact import may_see_contact
from models.errors import InvalidInput
from models.idempotency import MAX_KEY_LENGTH
from models.lifecycle import Actor
from models.tables import Suggestion

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

STATUS_WORDS: dict[str, tuple[str, str]] = {
    "received": ("已收到，正在处理", "Received, being processed"),
    "transcribed": ("已收到，正在处理", "Received, being processed"),
    "classified": ("已收到，正在处理", "Received, being processed"),
    "needs_review": ("工作人员正在核对", "Being checked by staff"),
    "routed": ("已转交相关部门", "Passed to the responsible department"),
    "dispatched": ("已交办，等待签收", "Sent to the people who will handle it"),
    "accepted": ("已签收，即将办理", "Accepted by the people handling it"),
    "in_progress": ("正在办理", "Being worked on"),
    "resolved": ("已办结，请您评价", "Done; please tell us if you are satisfied"),
    "closed": ("已办结", "Done and closed"),
    "failed": ("工作人员正在人工处理", "Being handled by staff by hand"),
}

ROUTED_OR_LATER = ("routed", "dispatched", "accepted", "in_progress", "resolved", "closed")


def _number(form_value: Any, name: str) -> float | None:
    if form_value is None or str(form_value).strip() == "":
        return None
    try:
        return float(str(form_value))
    except ValueError as exc:
        raise InvalidInput(f"The {name} must be a number, not {form_value!r}.") from exc


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
    pii = hide_in_logs(_text(form.get("name")), _text(form.get("phone")))
    try:
        submitter = Submitter(
            name=_text(form.get("name")),
            phone=_text(form.get("phone")),
            village=_text(form.get("village")),
            address=_text(form.get("address")),
            latitude=_number(form.get("latitude"), "latitude"),
            longitude=_number(form.get("longitude"), "longitude"),
        )
        language = _text(form.get("language"))
        audio = form.get("audio")
        if isinstance(audio, UploadFile) and (_text(form.get("text")) or "").strip():
            raise InvalidInput(
                "Send either a recording ('audio') or a typed suggestion ('text'), not both: "
                "nothing was stored. Send the text as a second suggestion if it adds something."
            )
        if isinstance(audio, UploadFile):
            upload = audio
            staged = await run_in_threadpool(
                context.store.stage, upload.file, context.settings.max_upload_bytes
            )
            receipt = await run_in_threadpool(
                context.desk.submit_audio,
                staged,
                submitter,
                language=language,
                original_name=upload.filename,
                idempotency_key=idempotency_key,
            )
        elif _text(form.get("text")) is not None:
            receipt = await run_in_threadpool(
                context.desk.submit_text,
                _text(form.get("text")) or "",
                submitter,
                language,
                idempotency_key=idempotency_key,
            )
        else:
            raise InvalidInput(
                "Nothing to submit: attach a recording as 'audio' or write the suggestion in 'text'."
            )
    finally:
        stop_hiding(pii)
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
    suggestion_id: PathId, context: ContextDep, gate: Annotated[StaffGate, Depends(staff_gate())]
) -> SuggestionOut:
    """Staff view of one suggestion (any staff role): transcript, category, department, history and
    the villager's contact details, if this account may see them (models.contact)."""

    def admitted_view(session: Session) -> SuggestionOut:
        staff = gate.admit(session)
        return _staff_view(session, suggestion_id, actor_of(staff))

    # One thread-pool hop and one transaction for the credential check and the read together.
    return await in_unit_of_work(context, admitted_view)


def _staff_view(session: Session, suggestion_id: int, viewer: Actor) -> SuggestionOut:
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
        review_reason=suggestion.review_reason,
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


def tracking_view(session: Session, tracking_code: str) -> TrackOut:
    """What the villager sees for a tracking code (blocking: runs in a worker thread)."""
    suggestion, original_status = theme_store.tracked(session, tracking_code)
    zh, en = STATUS_WORDS.get(suggestion.status, (suggestion.status, suggestion.status))
    routed = suggestion.status in ROUTED_OR_LATER
    dept = suggestion.department if routed else None
    earlier = (
        STATUS_WORDS.get(original_status, (original_status, original_status)) if original_status else None
    )
    return TrackOut(
        tracking_code=suggestion.tracking_code,
        status=suggestion.status,
        status_zh=zh,
        status_en=en,
        category=suggestion.category if routed else None,
        department_zh=dept.name_zh if dept else None,
        department_en=dept.name_en if dept else None,
        result_note=suggestion.result_note if suggestion.status in ("resolved", "closed") else None,
        can_rate=suggestion.status in ("resolved", "closed")
        and suggestion.satisfaction is None
        and rating.villager_rates(suggestion),
        satisfaction=suggestion.satisfaction,
        already_reported=original_status is not None,
        already_reported_status_zh=earlier[0] if earlier else None,
        already_reported_status_en=earlier[1] if earlier else None,
        submitted_at=suggestion.submitted_at,
        updated_at=suggestion.updated_at,
    )

"""Published consultation topics: JSON API.

Publishing, correcting a stance, recording a meeting and setting the outcome need an admin or a
reviewer (the township office); reading needs any staff sign-in. Villagers send an opinion
anonymously (rate-limited, like a suggestion) to ``/api/v1/t/{short_code}/opinions``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from api.consultation_schemas import (
    ConsultationDetailOut,
    ConsultationOut,
    MeetingIn,
    MeetingOut,
    OpinionReceiptOut,
    OutcomeIn,
    PublishIn,
    StanceIn,
)
from api.consultation_views import detail, meeting_out, summary
from api.deps import ContextDep, SessionDep
from api.ids import PathId
from api.opinions import submit_opinion
from api.ratelimit import limit_submissions
from api.staff import ClerkDep, ClockDep, StaffDep
from api.upload import read_form
from models.consultation import flow, queries
from models.suggestions.idempotency import MAX_KEY_LENGTH

router = APIRouter(prefix="/api/v1", tags=["consultation"])


@router.post("/consultations", response_model=ConsultationOut, status_code=201)
def publish(body: PublishIn, session: SessionDep, actor: ClerkDep, clock: ClockDep) -> ConsultationOut:
    """Publish a topic at a short public link (from a promoted theme's topic, or directly)."""
    consultation = flow.publish(
        session, title=body.title, description=body.description, draft=body.draft,
        topic_id=body.topic_id, actor=actor.username, now=clock(),
    )  # fmt: skip
    return summary(session, consultation)


@router.get("/consultations", response_model=list[ConsultationOut])
def list_consultations(session: SessionDep, actor: StaffDep) -> list[ConsultationOut]:
    """Every published topic, newest first."""
    return [summary(session, c) for c in queries.listing(session)]


@router.get("/consultations/{consultation_id}", response_model=ConsultationDetailOut)
def read_consultation(consultation_id: PathId, session: SessionDep, actor: StaffDep) -> ConsultationDetailOut:
    """One topic: counts per stance and clause, its opinions (personal data scrubbed), meetings."""
    return detail(session, queries.get(session, consultation_id))


@router.put("/consultations/opinions/{suggestion_id}/stance", response_model=ConsultationDetailOut)
def correct_stance(
    suggestion_id: PathId, body: StanceIn, session: SessionDep, actor: ClerkDep, clock: ClockDep
) -> ConsultationDetailOut:
    """Correct the stance of one opinion (kept through later machine passes)."""
    opinion = flow.correct_stance(session, suggestion_id, body.stance, actor=actor.username, now=clock())
    return detail(session, queries.get(session, opinion.consultation_id))


@router.post("/consultations/{consultation_id}/meetings", response_model=MeetingOut, status_code=201)
def record_meeting(
    consultation_id: PathId, body: MeetingIn, session: SessionDep, actor: ClerkDep, clock: ClockDep
) -> MeetingOut:
    """Record the themed reception or consultation meeting held on the topic."""
    meeting = flow.record_meeting(
        session, consultation_id, **body.model_dump(), actor=actor.username, now=clock()
    )
    return meeting_out(meeting)


@router.post("/consultations/{consultation_id}/outcome", response_model=ConsultationOut)
def set_outcome(
    consultation_id: PathId, body: OutcomeIn, session: SessionDep, actor: ClerkDep, clock: ClockDep
) -> ConsultationOut:
    """Close the topic with its outcome; the villagers of its theme see it when they track."""
    consultation = flow.set_outcome(
        session, consultation_id, body.outcome, body.note, actor=actor.username, now=clock()
    )
    return summary(session, consultation)


@router.post(
    "/t/{short_code}/opinions",
    status_code=202,
    response_model=OpinionReceiptOut,
    dependencies=[Depends(limit_submissions)],
    tags=["villagers"],
)
async def send_opinion(
    short_code: str,
    request: Request,
    response: Response,
    context: ContextDep,
    idempotency_key: Annotated[str | None, Header(max_length=MAX_KEY_LENGTH)] = None,
) -> OpinionReceiptOut:
    """A villager's opinion (multipart ``audio`` or ``text``, optional ``clause``, ``village``,
    ``phone``, ``language``) on a published topic; transcribed and classified like any suggestion."""
    form = await read_form(request, context.settings.max_upload_bytes)
    try:
        sent = await submit_opinion(context, short_code, form, idempotency_key)
    finally:
        await form.close()
    if sent.receipt.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return OpinionReceiptOut(
        id=sent.receipt.id,
        tracking_code=sent.receipt.tracking_code,
        status=sent.receipt.status,
        rating_key=sent.receipt.rating_key,
        consultation=sent.short_code,
        clause=sent.clause,
    )

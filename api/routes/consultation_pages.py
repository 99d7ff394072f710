"""Pages of published consultation topics: the villager's page at the short link (read the topic
and its clauses, leave an opinion by text or recording), and the staff pages (publish, counts and
opinions, stance corrections, the meeting, the outcome, the printable poster with its QR code).

Every form answers with a redirect (post/redirect/get); errors show as pages in the page language.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.consultation_views import UNCLASSIFIED, WHOLE_TOPIC, detail, public_path, qr_svg
from api.deps import ContextDep, SessionDep
from api.ids import MAX_ID, PathId
from api.opinions import submit_opinion
from api.ratelimit import limit_submissions
from api.staff import ClerkDep, ClockDep, StaffDep
from api.submission import receipt_path, track_path
from api.upload import read_form
from api.web.done import redirect_done
from api.web.templating import render
from models.consultation import flow, queries
from models.consultation.words import MEETING_NAMES, OUTCOME_NAMES, STANCE_NAMES, Stance
from models.errors import InvalidInput
from models.themes import store as theme_store

router = APIRouter(include_in_schema=False)

OptionalText = Annotated[str | None, Form()]
WORDS = {
    "stance_names": STANCE_NAMES,
    "outcome_names": OUTCOME_NAMES,
    "meeting_names": MEETING_NAMES,
    "stances": list(Stance),
    "unclassified": UNCLASSIFIED,
    "whole_topic": WHOLE_TOPIC,
}


# --- the villager's page --------------------------------------------------------------------------


@router.get("/t/{short_code}", response_class=HTMLResponse)
def topic_page(short_code: str, request: Request, session: SessionDep) -> HTMLResponse:
    """The topic, its numbered clauses, and the opinion form (text or a recording)."""
    consultation = queries.by_code(session, short_code)
    response = render(
        request,
        "consultation_public.html",
        {
            "c": consultation,
            "clauses": queries.clauses(session, consultation.id),
            "form_key": secrets.token_urlsafe(16),
            **WORDS,
        },
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.post("/t/{short_code}/opinion", dependencies=[Depends(limit_submissions)])
async def opinion_form(short_code: str, request: Request, context: ContextDep) -> RedirectResponse:
    """Store the opinion and send the villager to the receipt, as for any suggestion."""
    form = await read_form(request, context.settings.max_upload_bytes)
    try:
        key = form.get("form_key")
        sent = await submit_opinion(context, short_code, form, key if isinstance(key, str) and key else None)
    finally:
        await form.close()
    receipt = sent.receipt
    if receipt.rating_key is None:
        return RedirectResponse(track_path(receipt.tracking_code), status_code=303)
    return RedirectResponse(receipt_path(receipt.tracking_code, receipt.rating_key), status_code=303)


# --- staff pages ----------------------------------------------------------------------------------


@router.get("/staff/consultations", response_class=HTMLResponse)
def consultations_page(request: Request, session: SessionDep, actor: StaffDep) -> HTMLResponse:
    """Published topics, and the form that publishes one (from a promoted topic or directly)."""
    published = queries.published_topic_ids(session)
    return render(
        request,
        "staff_consultations.html",
        {
            "consultations": queries.listing(session),
            "unpublished": [t for t in theme_store.topics(session) if t.id not in published],
            "may_edit": bool({"admin", "reviewer"} & set(actor.roles)),
            **WORDS,
        },
    )


@router.post("/staff/consultations")
def publish_form(
    session: SessionDep,
    actor: ClerkDep,
    clock: ClockDep,
    topic_id: OptionalText = None,
    title: OptionalText = None,
    description: OptionalText = None,
    draft: OptionalText = None,
) -> RedirectResponse:
    """Publish and show the new topic's staff page."""
    topic = (topic_id or "").strip()
    if topic and not (topic.isascii() and topic.isdigit() and int(topic) <= MAX_ID):
        raise InvalidInput("Choose a consultation topic from the list.")
    consultation = flow.publish(
        session, title=title, description=description, draft=draft,
        topic_id=int(topic) if topic else None, actor=actor.username, now=clock(),
    )  # fmt: skip
    return redirect_done(f"/staff/consultations/{consultation.id}", "published")


@router.get("/staff/consultations/{consultation_id}", response_class=HTMLResponse)
def consultation_page(
    consultation_id: PathId, request: Request, session: SessionDep, actor: StaffDep
) -> HTMLResponse:
    """Counts per stance and clause, the opinions (scrubbed), meetings, outcome, and the forms."""
    consultation = queries.get(session, consultation_id)
    return render(
        request,
        "staff_consultation.html",
        {
            "d": detail(session, consultation),
            "link": str(request.base_url).rstrip("/") + public_path(consultation),
            "may_edit": bool({"admin", "reviewer"} & set(actor.roles)),
            **WORDS,
        },
    )


@router.get("/staff/consultations/{consultation_id}/poster", response_class=HTMLResponse)
def poster_page(
    consultation_id: PathId, request: Request, session: SessionDep, actor: StaffDep
) -> HTMLResponse:
    """A printable poster: the topic, its short link and the link's QR code (inline SVG)."""
    consultation = queries.get(session, consultation_id)
    link = str(request.base_url).rstrip("/") + public_path(consultation)
    return render(request, "consultation_poster.html", {"c": consultation, "link": link, "qr": qr_svg(link)})


@router.post("/staff/consultations/opinions/{suggestion_id}/stance")
def stance_form(
    suggestion_id: PathId, session: SessionDep, actor: ClerkDep, clock: ClockDep, stance: OptionalText = None
) -> RedirectResponse:
    """Correct one opinion's stance."""
    opinion = flow.correct_stance(session, suggestion_id, stance or "", actor=actor.username, now=clock())
    return redirect_done(f"/staff/consultations/{opinion.consultation_id}#opinions", "stance")


def _date(raw: str | None) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError as exc:
        raise InvalidInput("Give the meeting's date as YYYY-MM-DD.") from exc


@router.post("/staff/consultations/{consultation_id}/meeting")
def meeting_form(
    consultation_id: PathId,
    session: SessionDep,
    actor: ClerkDep,
    clock: ClockDep,
    kind: OptionalText = None,
    held_on: OptionalText = None,
    place: OptionalText = None,
    deputies: OptionalText = None,
    departments: OptionalText = None,
    minutes: OptionalText = None,
    decisions: OptionalText = None,
) -> RedirectResponse:
    """Record the meeting held on the topic."""
    flow.record_meeting(
        session, consultation_id, kind=kind or "meeting", held_on=_date(held_on), place=place,
        deputies=deputies, departments=departments, minutes=minutes, decisions=decisions,
        actor=actor.username, now=clock(),
    )  # fmt: skip
    return redirect_done(f"/staff/consultations/{consultation_id}#meetings", "meeting")


@router.post("/staff/consultations/{consultation_id}/outcome")
def outcome_form(
    consultation_id: PathId,
    session: SessionDep,
    actor: ClerkDep,
    clock: ClockDep,
    outcome: OptionalText = None,
    note: OptionalText = None,
) -> RedirectResponse:
    """Close the topic with its outcome."""
    flow.set_outcome(session, consultation_id, outcome or "", note, actor=actor.username, now=clock())
    return redirect_done(f"/staff/consultations/{consultation_id}#outcome", "outcome")

"""The villager's pages: record or type a suggestion, get a receipt, track it by code, rate the result.

Every form answers with a redirect to a page (post/redirect/get): reloading or switching the language
of the page the villager lands on never sends a form again.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api import submission
from api.deps import ContextDep, SessionDep
from api.ratelimit import limit_submissions, limit_tracking
from api.staff import ClockDep
from api.submission import receipt_path, track_path
from api.tracking import tracking_view
from api.upload import read_form
from api.web.templating import render
from intake.submission import Submitter
from models.errors import InvalidInput, NotFound
from models.suggestions import queries, questionnaire, rating
from models.suggestions.idempotency import IdempotencyConflict
from models.vocabulary import BEING_PROCESSED, DONE

router = APIRouter(include_in_schema=False)

#: The hidden field of the recording page's forms: a fresh random key per page, sent as the
#: submission's idempotency key, so a form sent twice (a double tap, back and send) is stored once.
FORM_KEY = "form_key"


@router.get("/", response_class=HTMLResponse)
def record_page(request: Request) -> HTMLResponse:
    """The recording page: one big button, optional village/address/phone, a text box, a file upload.

    The offline copy the service worker keeps is this page; a staff member's copy is not kept.
    """
    response = render(request, "record.html", {"form_key": secrets.token_urlsafe(16)})
    response.headers["Cache-Control"] = "no-store" if response.context.get("staff") else "no-cache"  # type: ignore[attr-defined]
    return response


@router.get("/submit")
def submit_again(request: Request) -> RedirectResponse:
    """An old address of the form's answer (reloaded, bookmarked): the recording page, same language."""
    lang = request.query_params.get("lang")
    return RedirectResponse("/?lang=" + lang if lang in ("zh", "en") else "/", status_code=303)


def _value(form_value: object) -> str | None:
    if form_value is None or isinstance(form_value, UploadFile):
        return None
    return str(form_value)


@router.post("/submit", dependencies=[Depends(limit_submissions)])
async def submit_page(request: Request, context: ContextDep) -> RedirectResponse:
    """The form fallback (no JavaScript): store, then send the browser to the receipt page."""
    form = await read_form(request, context.settings.max_upload_bytes)
    try:
        submitter = Submitter(
            phone=_value(form.get("phone")),
            village=_value(form.get("village")),
            address=_value(form.get("address")),
        )
        audio = form.get("audio")
        recording = audio if isinstance(audio, UploadFile) and audio.filename else None
        text = None if recording else _value(form.get("text"))
        if recording is None and not text:
            raise InvalidInput("Nothing was sent: record a voice note or write your suggestion.")
        sent = submission.Submission(
            submitter, text=text, audio=recording, idempotency_key=_value(form.get(FORM_KEY)) or None
        )
        try:
            receipt = await submission.submit(context, sent)
        except IdempotencyConflict:
            # This page already sent another suggestion (the villager went back and wrote a new one):
            # a new suggestion, not a repeat, so it is stored without the page's key.
            if recording is not None:
                await recording.seek(0)
            receipt = await submission.submit(context, replace(sent, idempotency_key=None))
    finally:
        await form.close()
    if receipt.rating_key is None:  # a replay of a key stored before rating keys: no receipt link
        return RedirectResponse(track_path(receipt.tracking_code), status_code=303)
    return RedirectResponse(receipt_path(receipt.tracking_code, receipt.rating_key), status_code=303)


@router.get(
    "/receipt/{tracking_code}/{rating_key}",
    response_class=HTMLResponse,
    dependencies=[Depends(limit_tracking)],
)
def receipt_page(tracking_code: str, rating_key: str, request: Request, session: SessionDep) -> HTMLResponse:
    """The receipt: tracking code, copy button, the link that rates. Only with the receipt's key, so
    it shows nothing that the receipt's tracking link does not; reloading it stores nothing."""
    suggestion = queries.get_by_tracking_code(session, tracking_code)
    if not rating.villager_rates(suggestion) or rating.refusal(suggestion, rating_key) is not None:
        raise NotFound("No receipt at this address. Check the link, or look the code up under “Track”.")
    code = suggestion.tracking_code
    response = render(
        request, "receipt.html", {"code": code, "key": rating_key, "link": track_path(code, rating_key)}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/track", response_class=HTMLResponse)
def track_lookup(request: Request, code: str | None = None) -> Response:
    """Enter a tracking code (or jump to it when given as ?code=)."""
    if code and code.strip():
        return RedirectResponse(track_path(code.strip()), status_code=303)
    return render(request, "track_lookup.html")


def _track(request: Request, session: Session, tracking_code: str, rating_key: str | None) -> HTMLResponse:
    """The tracking page; the rating form and the "was it fixed?" question only for the holder of
    the receipt's key, else why not."""
    t = tracking_view(session, tracking_code)
    suggestion = queries.get_by_tracking_code(session, tracking_code)
    refusal = None
    if t.status in DONE and t.satisfaction is None:  # waiting for a rating: whose?
        refusal = rating.refusal(suggestion, rating_key)
    ask_fixed = (
        t.status in DONE
        and rating_key is not None
        and rating.refusal(suggestion, rating_key) is None
        and questionnaire.asks(session, suggestion)
    )
    return render(
        request,
        "track.html",
        {
            "t": t,
            "rating_key": rating_key,
            "refusal": refusal,
            "ask_fixed": ask_fixed,
            "processing": t.status in BEING_PROCESSED,
            "reopened": questionnaire.reopened_by_villager(session, suggestion),
        },
    )


@router.get("/track/{tracking_code}", response_class=HTMLResponse, dependencies=[Depends(limit_tracking)])
def track_page(tracking_code: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Status in plain words, what happens next, department and result note; how to rate once resolved."""
    return _track(request, session, tracking_code, None)


@router.get(
    "/track/{tracking_code}/{rating_key}", response_class=HTMLResponse, dependencies=[Depends(limit_tracking)]
)
def track_page_with_key(
    tracking_code: str, rating_key: str, request: Request, session: SessionDep
) -> HTMLResponse:
    """The receipt's link: the tracking page, with the rating form once resolved if the key fits."""
    return _track(request, session, tracking_code, rating_key)


def _back_to_tracking(tracking_code: str, key: str | None) -> RedirectResponse:
    """The tracking page again, through the receipt's link when the form carried its key."""
    return RedirectResponse(track_path(tracking_code, key or None), status_code=303)


@router.post("/track/{tracking_code}/rating", dependencies=[Depends(limit_tracking)])
def rate_page(
    tracking_code: str,
    session: SessionDep,
    clock: ClockDep,
    score: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str | None, Form(max_length=1000)] = None,
    key: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """Store the villager's rating (once, with the receipt's key) and show the tracking page again,
    which then asks "问题解决了吗？" after a poor rating."""
    s = rating.rate_as_villager(session, tracking_code, key, score=score, comment=comment, now=clock())
    return _back_to_tracking(s.tracking_code, key)


@router.post("/track/{tracking_code}/fixed", dependencies=[Depends(limit_tracking)])
def fixed_page(
    tracking_code: str,
    session: SessionDep,
    clock: ClockDep,
    fixed: Annotated[Literal["yes", "no"], Form()],
    key: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """The answer to "问题解决了吗？": "no" sends the suggestion back to the department that held it."""
    s = questionnaire.answer(session, tracking_code, key, fixed=fixed == "yes", now=clock())
    return _back_to_tracking(s.tracking_code, key)

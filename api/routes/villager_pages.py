"""The villager's pages: record or type a suggestion, track it by code, rate the result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api import submission
from api.deps import ContextDep, SessionDep
from api.ratelimit import limit_submissions, limit_tracking
from api.staff import ClockDep
from api.submission import track_path
from api.tracking import tracking_view
from api.upload import read_form
from api.web.templating import render
from intake.submission import Submitter
from models.errors import InvalidInput
from models.suggestions import queries, rating
from models.vocabulary import DONE

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def record_page(request: Request) -> HTMLResponse:
    """The recording page: one big button, optional village/address/phone, a text box fallback."""
    return render(request, "record.html")


def _value(form_value: object) -> str | None:
    if form_value is None or isinstance(form_value, UploadFile):
        return None
    return str(form_value)


@router.post("/submit", response_class=HTMLResponse, dependencies=[Depends(limit_submissions)])
async def submit_page(request: Request, context: ContextDep) -> HTMLResponse:
    """The form fallback (no JavaScript, or typed text): the same desk as the API."""
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
            raise InvalidInput(
                "Nothing was sent: record a voice note or write your suggestion. 请录音或填写建议。"
            )
        receipt = await submission.submit(
            context, submission.Submission(submitter, text=text, audio=recording)
        )
    finally:
        await form.close()
    return render(
        request,
        "receipt.html",
        {"code": receipt.tracking_code, "link": track_path(receipt.tracking_code, receipt.rating_key)},
        status_code=201,
    )


@router.get("/track", response_class=HTMLResponse)
def track_lookup(request: Request, code: str | None = None) -> Response:
    """Enter a tracking code (or jump to it when given as ?code=)."""
    if code and code.strip():
        return RedirectResponse(f"/track/{code.strip()}", status_code=303)
    return render(request, "track_lookup.html")


def _track(request: Request, session: Session, tracking_code: str, rating_key: str | None) -> HTMLResponse:
    """The tracking page; the rating form only for the holder of the receipt's key, else why not."""
    t = tracking_view(session, tracking_code)
    refusal = None
    if t.status in DONE and t.satisfaction is None:  # waiting for a rating: whose?
        refusal = rating.refusal(queries.get_by_tracking_code(session, tracking_code), rating_key)
    return render(request, "track.html", {"t": t, "rating_key": rating_key, "refusal": refusal})


@router.get("/track/{tracking_code}", response_class=HTMLResponse, dependencies=[Depends(limit_tracking)])
def track_page(tracking_code: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Status in plain words, department and result note; how to rate once it is resolved."""
    return _track(request, session, tracking_code, None)


@router.get(
    "/track/{tracking_code}/{rating_key}", response_class=HTMLResponse, dependencies=[Depends(limit_tracking)]
)
def track_page_with_key(
    tracking_code: str, rating_key: str, request: Request, session: SessionDep
) -> HTMLResponse:
    """The receipt's link: the tracking page, with the rating form once resolved if the key fits."""
    return _track(request, session, tracking_code, rating_key)


@router.post("/track/{tracking_code}/rating", dependencies=[Depends(limit_tracking)])
def rate_page(
    tracking_code: str,
    session: SessionDep,
    clock: ClockDep,
    score: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str | None, Form(max_length=1000)] = None,
    key: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """Store the villager's rating (once, with the receipt's key) and show the tracking page again."""
    s = rating.rate_as_villager(session, tracking_code, key, score=score, comment=comment, now=clock())
    return RedirectResponse(track_path(s.tracking_code), status_code=303)

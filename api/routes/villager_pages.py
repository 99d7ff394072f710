"""The villager's pages: record or type a suggestion, track it by code, rate the result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.deps import ContextDep, SessionDep
from api.ratelimit import limit_submissions, limit_tracking
from api.routes.suggestions import tracking_view
from api.staff import ClockDep
from api.upload import read_form
from api.web.templating import render
from intake.submission import Submitter
from models import lifecycle
from models.errors import InvalidInput

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
        if isinstance(audio, UploadFile) and audio.filename:
            staged = await run_in_threadpool(
                context.store.stage, audio.file, context.settings.max_upload_bytes
            )
            receipt = await run_in_threadpool(
                context.desk.submit_audio,
                staged,
                submitter,
                original_name=audio.filename,
            )
        elif _value(form.get("text")):
            receipt = await run_in_threadpool(
                context.desk.submit_text, _value(form.get("text")) or "", submitter
            )
        else:
            raise InvalidInput(
                "Nothing was sent: record a voice note or write your suggestion. 请录音或填写建议。"
            )
    finally:
        await form.close()
    return render(request, "receipt.html", {"code": receipt.tracking_code}, status_code=201)


@router.get("/track", response_class=HTMLResponse)
def track_lookup(request: Request, code: str | None = None) -> Response:
    """Enter a tracking code (or jump to it when given as ?code=)."""
    if code and code.strip():
        return RedirectResponse(f"/track/{code.strip()}", status_code=303)
    return render(request, "track_lookup.html")


@router.get("/track/{tracking_code}", response_class=HTMLResponse, dependencies=[Depends(limit_tracking)])
def track_page(tracking_code: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Status in plain words, department and result note; the rating form once it is resolved."""
    return render(request, "track.html", {"t": tracking_view(session, tracking_code)})


@router.post("/track/{tracking_code}/rating", dependencies=[Depends(limit_tracking)])
def rate_page(
    tracking_code: str,
    session: SessionDep,
    clock: ClockDep,
    score: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str | None, Form(max_length=1000)] = None,
) -> RedirectResponse:
    """Store the villager's rating (once) and show the tracking page again."""
    s = lifecycle.rate(session, tracking_code, score=score, comment=comment, now=clock())
    return RedirectResponse(f"/track/{s.tracking_code}", status_code=303)

"""One way in for a villager's suggestion, whichever door it came through (the JSON API, the web
form, Open311): the personal details are kept out of the logs, the recording is staged off the
event loop, and the intake desk stores it. Each route only reads its own form shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.context import AppContext
from api.redaction import hide_in_logs, stop_hiding
from intake.submission import Receipt, Submitter
from models.errors import InvalidInput
from models.vocabulary import Channel


@dataclass(frozen=True)
class Submission:
    """A suggestion as a route read it: a recording or a text, who sent it, and how."""

    submitter: Submitter
    text: str | None = None
    audio: UploadFile | None = None
    language: str | None = None
    idempotency_key: str | None = None
    #: None: ``voice`` for a recording, ``text`` for a typed note.
    channel: Channel | None = None
    attach: Callable[[Session, int], None] | None = None
    #: What ``attach`` links the suggestion to (intake.submission.Desk.submit_text).
    about: Mapping[str, str | int | None] | None = None


async def submit(context: AppContext, submission: Submission) -> Receipt:
    """Store the suggestion (recording or text, never both) and return the villager's receipt."""
    s = submission
    pii = hide_in_logs(s.submitter.name, s.submitter.phone, s.submitter.address)
    try:
        text = (s.text or "").strip()
        if s.audio is not None and text:
            raise InvalidInput(
                "Send either a recording ('audio') or a typed suggestion ('text'), not both: "
                "nothing was stored. Send the text as a second suggestion if it adds something."
            )
        if s.audio is not None:
            staged = await run_in_threadpool(
                context.store.stage, s.audio.file, context.settings.max_upload_bytes
            )
            return await run_in_threadpool(
                context.desk.submit_audio,
                staged,
                s.submitter,
                language=s.language,
                original_name=s.audio.filename,
                idempotency_key=s.idempotency_key,
                channel=s.channel or Channel.VOICE,
                attach=s.attach,
                about=s.about,
            )
        if s.text is None:
            raise InvalidInput(
                "Nothing to submit: attach a recording as 'audio' or write the suggestion in 'text'."
            )
        return await run_in_threadpool(
            context.desk.submit_text,
            s.text,
            s.submitter,
            s.language,
            idempotency_key=s.idempotency_key,
            channel=s.channel or Channel.TEXT,
            attach=s.attach,
            about=s.about,
        )
    finally:
        stop_hiding(pii)


def track_path(tracking_code: str, rating_key: str | None = None) -> str:
    """The villager's tracking page; with the receipt's rating key, the page that also takes the rating."""
    path = f"/track/{quote(tracking_code, safe='')}"
    return f"{path}/{quote(rating_key, safe='')}" if rating_key else path


def receipt_path(tracking_code: str, rating_key: str) -> str:
    """The villager's receipt page: the tracking code and the tracking link, behind the same key."""
    return f"/receipt/{quote(tracking_code, safe='')}/{quote(rating_key, safe='')}"

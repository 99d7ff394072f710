"""A villager's opinion on a published topic, through the same intake as any suggestion
(api.submission: personal data kept out of the logs, the recording inspected and stored, the
idempotency key honoured) with the consultation channel and its link to the topic and clause."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api import submission
from api.context import AppContext
from intake.submission import Receipt, Submitter
from models.consultation import flow, queries
from models.errors import InvalidInput
from models.suggestions.idempotency import MAX_KEY_LENGTH, IdempotencyConflict
from models.vocabulary import Channel


@dataclass(frozen=True)
class OpinionReceipt:
    """The suggestion's receipt and where the opinion went."""

    receipt: Receipt
    short_code: str
    clause: int | None


def _value(form_value: object) -> str | None:
    if form_value is None or isinstance(form_value, UploadFile):
        return None
    return str(form_value)


def clause_of(raw: str | None) -> int | None:
    """The clause number a form named (empty: the whole topic)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise InvalidInput("The clause must be a number such as 3, not '%(raw)s'.", raw=raw[:20])
    return int(raw)


async def submit_opinion(
    context: AppContext, short_code: str, form: FormData, idempotency_key: str | None
) -> OpinionReceipt:
    """Store the form's recording or text as an opinion on the topic (one of the two, never both).

    A key that already sent a different opinion (the villager went back and wrote another, or the
    same words on another clause) stores the new one under a key derived from its content, so a
    resend of it is still not stored twice.
    """
    clause = clause_of(_value(form.get("clause")))

    def check() -> Callable[[Session, int], None]:
        with context.factory() as session:
            return flow.opinion_link(session, short_code, clause)

    attach = await run_in_threadpool(check)
    audio = form.get("audio")
    recording = audio if isinstance(audio, UploadFile) and audio.filename else None
    text = None if recording else _value(form.get("text"))
    if recording is None and not (text or "").strip():
        raise InvalidInput("Nothing was sent: record your opinion or write it.")
    sent = submission.Submission(
        Submitter(phone=_value(form.get("phone")), village=_value(form.get("village"))),
        text=text,
        audio=recording,
        language=_value(form.get("language")),
        idempotency_key=idempotency_key,
        channel=Channel.CONSULTATION,
        attach=attach,
        about={"topic": queries.normalise_code(short_code), "clause": clause},
    )
    try:
        receipt = await submission.submit(context, sent)
    except IdempotencyConflict:
        assert idempotency_key is not None
        second = await run_in_threadpool(_second_key, idempotency_key, sent, clause)
        try:
            receipt = await submission.submit(context, replace(sent, idempotency_key=second))
        except IdempotencyConflict:  # the content hash matched and the rest did not: store it anew
            if recording is not None:
                await recording.seek(0)
            receipt = await submission.submit(context, replace(sent, idempotency_key=None))
    return OpinionReceipt(receipt, queries.normalise_code(short_code), clause)


def _second_key(key: str, sent: submission.Submission, clause: int | None) -> str:
    """The key for an opinion whose page key already sent a different one (the villager went back
    and wrote on another clause): the page key and a hash of this opinion, so a resend of this one
    replays it. Rewinds the recording it reads (bounded by the form's upload limit)."""
    digest = hashlib.sha256()
    who = sent.submitter
    digest.update(json.dumps([clause, sent.text, who.phone, who.village, sent.language]).encode())
    if sent.audio is not None:
        sent.audio.file.seek(0)
        while chunk := sent.audio.file.read(1 << 20):
            digest.update(chunk)
        sent.audio.file.seek(0)
    return f"{key[: MAX_KEY_LENGTH - 33]}~{digest.hexdigest()[:32]}"

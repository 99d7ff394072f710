"""Reads and writes of transcription requests: add, claim, finish or fail, read the outcome, forget.

The audio is kept in the row only until the worker has read it (finished or failed, it is set to
NULL), and the row itself is deleted once the waiting request has read the result; rows nobody
came back for are deleted by ``forget_older_than``. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models.db import utcnow
from models.transcriptions.tables import DONE, FAILED, FINISHED, QUEUED, RUNNING, TranscriptionRequest


@dataclass(frozen=True)
class Order:
    """What a claimed request asks the worker to do."""

    id: int
    audio: bytes
    audio_format: str
    language: str | None
    prompt: str | None
    temperature: float
    word_timestamps: bool


@dataclass(frozen=True)
class Outcome:
    """Where a request stands, without its audio."""

    state: str
    result: dict[str, Any] | None
    error_kind: str | None
    error_base: str | None
    error_detail: str | None

    @property
    def finished(self) -> bool:
        """Whether the worker is done with it (either way)."""
        return self.state in FINISHED


def add_request(
    session: Session,
    *,
    audio: bytes,
    audio_format: str,
    language: str | None,
    prompt: str | None,
    temperature: float,
    word_timestamps: bool,
) -> int:
    """Store a queued request; returns its id."""
    now = utcnow()
    row = TranscriptionRequest(
        state=QUEUED,
        audio=audio,
        audio_format=audio_format,
        language=language,
        prompt=prompt,
        temperature=temperature,
        word_timestamps=word_timestamps,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def claim(session: Session, request_id: int) -> Order | None:
    """Take this request for its job: a queued one, or one left running by a worker that died (the
    job runner hands a job to one worker at a time). None when it is finished or forgotten."""
    taken = session.execute(
        update(TranscriptionRequest)
        .where(TranscriptionRequest.id == request_id, TranscriptionRequest.state.in_((QUEUED, RUNNING)))
        .values(state=RUNNING, updated_at=utcnow())
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        row = session.get(TranscriptionRequest, request_id)
        if row is not None and row.audio is not None:
            return Order(
                row.id,
                row.audio,
                row.audio_format,
                row.language,
                row.prompt,
                row.temperature,
                row.word_timestamps,
            )
    return None


def finish(session: Session, request_id: int, result: dict[str, Any]) -> None:
    """Store the transcript and drop the audio."""
    session.execute(
        update(TranscriptionRequest)
        .where(TranscriptionRequest.id == request_id)
        .values(state=DONE, result=result, audio=None, updated_at=utcnow())
    )


def fail(session: Session, request_id: int, *, kind: str, base: str, detail: str) -> None:
    """Record why the request failed and drop the audio."""
    session.execute(
        update(TranscriptionRequest)
        .where(TranscriptionRequest.id == request_id)
        .values(
            state=FAILED,
            audio=None,
            error_kind=kind[:64],
            error_base=base[:32],
            error_detail=detail,
            updated_at=utcnow(),
        )
    )


def outcome(session: Session, request_id: int) -> Outcome | None:
    """The request's state and result (None once it is forgotten)."""
    row = session.execute(
        select(
            TranscriptionRequest.state,
            TranscriptionRequest.result,
            TranscriptionRequest.error_kind,
            TranscriptionRequest.error_base,
            TranscriptionRequest.error_detail,
        ).where(TranscriptionRequest.id == request_id)
    ).first()
    return Outcome(row[0], row[1], row[2], row[3], row[4]) if row else None


def forget(session: Session, request_id: int) -> None:
    """Delete a request (its result has been read)."""
    session.execute(delete(TranscriptionRequest).where(TranscriptionRequest.id == request_id))


def forget_older_than(session: Session, cutoff: datetime) -> int:
    """Delete every request created before ``cutoff``, whatever its state: nobody waits for it any
    more (its client gave up, or the worker running it died). Returns how many went."""
    gone = session.execute(delete(TranscriptionRequest).where(TranscriptionRequest.created_at < cutoff))
    return int(gone.rowcount)  # type: ignore[attr-defined]

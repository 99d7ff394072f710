"""Transcription requests of the OpenAI-compatible API: an audio file waiting for the worker, then
its transcript waiting for the request that asked for it.

These are not villagers' suggestions: nothing here is ever shown to staff, classified or routed.
The audio is kept in the row only until the worker has read it (finished or failed, it is set to
NULL), and the row itself is deleted once the waiting request has read the result; rows nobody
came back for are deleted by ``forget_older_than``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, LargeBinary, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime
from models.db import utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINISHED = (DONE, FAILED)


class TranscriptionRequest(Base):
    """One file sent to ``POST /v1/audio/transcriptions`` and what came of it."""

    __tablename__ = "transcription_requests"
    __table_args__ = (Index("ix_transcription_requests_state", "state", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    audio: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # NULL once read
    audio_format: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)  # None: detect
    prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    temperature: Mapped[float] = mapped_column(Float, default=0.0)
    word_timestamps: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A failure as the domain error that caused it: its kind, its semantic base and its message.
    error_kind: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_base: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


def claim_next(session: Session) -> Order | None:
    """Take the oldest queued request (a conditional UPDATE: one of two racing workers wins)."""
    candidates = session.scalars(
        select(TranscriptionRequest.id)
        .where(TranscriptionRequest.state == QUEUED)
        .order_by(TranscriptionRequest.id)
        .limit(5)
        .with_for_update(skip_locked=True)
    ).all()
    for request_id in candidates:
        taken = session.execute(
            update(TranscriptionRequest)
            .where(TranscriptionRequest.id == request_id, TranscriptionRequest.state == QUEUED)
            .values(state=RUNNING, updated_at=utcnow())
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            row = session.get(TranscriptionRequest, request_id)
            assert row is not None and row.audio is not None
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

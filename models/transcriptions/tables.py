"""The table of transcription requests of the OpenAI-compatible API (queries in ``queries``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

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

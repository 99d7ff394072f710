"""Tables of a suggestion: the row itself, its audio, transcript, predictions, history events,
assignment, extension requests and Open311 request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import Base, UTCDateTime
from models.directory.tables import Department, Deputy
from models.vocabulary import EVENT_NAMES


class Audio(Base):
    """An uploaded recording, stored once under its sha256."""

    __tablename__ = "audio"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(500))
    original_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    format: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    sample_rate: Mapped[int] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Suggestion(Base):
    """One villager's suggestion, from intake to routing."""

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_status", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # a models.vocabulary.Channel
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitter_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    submitter_phone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    village: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    requested_language: Mapped[str] = mapped_column(String(8), default="auto")
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    category_source: Mapped[str | None] = mapped_column(String(16), nullable=True)  # model | staff
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    review_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    satisfaction_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # sha256 of the rating key on the villager's receipt (models.rating); never shown to staff.
    # NULL for rows stored before rating keys and for appointment topics: not rateable anonymously.
    rating_key_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audio_id: Mapped[int | None] = mapped_column(ForeignKey("audio.id"), nullable=True)
    audio: Mapped[Audio | None] = relationship()
    # Loaded with the suggestion (one LEFT JOIN): nearly every view of a suggestion names its department.
    department: Mapped[Department | None] = relationship(lazy="joined")


class Transcript(Base):
    """What an engine heard in a suggestion's audio."""

    __tablename__ = "transcripts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), unique=True)
    engine: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8))
    language_probability: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    segments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    dropped_segments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    confidence: Mapped[float] = mapped_column(Float)
    # Share of the words heard with a low probability (None: stored before words were timed).
    unsure_word_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Prediction(Base):
    """A classifier's guess for a suggestion (never overwritten; staff decisions are separate)."""

    __tablename__ = "predictions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    classifier_version_id: Mapped[int] = mapped_column(ForeignKey("classifier_versions.id"))
    label: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    probabilities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Event(Base):
    """Append-only history: who did what, when."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @validates("kind")
    def _known_kind(self, _key: str, kind: str) -> str:
        # A history row staff cannot read is a bug of ours: its words live in models.vocabulary.
        if kind not in EVENT_NAMES:
            raise ValueError(f"event kind {kind!r} has no words in models.vocabulary.EVENT_NAMES")
        return kind


class Assignment(Base):
    """Who holds a dispatched suggestion now, and when each step happened (one row per suggestion)."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_department", "department_id"),)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputies.id"), nullable=True)
    dispatched_by: Mapped[str] = mapped_column(String(200))
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    department: Mapped[Department | None] = relationship()
    deputy: Mapped[Deputy | None] = relationship()


class ExtensionRequest(Base):
    """A handler's request for more time (延期); an admin approves or rejects it."""

    __tablename__ = "extension_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    new_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Open311Request(Base):
    """What an Open311 client sent with a suggestion beyond its text."""

    __tablename__ = "open311_requests"
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), primary_key=True)
    service_code: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(200))
    media_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    account_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)

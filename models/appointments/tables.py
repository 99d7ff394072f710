"""Tables of the appointment with the township head (乡长有约): requests, sessions and agenda items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class AppointmentRequest(Base):
    """A topic for the township head: from a deputy (代表出题) or from the government (政府点题)."""

    __tablename__ = "appointment_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(16))  # deputy | government
    mode: Mapped[str] = mapped_column(String(16))  # session (next fixed session) | invitation (on demand)
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(200), index=True)
    links: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict
    )  # {"suggestions": [...], "themes": [...]}
    state: Mapped[str] = mapped_column(String(16))  # requested | scheduled | declined | discussed
    session_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_sessions.id"), nullable=True)
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    visit_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AppointmentSession(Base):
    """A meeting of deputies with the township head: a fixed calendar date or an accepted invitation."""

    __tablename__ = "appointment_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # fixed | invitation
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(16))  # planned | held
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaItem(Base):
    """One agreed action from a session; handled through the suggestion workflow via ``suggestion_id``."""

    __tablename__ = "agenda_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("appointment_sessions.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_requests.id"), nullable=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    actions: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""Tables of themes (suggestions about the same concrete issue), consultation topics and duplicate flags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class Theme(Base):
    """Suggestions of one category about the same concrete issue, across villages and weeks.

    ``curated`` themes were touched by staff (renamed, merged, split, promoted): the background
    recompute leaves them and their members alone and regroups only the rest.
    """

    __tablename__ = "themes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(300))
    key_phrases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    curated: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | merged
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ThemeMember(Base):
    """A suggestion's place in a theme (at most one theme per suggestion)."""

    __tablename__ = "theme_members"
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), index=True)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsultationTopic(Base):
    """A consultation topic (协商议题) promoted from a theme; the theme keeps its linked suggestions."""

    __tablename__ = "consultation_topics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DuplicateLink(Base):
    """A new suggestion like an open one from the same village or address (a flag, never a close)."""

    __tablename__ = "duplicate_links"
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), primary_key=True)
    duplicate_of_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    similarity: Mapped[float] = mapped_column(Float)
    matched_on: Mapped[str] = mapped_column(String(16))  # village | address
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""The table of suggestion-paper drafts: the text staff edited, one row per theme."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class PaperDraft(Base):
    """A suggestion paper (建议书) as staff last saved it; without a row the generated text is shown.

    The figures in the text are those of the time of saving: regenerating (deleting the row)
    brings them up to date.
    """

    __tablename__ = "paper_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), unique=True)
    lang: Mapped[str] = mapped_column(String(8))  # the language the text was generated in
    title: Mapped[str] = mapped_column(String(300))
    background: Mapped[str] = mapped_column(Text)
    quotes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    handling: Mapped[str] = mapped_column(Text)
    proposal: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

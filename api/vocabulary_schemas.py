"""JSON shapes of the township vocabulary endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.township.tables import MAX_TERM_CHARS


class TermIn(BaseModel):
    """A term an admin adds (or enables again)."""

    # The model's own check gives the clerk's message; this only bounds what is read.
    text: str = Field(max_length=MAX_TERM_CHARS * 8)


class TermOut(BaseModel):
    """One vocabulary term."""

    id: int
    text: str
    source: str
    count: int
    enabled: bool
    created_at: datetime

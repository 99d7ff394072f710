"""Request and response bodies of the themes, consultation topics and duplicates API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.ids import BodyId


class ThemeOut(BaseModel):
    """A theme: suggestions of one category about the same concrete issue."""

    id: int
    category: str
    title: str
    key_phrases: list[str]
    curated: bool = Field(description="Touched by staff: the background recompute keeps it as it is.")
    count: int
    villages: dict[str, int] = Field(description="Village → number of suggestions, most first.")
    weekly: list[int] = Field(description="Suggestions per week, oldest first; the last is this week.")
    first_at: datetime | None
    last_at: datetime | None
    topic_id: int | None = Field(None, description="The consultation topic it was promoted to.")
    topic_title: str | None = None


class ThemeMemberOut(BaseModel):
    """A suggestion inside a theme (staff view)."""

    id: int
    tracking_code: str
    village: str | None
    address: str | None
    status: str
    submitted_at: datetime
    text: str | None


class ThemeDetailOut(ThemeOut):
    """A theme with its suggestions."""

    suggestions: list[ThemeMemberOut]


class RenameIn(BaseModel):
    """A new name for a theme."""

    title: str = Field(max_length=300)


class MergeIn(BaseModel):
    """Themes whose suggestions move into this one."""

    theme_ids: list[BodyId] = Field(min_length=1, max_length=100)


class SplitIn(BaseModel):
    """Suggestions that leave this theme for a new one."""

    suggestion_ids: list[BodyId] = Field(min_length=1, max_length=1000)
    title: str = Field(max_length=300)


class PromoteIn(BaseModel):
    """A consultation topic (协商议题) made from a theme."""

    title: str | None = Field(None, max_length=300, description="Default: the theme's name.")
    note: str | None = Field(None, max_length=5000)


class TopicOut(BaseModel):
    """A consultation topic and the suggestions it keeps through its theme."""

    id: int
    theme_id: int
    title: str
    note: str | None
    created_by: str
    created_at: datetime
    suggestion_ids: list[int]


class RecomputeOut(BaseModel):
    """The queued background recompute."""

    job_id: int
    state: str


class DuplicateOut(BaseModel):
    """Whether a suggestion repeats an open one, and which later ones repeat it (staff view)."""

    suggestion_id: int
    duplicate_of: int | None
    similarity: float | None
    matched_on: str | None
    duplicates: list[int] = Field(description="Later suggestions flagged as likely duplicates of this one.")

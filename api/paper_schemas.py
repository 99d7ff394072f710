"""Request and response bodies of the suggestion paper and problem micro-list API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from models.papers import store


class PaperIn(BaseModel):
    """Staff's text of a theme's suggestion paper (replaces the saved one)."""

    title: str = Field(max_length=store.MAX_TITLE_CHARS)
    background: str = Field("", max_length=store.MAX_TEXT_CHARS)
    quotes: list[str] = Field(default_factory=list, max_length=store.MAX_QUOTES)
    handling: str = Field("", max_length=store.MAX_TEXT_CHARS)
    proposal: str = Field("", max_length=store.MAX_TEXT_CHARS)


class DepartmentHandlingOut(BaseModel):
    """What one department did with the theme's suggestions."""

    code: str
    name_zh: str
    name_en: str
    held: int
    resolved: int
    mean_days_to_resolve: float | None
    ratings: int
    satisfaction_mean: float | None


class PaperFactsOut(BaseModel):
    """The figures the paper is written from (as of now, whatever the saved text says)."""

    suggestions: int
    villagers: int = Field(description="One per distinct phone number; one per suggestion without one.")
    villages: dict[str, int]
    months: list[tuple[str, int]]
    first_on: date | None
    last_on: date | None
    statuses: dict[str, int]
    done: int
    open: int
    departments: list[DepartmentHandlingOut]
    ratings: int
    satisfaction_mean: float | None


class PaperOut(BaseModel):
    """A theme's suggestion paper (建议书): the saved text, or text generated now."""

    theme_id: int
    lang: str = Field(description="The language the text was written in.")
    saved: bool = Field(description="True: staff's saved text; false: generated now.")
    updated_by: str | None
    updated_at: datetime | None
    title: str
    background: str
    quotes: list[str]
    handling: str
    proposal: str
    facts: PaperFactsOut


class ProblemOut(BaseModel):
    """One open problem (text without personal data)."""

    id: int
    tracking_code: str
    submitted_at: datetime
    village: str | None
    category: str | None
    status: str
    department_code: str | None
    due_at: datetime | None
    overdue: bool
    text: str


class ProblemGroupOut(BaseModel):
    """The open problems of one theme, or of one category outside any theme."""

    theme_id: int | None
    theme_title: str | None
    category: str | None
    problems: list[ProblemOut]


class ProblemListOut(BaseModel):
    """A village's or a department's problem micro-list (问题微清单)."""

    scope: str
    key: str
    name_zh: str
    name_en: str
    generated_at: datetime
    total: int
    truncated: bool = Field(description="More were open than listed; the oldest are listed.")
    groups: list[ProblemGroupOut]

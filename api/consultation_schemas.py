"""Request and response shapes of the consultation API (published topics, opinions, meetings)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class PublishIn(BaseModel):
    """Publish a topic: from a promoted theme's consultation topic, or directly with a title."""

    topic_id: int | None = Field(None, ge=1, description="A consultation topic promoted from a theme.")
    title: str | None = Field(None, max_length=300, description="Required unless topic_id is given.")
    description: str | None = Field(None, max_length=20_000)
    draft: str | None = Field(
        None, max_length=20_000, description="A draft text; lines opening with 第…条 or 1. become clauses."
    )


class ClauseOut(BaseModel):
    number: int
    text: str


class OpinionOut(BaseModel):
    """An opinion as staff see it: the text with personal data scrubbed (models.privacy)."""

    suggestion_id: int
    tracking_code: str
    channel: str
    status: str
    clause_number: int | None
    stance: str | None
    stance_source: str | None
    text: str | None
    submitted_at: datetime


class MeetingIn(BaseModel):
    kind: str = Field("meeting", description="reception (主题接待) or meeting (协商会议).")
    held_on: date
    place: str = Field(max_length=300)
    deputies: str | None = Field(None, max_length=20_000)
    departments: str | None = Field(None, max_length=20_000)
    minutes: str | None = Field(None, max_length=20_000)
    decisions: str | None = Field(None, max_length=20_000)


class MeetingOut(MeetingIn):
    id: int
    recorded_by: str
    recorded_at: datetime


class OutcomeIn(BaseModel):
    outcome: str = Field(description="decided, livelihood_candidate or forwarded.")
    note: str | None = Field(None, max_length=20_000)


class StanceIn(BaseModel):
    stance: str = Field(description="support, oppose or suggestion.")


class ConsultationOut(BaseModel):
    id: int
    short_code: str
    link: str = Field(description="The public page's path, for the poster's QR code.")
    topic_id: int | None
    title: str
    description: str | None
    published_by: str
    published_at: datetime
    outcome: str | None
    outcome_note: str | None
    clauses: list[ClauseOut]


class OpinionThemeOut(BaseModel):
    """Opinions on the topic that say the same thing (classify.opinion_themes)."""

    title: str = Field(description="Its top key phrases; empty for the opinions that fit no theme.")
    key_phrases: list[str]
    counts_by_stance: dict[str, int] = Field(description="Stance → opinions ('unclassified': none yet).")
    suggestion_ids: list[int] = Field(description="Its opinions, oldest first.")


class ConsultationDetailOut(ConsultationOut):
    counts_by_stance: dict[str, int] = Field(description="Stance → opinions ('unclassified': none yet).")
    counts_by_clause: dict[str, dict[str, int]] = Field(description="Clause ('topic': none) → stances.")
    opinions: list[OpinionOut]
    themes: list[OpinionThemeOut] = Field(
        description="The opinions with text grouped by what they say, largest theme first."
    )
    meetings: list[MeetingOut]


class OpinionReceiptOut(BaseModel):
    """What a villager gets back for an opinion: the same receipt as for a suggestion."""

    id: int
    tracking_code: str
    status: str
    rating_key: str | None
    consultation: str
    clause: int | None

"""Pydantic shapes of what the API returns: the HTTP contract clients rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ReceiptOut(BaseModel):
    """Returned at once when a suggestion is accepted."""

    id: int
    tracking_code: str = Field(description="Short code the villager uses to follow the suggestion.")
    status: str
    rating_key: str | None = Field(
        description=(
            "Secret the villager needs to rate the result (the tracking code alone is not enough): "
            "shown only here; the villager opens /track/{tracking_code}/{rating_key}. A retry with the same "
            "Idempotency-Key returns the same key; null only for keys stored before rating keys existed."
        )
    )


class DepartmentOut(BaseModel):
    """A department, in both languages."""

    code: str
    name_zh: str
    name_en: str


class SegmentOut(BaseModel):
    """One stretch of transcribed speech with Whisper's quality signals."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


class TranscriptOut(BaseModel):
    """What the speech engine heard."""

    text: str
    language: str
    language_probability: float
    confidence: float = Field(description="Derived transcript confidence in [0, 1].")
    engine: str
    model: str
    seconds: float
    segments: list[SegmentOut]


class PredictionOut(BaseModel):
    """The classifier's guess."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    classifier_version: int


class EventOut(BaseModel):
    """One history entry."""

    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]


class ContactOut(BaseModel):
    """How to reach the villager: personal data, shown only to the township office (admins, reviewers)
    and to whoever holds the suggestion (its department's handlers, or its deputy); see models.contact."""

    name: str | None
    phone: str | None
    address: str | None
    latitude: float | None
    longitude: float | None


class SuggestionOut(BaseModel):
    """Staff view of a suggestion, with the villager's contact details for those who may see them."""

    id: int
    tracking_code: str
    channel: str
    status: str
    submitted_at: datetime
    language: str | None
    transcript: str | None = Field(description="The suggestion's text: transcript or typed text.")
    transcript_detail: TranscriptOut | None
    category: str | None
    category_source: str | None
    confidence: float | None = Field(description="Classifier confidence of the category.")
    prediction: PredictionOut | None
    department: DepartmentOut | None
    review_reason: str | None
    village: str | None
    contact: ContactOut | None = Field(
        description="Null for a handler or deputy who does not hold this suggestion (another department's)."
    )
    history: list[EventOut]


class TopicOutcomeOut(BaseModel):
    """How the consultation topic a villager's suggestion fed into ended (models.consultation)."""

    title: str
    outcome: str
    outcome_zh: str
    outcome_en: str
    note: str | None
    decisions: list[str] = Field(default_factory=list, description="What the meetings on it decided.")


class TrackOut(BaseModel):
    """The villager's view: no personal data, no staff-only fields."""

    tracking_code: str
    status: str
    status_zh: str
    status_en: str
    next_zh: str = Field("", description="What happens next, in plain words for the villager.")
    next_en: str = ""
    category: str | None
    department_zh: str | None
    department_en: str | None
    result_note: str | None
    can_rate: bool = Field(False, description="Resolved and not yet rated: the villager may rate it.")
    satisfaction: int | None = Field(None, description="The villager's own rating, once given.")
    already_reported: bool = Field(
        False, description="A similar issue from the same village or address was reported earlier."
    )
    already_reported_status_zh: str | None = Field(None, description="Where that earlier report stands.")
    already_reported_status_en: str | None = None
    submitted_at: datetime
    updated_at: datetime
    topic_outcome: TopicOutcomeOut | None = Field(
        None, description="The outcome of the consultation topic this suggestion fed into, once set."
    )

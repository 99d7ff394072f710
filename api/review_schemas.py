"""Pydantic shapes of the review queue, staff decisions and classifier versions (HTTP contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas import DepartmentOut
from models.taxonomy import LABELS


class QueueWordOut(BaseModel):
    """One timed word of a segment and how sure the speech engine was of it."""

    start: float
    end: float
    word: str
    probability: float
    unsure: bool = Field(description="True when the clerk should check this word against the recording.")


class QueueSegmentOut(BaseModel):
    """One stretch of the transcript, with whether the speech engine was unsure of it."""

    start: float
    end: float
    text: str
    confidence: float = Field(description="exp(average log-probability) of the segment's tokens.")
    unsure: bool = Field(description="True when the clerk should listen to this part again.")
    words: list[QueueWordOut] = Field(
        default_factory=list, description="The segment's words, when the engine timed them."
    )


class ReviewItemOut(BaseModel):
    """A suggestion as the reviewer sees it: what was heard, what the model decided, and how sure it was."""

    id: int
    tracking_code: str
    status: str
    channel: str
    submitted_at: datetime
    language: str | None
    village: str | None
    text: str | None = Field(description="The current working text (staff corrections applied).")
    original_transcript: str | None = Field(description="What the speech engine heard, never changed.")
    transcript_confidence: float | None
    unsure_word_share: float | None = Field(
        None, description="Share of the heard words the speech engine was unsure of (None: not timed)."
    )
    segments: list[QueueSegmentOut]
    audio_url: str | None
    category: str | None
    category_source: str | None
    confidence: float | None
    probabilities: dict[str, float]
    classifier_version: int | None
    department: DepartmentOut | None
    review_reason: str | None
    reviewed: bool


class ReviewQueueOut(BaseModel):
    """One page of the review queue, least confident first."""

    total: int
    items: list[ReviewItemOut]


class ReviewIn(BaseModel):
    """A staff decision: the category (same as the model's = confirm), and optionally a corrected text."""

    category: str = Field(description="A category code: " + ", ".join(LABELS) + ".")
    transcript: str | None = Field(None, description="The corrected text; leave out to keep the text as is.")


class ReviewOut(BaseModel):
    """What the decision did."""

    review_id: int
    suggestion_id: int
    verdict: str = Field(description="confirmed or corrected.")
    category: str
    status: str
    department: str | None
    rerouted: bool
    retrain_run_id: int | None = Field(description="Set when this review started an automatic retraining.")


class ReviewRecordOut(BaseModel):
    """A stored review, next to the prediction it judged."""

    id: int
    reviewer: str
    verdict: str
    label: str
    predicted_label: str | None
    predicted_confidence: float | None
    text_corrected: bool
    corrected_text: str | None
    created_at: datetime


class VersionOut(BaseModel):
    """A classifier version with its metrics and how its auto-tags fared with staff."""

    id: int
    created_at: datetime
    state: str = Field(description="candidate, active, retired or rejected.")
    active: bool
    n_examples: int
    data_fingerprint: str
    metrics: dict[str, Any]
    note: str | None
    reviewed: int = Field(description="Staff-reviewed items this version had tagged.")
    reviewed_correct: int = Field(description="Of those, how many kept the version's category.")


class RunOut(BaseModel):
    """A retraining run and its outcome."""

    id: int
    trigger: str
    requested_by: str
    requested_at: datetime
    state: str = Field(
        description="queued, running, reclassifying (the candidate is active; open suggestions are "
        "being given its categories), promoted, rejected or failed."
    )
    started_at: datetime | None
    finished_at: datetime | None
    candidate_version_id: int | None
    baseline_version_id: int | None
    eval_set: dict[str, Any]
    candidate_metrics: dict[str, Any]
    baseline_metrics: dict[str, Any]
    reason: str | None
    reclassified: int


class RetrainOut(BaseModel):
    """Answer to a retraining request: the run (an already open run is joined, not duplicated)."""

    run: RunOut
    created: bool


class AccuracyPointOut(BaseModel):
    """Share of auto-tags that staff kept, per day."""

    day: str
    reviewed: int
    correct: int
    accuracy: float

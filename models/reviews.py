"""Tables of staff review and learning: decisions, imported labelled texts, retraining runs.

A Review sits next to the model's Prediction (never replacing it), so audits and retraining can
tell the machine's guess from the person's decision. The transcript row stays as heard; a corrected
text lives on the Review.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class Verdict:
    """What a reviewer decided about the model's category."""

    CONFIRMED = "confirmed"
    CORRECTED = "corrected"


class Review(Base):
    """One staff decision on a suggestion's category (and, optionally, its text)."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_suggestion", "suggestion_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"))
    prediction_id: Mapped[int | None] = mapped_column(ForeignKey("predictions.id"), nullable=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(16))  # confirmed | corrected
    label: Mapped[str] = mapped_column(String(64))
    predicted_label: Mapped[str | None] = mapped_column(String(64), nullable=True)
    predicted_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    text_corrected: Mapped[bool] = mapped_column(default=False)
    corrected_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The text the label applies to (corrected text, else the suggestion's text): what training reads.
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LabelledExample(Base):
    """A labelled text imported by an operator (``minsheng import``), used as training data."""

    __tablename__ = "labelled_examples"
    __table_args__ = (UniqueConstraint("text_sha256", name="uq_labelled_examples_text"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunState:
    """States of a retraining run: queued → running → reclassifying → promoted, or → rejected / failed.

    ``reclassifying``: the candidate is already the active model and the run's job is giving the
    unreviewed open suggestions its categories; ``promoted`` is written once they all have them.
    """

    QUEUED = "queued"
    RUNNING = "running"
    RECLASSIFYING = "reclassifying"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    FAILED = "failed"
    OPEN = (QUEUED, RUNNING, RECLASSIFYING)


class TrainingRun(Base):
    """One retraining request and its outcome (candidate version, metrics of both models, decision)."""

    __tablename__ = "training_runs"
    __table_args__ = (Index("ix_training_runs_state", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # manual | auto | cli
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Reviews with an id up to this one existed when the run was asked for (auto-retrain counts from it).
    reviews_upto: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    candidate_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("classifier_versions.id"), nullable=True
    )
    baseline_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("classifier_versions.id"), nullable=True
    )
    eval_set: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    candidate_metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    baseline_metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reclassified: Mapped[int] = mapped_column(Integer, default=0)

"""Tables of staff review and learning: decisions, imported labelled texts, retraining runs,
classifier versions and cached sentence vectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class ClassifierVersion(Base):
    """A trained classifier artefact. The active one is pointed to by ``state == 'active'``."""

    __tablename__ = "classifier_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    artefact_path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    data_fingerprint: Mapped[str] = mapped_column(String(64))
    n_examples: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    library_versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16))  # candidate | active | retired | rejected
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


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
    trigger: Mapped[str] = mapped_column(String(16))  # manual | auto | cli | categories
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


class EmbeddingCache(Base):
    """A text's sentence vector, computed once and kept for every node (content-addressed).

    ``text_sha256`` is the sha256 of the normalised text the encoder read, ``encoder`` names the
    encoder and how it reads (classify.meaning.ENCODER_ID), so another encoder never gets these
    vectors; ``vector`` is 384 half-precision numbers, little-endian.
    """

    __tablename__ = "embedding_cache"
    encoder: Mapped[str] = mapped_column(String(64), primary_key=True)
    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

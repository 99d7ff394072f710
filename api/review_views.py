"""The review queue's shapes: an item as the reviewer sees it, classifier versions and training runs;
shared by the JSON API and the review pages."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy.orm import Session

from api import i18n
from api.accounts import REVIEWER, Staff
from api.auth import require_roles
from api.review_schemas import (
    QueueSegmentOut,
    QueueWordOut,
    ReviewItemOut,
    RunOut,
    VersionOut,
)
from api.schemas import DepartmentOut
from intake.asr import is_unsure_word
from models.reviews.tables import ClassifierVersion, TrainingRun
from models.suggestions import queries
from models.suggestions.tables import Suggestion
from models.vocabulary import Status

# Whisper segments whose tokens average below this log-probability (about 45 % per token) are marked.
UNSURE_LOGPROB = -0.8


UNSURE_NO_SPEECH = 0.5


KNOWN_STATUSES: tuple[str, ...] = tuple(Status)


ReviewerDep = Annotated[Staff, Depends(require_roles(REVIEWER))]


def review_item(session: Session, suggestion: Suggestion, lang: str) -> ReviewItemOut:
    """Everything the review page shows about one suggestion."""
    transcript = queries.transcript_for(session, suggestion.id)
    prediction = queries.latest_prediction(session, suggestion.id)
    segments = []
    for seg in transcript.segments if transcript is not None else []:
        logprob = float(seg.get("avg_logprob", 0.0))
        segments.append(
            QueueSegmentOut(
                start=float(seg.get("start", 0.0)),
                end=float(seg.get("end", 0.0)),
                text=str(seg.get("text", "")),
                confidence=round(math.exp(min(logprob, 0.0)), 3),
                unsure=logprob < UNSURE_LOGPROB or float(seg.get("no_speech_prob", 0.0)) > UNSURE_NO_SPEECH,
                words=[_word(w) for w in seg.get("words") or ()],
            )
        )
    dept = suggestion.department
    return ReviewItemOut(
        id=suggestion.id,
        tracking_code=suggestion.tracking_code,
        status=suggestion.status,
        channel=suggestion.channel,
        submitted_at=suggestion.submitted_at,
        language=suggestion.language,
        village=suggestion.village,
        text=suggestion.text,
        original_transcript=transcript.text if transcript is not None else None,
        transcript_confidence=transcript.confidence if transcript is not None else None,
        unsure_word_share=transcript.unsure_word_share if transcript is not None else None,
        segments=segments,
        audio_url=f"/api/v1/suggestions/{suggestion.id}/audio" if suggestion.audio_id is not None else None,
        category=suggestion.category,
        category_source=suggestion.category_source,
        confidence=suggestion.confidence,
        probabilities={k: float(v) for k, v in (prediction.probabilities if prediction else {}).items()},
        classifier_version=prediction.classifier_version_id if prediction else None,
        department=DepartmentOut(code=dept.code, name_zh=dept.name_zh, name_en=dept.name_en)
        if dept
        else None,
        review_reason=i18n.reason_text(suggestion.review_reason, lang),
        reviewed=suggestion.category_source == "staff",
    )


def _word(stored: dict[str, Any]) -> QueueWordOut:
    probability = float(stored.get("probability", 0.0))
    return QueueWordOut(
        start=float(stored.get("start", 0.0)),
        end=float(stored.get("end", 0.0)),
        word=str(stored.get("word", "")),
        probability=round(probability, 3),
        unsure=is_unsure_word(probability),
    )


def version_out(version: ClassifierVersion, accuracy: dict[int, tuple[int, int]]) -> VersionOut:
    """A version row with its live accuracy."""
    reviewed, correct = accuracy.get(version.id, (0, 0))
    return VersionOut(
        id=version.id,
        created_at=version.created_at,
        state=version.state,
        active=version.state == "active",
        n_examples=version.n_examples,
        data_fingerprint=version.data_fingerprint,
        metrics=version.metrics or {},
        note=version.note,
        reviewed=reviewed,
        reviewed_correct=correct,
    )


def run_out(run: TrainingRun) -> RunOut:
    """A training run row as the API returns it."""
    return RunOut(
        id=run.id,
        trigger=run.trigger,
        requested_by=run.requested_by,
        requested_at=run.requested_at,
        state=run.state,
        started_at=run.started_at,
        finished_at=run.finished_at,
        candidate_version_id=run.candidate_version_id,
        baseline_version_id=run.baseline_version_id,
        eval_set=run.eval_set or {},
        candidate_metrics=run.candidate_metrics or {},
        baseline_metrics=run.baseline_metrics or {},
        reason=run.reason,
        reclassified=run.reclassified,
    )

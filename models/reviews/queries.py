"""Reads and writes of staff review and learning data. Callers pass a Session; nothing here commits."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from models.db import utcnow
from models.directory import queries as directory
from models.directory.tables import Department
from models.errors import Conflict, InvalidInput, NotFound
from models.reviews.tables import ClassifierVersion, LabelledExample, Review, RunState, TrainingRun, Verdict
from models.suggestions import queries, reasons
from models.suggestions.tables import Prediction, Suggestion, Transcript
from models.township import queries as township
from models.vocabulary import IN_PROCESSING, NOT_YET_DISPATCHED, Status

# Unreviewed suggestions in these statuses follow the active model when it changes.
RECLASSIFIABLE = (Status.NEEDS_REVIEW, Status.ROUTED)
DEFAULT_QUEUE_STATUSES = (Status.NEEDS_REVIEW,)
MAX_TEXT_CHARS = 5000


class NotReviewable(Conflict):
    """The suggestion cannot be reviewed now (it is still being processed)."""

    kind = "NotReviewable"


def text_sha256(text: str) -> str:
    """The hash that identifies a text (surrounding space ignored)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


# --- the review queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    """Which suggestions the queue shows. Empty fields do not filter."""

    statuses: tuple[str, ...] = DEFAULT_QUEUE_STATUSES
    category: str | None = None
    language: str | None = None
    department: str | None = None  # department code
    since: date | None = None
    until: date | None = None  # inclusive
    include_reviewed: bool = False
    exclude_ids: tuple[int, ...] = field(default_factory=tuple)


def _queue_select(flt: QueueFilter) -> Select[Any]:
    stmt = select(Suggestion).where(Suggestion.status.in_(flt.statuses))
    if not flt.include_reviewed:
        # A suggestion sent back to triage needs a person again even if it was reviewed before.
        stmt = stmt.where(
            or_(
                Suggestion.status == Status.NEEDS_REVIEW,
                Suggestion.category_source.is_(None),
                Suggestion.category_source != "staff",
            )
        )
    if flt.category:
        stmt = stmt.where(Suggestion.category == flt.category)
    if flt.language:
        stmt = stmt.where(Suggestion.language == flt.language)
    if flt.department:
        stmt = stmt.join(Department, Suggestion.department_id == Department.id).where(
            Department.code == flt.department
        )
    if flt.since:
        stmt = stmt.where(Suggestion.submitted_at >= datetime.combine(flt.since, time.min, tzinfo=UTC))
    if flt.until:
        end = datetime.combine(flt.until + timedelta(days=1), time.min, tzinfo=UTC)
        stmt = stmt.where(Suggestion.submitted_at < end)
    if flt.exclude_ids:
        stmt = stmt.where(Suggestion.id.not_in(flt.exclude_ids))
    return stmt


def review_queue(
    session: Session, flt: QueueFilter, *, limit: int = 50, offset: int = 0
) -> tuple[int, Sequence[Suggestion]]:
    """(total, page) of the queue: least confident first (no category at all comes first), then oldest;
    confidence here is the category's, lowered by the share of unsure words in the transcript.

    Uncertain items teach the model most and are the likeliest to be wrong (active learning).
    """
    stmt = _queue_select(flt)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    unsure_first = case((Suggestion.confidence.is_(None), 0), else_=1)
    # The classifier's confidence, discounted by the share of words the speech engine was unsure
    # of: a note half of whose words may be misheard is half as sure of its category.
    heard = Suggestion.confidence * (1.0 - func.coalesce(Transcript.unsure_word_share, 0.0))
    stmt = stmt.outerjoin(Transcript, Transcript.suggestion_id == Suggestion.id)
    page = session.scalars(
        stmt.order_by(unsure_first, heard, Suggestion.submitted_at, Suggestion.id).limit(limit).offset(offset)
    ).all()
    return int(total), page


# --- decisions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What happened when a review was recorded."""

    review: Review
    rerouted: bool
    department: str | None


def record_review(
    session: Session,
    suggestion_id: int,
    *,
    reviewer: str,
    category: str,
    transcript: str | None,
    labels: Sequence[str],
) -> Decision:
    """Store a staff decision next to the model's prediction, apply it, and log it in the history.

    The category becomes the staff's; a new text replaces the suggestion's working text (the
    transcript row keeps what was heard). Before dispatch the suggestion is (re-)routed to the
    department of the category; later it stays where it is and the decision is only logged.
    """
    if category not in labels:
        raise InvalidInput(
            "Unknown category '%(category)s'; choose one of %(labels)s.",
            category=category,
            labels=", ".join(labels),
        )
    suggestion = queries.get_suggestion(session, suggestion_id)
    if suggestion.status in IN_PROCESSING:
        raise NotReviewable(
            "Suggestion %(suggestion_id)s is still being processed (%(status)s); please "
            "review it in a moment.",
            suggestion_id=suggestion_id,
            status=suggestion.status,
        )
    new_text: str | None = None
    if transcript is not None:
        cleaned = transcript.strip()
        if not cleaned:
            raise InvalidInput("The corrected transcript is empty. Type the text, or leave it unchanged.")
        if len(cleaned) > MAX_TEXT_CHARS:
            raise InvalidInput(
                "The transcript is too long (over %(max_text_chars)s characters).",
                max_text_chars=MAX_TEXT_CHARS,
            )
        if cleaned != (suggestion.text or "").strip():
            new_text = cleaned
    if new_text is None and not (suggestion.text or "").strip():
        raise InvalidInput("This suggestion has no text yet. Listen to the recording and type what was said.")
    prediction = queries.latest_prediction(session, suggestion_id)
    previous_category = suggestion.category
    verdict = Verdict.CONFIRMED if new_text is None and category == previous_category else Verdict.CORRECTED
    final_text = new_text if new_text is not None else (suggestion.text or "")
    review = Review(
        suggestion_id=suggestion_id,
        prediction_id=prediction.id if prediction else None,
        reviewer=reviewer,
        verdict=verdict,
        label=category,
        predicted_label=prediction.label if prediction else None,
        predicted_confidence=prediction.confidence if prediction else None,
        text_corrected=new_text is not None,
        corrected_text=new_text,
        text=final_text,
        language=suggestion.language,
        created_at=utcnow(),
    )
    session.add(review)
    session.flush()
    if new_text is not None:
        if queries.transcript_for(session, suggestion_id) is not None:
            township.learn_from_correction(session, suggestion.text or "", new_text, review.created_at)
        suggestion.text = new_text
    suggestion.category = category
    suggestion.category_source = "staff"
    detail: dict[str, Any] = {
        "review_id": review.id,
        "verdict": verdict,
        "category": category,
        "previous_category": previous_category,
        "text_corrected": new_text is not None,
    }
    rerouted = False
    department_code = suggestion.department.code if suggestion.department else None
    if suggestion.status in NOT_YET_DISPATCHED:
        department = directory.department_for(session, category, suggestion.village)
        if department is None:
            suggestion.department_id = None
            suggestion.review_reason = reasons.dump([reasons.no_department(category)])
            detail["department"] = None
            queries.set_status(
                session, suggestion, Status.NEEDS_REVIEW, actor=reviewer, kind="reviewed", detail=detail
            )
        else:
            rerouted = suggestion.department_id != department.id
            suggestion.department_id = department.id
            suggestion.review_reason = None
            department_code = department.code
            detail["department"] = department.code
            detail["rerouted"] = rerouted
            queries.set_status(
                session, suggestion, Status.ROUTED, actor=reviewer, kind="reviewed", detail=detail
            )
    else:
        detail["department"] = department_code
        detail["rerouted"] = False
        suggestion.updated_at = utcnow()
        queries.add_event(session, suggestion, actor=reviewer, kind="reviewed", detail=detail)
    session.flush()
    return Decision(review=review, rerouted=rerouted, department=department_code)


def reviews_of(session: Session, suggestion_id: int) -> Sequence[Review]:
    """A suggestion's reviews, oldest first."""
    return session.scalars(
        select(Review).where(Review.suggestion_id == suggestion_id).order_by(Review.id)
    ).all()


def latest_review_id(session: Session) -> int:
    """The id of the newest review (0 when there is none)."""
    return int(session.scalar(select(func.max(Review.id))) or 0)


def count_reviews(session: Session, *, after_id: int = 0) -> int:
    """How many reviews have an id above ``after_id``."""
    return int(session.scalar(select(func.count(Review.id)).where(Review.id > after_id)) or 0)


def reviewed_examples(session: Session) -> list[tuple[str, str, int]]:
    """(text, label, suggestion id) of each reviewed suggestion, by its latest review."""
    latest = select(func.max(Review.id)).group_by(Review.suggestion_id)
    rows = session.execute(
        select(Review.text, Review.label, Review.suggestion_id)
        .where(Review.id.in_(latest))
        .order_by(Review.id)
    ).all()
    return [(str(t), str(lbl), int(s)) for t, lbl, s in rows]


def import_examples(session: Session, examples: Iterable[tuple[str, str]], source: str) -> tuple[int, int]:
    """Store labelled texts (a text already stored gets the new label). Returns (added, relabelled)."""
    added = relabelled = 0
    seen: dict[str, LabelledExample] = {}
    for text, label in examples:
        text = text.strip()
        if not text:
            continue
        digest = text_sha256(text)
        row = seen.get(digest) or session.scalar(
            select(LabelledExample).where(LabelledExample.text_sha256 == digest)
        )
        if row is None:
            row = LabelledExample(
                text=text, text_sha256=digest, label=label, source=source, created_at=utcnow()
            )
            session.add(row)
            added += 1
        elif row.label != label:
            row.label, row.source = label, source
            relabelled += 1
        seen[digest] = row
    session.flush()
    return added, relabelled


def imported_examples(session: Session) -> list[tuple[str, str]]:
    """(text, label) of every imported labelled text."""
    rows = session.execute(select(LabelledExample.text, LabelledExample.label).order_by(LabelledExample.id))
    return [(str(t), str(lbl)) for t, lbl in rows]


# --- training runs ---------------------------------------------------------------------------------


def open_run(session: Session) -> TrainingRun | None:
    """A run that is queued, running or re-classifying, if any."""
    return session.scalar(
        select(TrainingRun).where(TrainingRun.state.in_(RunState.OPEN)).order_by(TrainingRun.id)
    )


def create_run(session: Session, *, trigger: str, requested_by: str) -> TrainingRun:
    """Record a retraining request (queued)."""
    run = TrainingRun(
        trigger=trigger,
        requested_by=requested_by,
        requested_at=utcnow(),
        reviews_upto=latest_review_id(session),
        state=RunState.QUEUED,
        eval_set={},
        candidate_metrics={},
        baseline_metrics={},
    )
    session.add(run)
    session.flush()
    return run


def has_run_since(session: Session, *, trigger: str, since: datetime) -> bool:
    """Whether a run with this trigger was requested at or after ``since``."""
    found = session.scalar(
        select(TrainingRun.id)
        .where(TrainingRun.trigger == trigger, TrainingRun.requested_at >= since)
        .limit(1)
    )
    return found is not None


def last_run(session: Session) -> TrainingRun | None:
    """The newest run, whatever its state."""
    return session.scalar(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(1))


def claim_run(session: Session, stale_before: datetime) -> TrainingRun | None:
    """Take the oldest queued run, or one left running or re-classifying since before
    ``stale_before``, atomically. A taken-over run keeps its state, so that its job can resume."""
    now = utcnow()
    claimable = or_(
        TrainingRun.state == RunState.QUEUED,
        and_(
            TrainingRun.state.in_((RunState.RUNNING, RunState.RECLASSIFYING)),
            TrainingRun.started_at < stale_before,
        ),
    )
    state = case((TrainingRun.state == RunState.QUEUED, RunState.RUNNING), else_=TrainingRun.state)
    for run_id in session.scalars(select(TrainingRun.id).where(claimable).order_by(TrainingRun.id).limit(3)):
        result = session.execute(
            update(TrainingRun)
            .where(TrainingRun.id == run_id, claimable)
            .values(state=state, started_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return session.get(TrainingRun, run_id, populate_existing=True)
    return None


def get_run(session: Session, run_id: int) -> TrainingRun:
    """A training run by id, or NotFound."""
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise NotFound("No training run %(run_id)s.", run_id=run_id)
    return run


def recent_runs(session: Session, limit: int = 20) -> Sequence[TrainingRun]:
    """The newest runs first."""
    return session.scalars(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(limit)).all()


# --- classifier versions ---------------------------------------------------------------------------


def classifier_versions(session: Session) -> Sequence[ClassifierVersion]:
    """Every classifier version, newest first."""
    return session.scalars(select(ClassifierVersion).order_by(ClassifierVersion.id.desc())).all()


def get_classifier_version(session: Session, version_id: int) -> ClassifierVersion:
    """A classifier version by id, or NotFound."""
    version = session.get(ClassifierVersion, version_id)
    if version is None:
        raise NotFound("No classifier version %(version_id)s.", version_id=version_id)
    return version


# --- re-classification -----------------------------------------------------------------------------


def reclassifiable(session: Session, among: Sequence[int] | None = None) -> Sequence[Suggestion]:
    """Open suggestions no person has decided on (of ``among``, if given): they follow the active model."""
    reviewed = select(Review.suggestion_id)
    stmt = select(Suggestion).where(
        Suggestion.status.in_(RECLASSIFIABLE),
        Suggestion.text.is_not(None),
        Suggestion.text != "",  # nothing was heard: a person must type it first
        Suggestion.category.is_not(None),
        or_(Suggestion.category_source.is_(None), Suggestion.category_source != "staff"),
        Suggestion.id.not_in(reviewed),
    )
    if among is not None:
        stmt = stmt.where(Suggestion.id.in_(among))
    return session.scalars(stmt.order_by(Suggestion.id)).all()


# --- live accuracy ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccuracyPoint:
    """How often the model's category was right on the items staff reviewed on one day."""

    day: str
    reviewed: int
    correct: int

    @property
    def accuracy(self) -> float:
        """Share of reviewed items whose predicted category staff kept."""
        return self.correct / self.reviewed if self.reviewed else 0.0


def live_accuracy(session: Session, *, days: int = 30) -> list[AccuracyPoint]:
    """Per day: reviews of items the model had tagged, and how many kept the model's category."""
    since = utcnow() - timedelta(days=days)
    day = func.date(Review.created_at)
    correct = func.sum(case((Review.label == Review.predicted_label, 1), else_=0))
    rows = session.execute(
        select(day, func.count(Review.id), correct)
        .where(Review.predicted_label.is_not(None), Review.created_at >= since)
        .group_by(day)
        .order_by(day)
    ).all()
    return [AccuracyPoint(str(d), int(n), int(c or 0)) for d, n, c in rows]


def accuracy_by_version(session: Session) -> dict[int, tuple[int, int]]:
    """Per classifier version: (reviewed, correct) over the predictions staff reviewed."""
    correct = func.sum(case((Review.label == Review.predicted_label, 1), else_=0))
    rows = session.execute(
        select(Prediction.classifier_version_id, func.count(Review.id), correct)
        .join(Prediction, Review.prediction_id == Prediction.id)
        .group_by(Prediction.classifier_version_id)
    ).all()
    return {int(v): (int(n), int(c or 0)) for v, n, c in rows}

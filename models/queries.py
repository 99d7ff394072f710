"""All reads and writes of stored data. Callers pass a Session; nothing here commits."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, or_, select, update
from sqlalchemy.orm import Session, aliased

from models.db import NEW_JOBS, insert_ignoring_conflict, utcnow
from models.errors import NotFound
from models.tables import (
    Audio,
    ClassifierVersion,
    Department,
    Event,
    Job,
    Prediction,
    RoutingRule,
    Suggestion,
    Transcript,
)
from models.taxonomy import CATEGORIES

# No 0/O, 1/I/L: a villager reads the code aloud over the phone.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_tracking_code() -> str:
    """A short code a villager can read aloud: 8 unambiguous characters as XXXX-XXXX."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def seed_departments(session: Session) -> None:
    """Insert the default departments and category rules that are missing (idempotent)."""
    now = utcnow()
    for cat in CATEGORIES:
        seed = cat.department
        dept = session.scalar(select(Department).where(Department.code == seed.code))
        if dept is None:
            dept = Department(code=seed.code, name_zh=seed.zh, name_en=seed.en, created_at=now)
            session.add(dept)
            session.flush()
        rule = session.scalar(
            select(RoutingRule).where(RoutingRule.category == cat.code, RoutingRule.village.is_(None))
        )
        if rule is None:
            session.add(RoutingRule(category=cat.code, village=None, department_id=dept.id, created_at=now))
    session.flush()


def department_for(session: Session, category: str, village: str | None) -> Department | None:
    """The department a category goes to: a village-specific rule wins over the general one."""
    if village:
        rule = session.scalar(
            select(RoutingRule).where(RoutingRule.category == category, RoutingRule.village == village)
        )
        if rule is not None:
            return rule.department
    rule = session.scalar(
        select(RoutingRule).where(RoutingRule.category == category, RoutingRule.village.is_(None))
    )
    return rule.department if rule is not None else None


def find_audio(session: Session, sha256: str) -> Audio | None:
    """The stored audio with this content hash, if any."""
    return session.scalar(select(Audio).where(Audio.sha256 == sha256))


def ensure_audio(session: Session, *, sha256: str, **fields: Any) -> Audio:
    """The audio row for this content hash, inserted unless it exists (race-safe: two uploads of
    the same recording at once both end up pointing at the one row)."""
    insert_ignoring_conflict(session, Audio, {"sha256": sha256, "created_at": utcnow(), **fields}, ["sha256"])
    audio = find_audio(session, sha256)
    assert audio is not None
    return audio


def add_event(
    session: Session,
    suggestion: Suggestion,
    *,
    actor: str,
    kind: str,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """Append one history entry (at ``at``, default the current time)."""
    event = Event(
        suggestion_id=suggestion.id,
        at=at or utcnow(),
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        detail=detail or {},
    )
    session.add(event)
    return event


def create_suggestion(
    session: Session, *, status: str, actor: str, now: datetime | None = None, **fields: Any
) -> Suggestion:
    """Insert a suggestion with a fresh tracking code and its first history entry (at ``now``,
    default the current time)."""
    now = now or utcnow()
    while True:
        code = new_tracking_code()
        if session.scalar(select(Suggestion.id).where(Suggestion.tracking_code == code)) is None:
            break
    suggestion = Suggestion(tracking_code=code, submitted_at=now, updated_at=now, status=status, **fields)
    session.add(suggestion)
    session.flush()
    add_event(
        session,
        suggestion,
        actor=actor,
        kind="received",
        to_status=status,
        detail={"channel": suggestion.channel},
        at=now,
    )
    return suggestion


def set_status(
    session: Session,
    suggestion: Suggestion,
    status: str,
    *,
    actor: str,
    kind: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Move a suggestion to ``status`` and record the move in its history."""
    previous = suggestion.status
    suggestion.status = status
    suggestion.updated_at = utcnow()
    add_event(
        session, suggestion, actor=actor, kind=kind, from_status=previous, to_status=status, detail=detail
    )


def get_suggestion(session: Session, suggestion_id: int) -> Suggestion:
    """A suggestion by id, or NotFound."""
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise NotFound(f"No suggestion with id {suggestion_id}.")
    return suggestion


@dataclass(frozen=True)
class SuggestionRecord:
    """A suggestion with its transcript and newest prediction (each None until made)."""

    suggestion: Suggestion
    transcript: Transcript | None
    prediction: Prediction | None


def _record_statement() -> Select[Suggestion, Transcript, Prediction]:
    newer = aliased(Prediction)
    newest = (
        ~select(newer.id)
        .where(newer.suggestion_id == Prediction.suggestion_id, newer.id > Prediction.id)
        .exists()
    )
    return (
        select(Suggestion, Transcript, Prediction)
        .outerjoin(Transcript, Transcript.suggestion_id == Suggestion.id)
        .outerjoin(Prediction, (Prediction.suggestion_id == Suggestion.id) & newest)
        .where(Suggestion.id == bindparam("suggestion_id"))
    )


# Built once: constructing the aliased sub-select on every call cost more than the two queries it saves.
_RECORD = _record_statement()


def get_record(session: Session, suggestion_id: int) -> SuggestionRecord:
    """A suggestion, its department, transcript and newest prediction in one query, or NotFound.

    The staff read of a suggestion runs this on every request: one query instead of three.
    """
    row = session.execute(_RECORD, {"suggestion_id": suggestion_id}).first()
    if row is None:
        raise NotFound(f"No suggestion with id {suggestion_id}.")
    return SuggestionRecord(row[0], row[1], row[2])


# Built once (the public tracking look-up and the staff read run these on every request).
_BY_TRACKING_CODE = select(Suggestion).where(Suggestion.tracking_code == bindparam("code"))
_HISTORY = select(Event).where(Event.suggestion_id == bindparam("suggestion_id")).order_by(Event.id)


def normalise_tracking_code(code: str) -> str:
    """A tracking code as stored (``7K3F-9QMB``) from what a villager typed (any case, any dashes)."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else code


def unknown_tracking_code(code: str) -> NotFound:
    """The error for a tracking code that names no suggestion."""
    return NotFound(f"No suggestion has the tracking code {code!r}. Please check the code and try again.")


def get_by_tracking_code(session: Session, code: str) -> Suggestion:
    """A suggestion by its tracking code (case and dash insensitive), or NotFound."""
    suggestion = session.scalar(_BY_TRACKING_CODE, {"code": normalise_tracking_code(code)})
    if suggestion is None:
        raise unknown_tracking_code(code)
    return suggestion


def history(session: Session, suggestion_id: int) -> Sequence[Event]:
    """A suggestion's events, oldest first."""
    return session.scalars(_HISTORY, {"suggestion_id": suggestion_id}).all()


def transcript_for(session: Session, suggestion_id: int) -> Transcript | None:
    """The stored transcript of a suggestion's audio, if it has been transcribed."""
    return session.scalar(select(Transcript).where(Transcript.suggestion_id == suggestion_id))


def add_transcript(session: Session, suggestion_id: int, **fields: Any) -> Transcript:
    """Store a transcript (one per suggestion; the unique key makes a retry harmless)."""
    transcript = Transcript(suggestion_id=suggestion_id, created_at=utcnow(), **fields)
    session.add(transcript)
    session.flush()
    return transcript


def latest_prediction(session: Session, suggestion_id: int) -> Prediction | None:
    """The newest model prediction for a suggestion."""
    return session.scalar(
        select(Prediction).where(Prediction.suggestion_id == suggestion_id).order_by(Prediction.id.desc())
    )


def add_prediction(session: Session, suggestion_id: int, **fields: Any) -> Prediction:
    """Store a model prediction."""
    prediction = Prediction(suggestion_id=suggestion_id, created_at=utcnow(), **fields)
    session.add(prediction)
    session.flush()
    return prediction


# --- classifier versions -------------------------------------------------------------------------


def active_classifier(session: Session) -> ClassifierVersion | None:
    """The version the active pointer names, if any."""
    return session.scalar(select(ClassifierVersion).where(ClassifierVersion.state == "active"))


def add_classifier_version(session: Session, **fields: Any) -> ClassifierVersion:
    """Record a trained artefact (as a candidate unless ``state`` says otherwise)."""
    fields.setdefault("state", "candidate")
    version = ClassifierVersion(created_at=utcnow(), **fields)
    session.add(version)
    session.flush()
    return version


def activate_classifier(session: Session, version_id: int) -> ClassifierVersion:
    """Point the active pointer at ``version_id``; the previously active one is retired."""
    version = session.get(ClassifierVersion, version_id)
    if version is None:
        raise NotFound(f"No classifier version {version_id}.")
    session.execute(
        update(ClassifierVersion)
        .where(ClassifierVersion.state == "active", ClassifierVersion.id != version_id)
        .values(state="retired")
    )
    version.state = "active"
    session.flush()
    return version


# --- jobs ------------------------------------------------------------------------------------------


def enqueue(session: Session, kind: str, target: int | None, *, max_attempts: int = 3) -> Job:
    """Add a queued job row (committed together with the data it refers to); once it is committed,
    the factory's ``db.announce_jobs`` listener announces it."""
    now = utcnow()
    job = Job(
        kind=kind,
        suggestion_id=target,
        state="queued",
        attempts=0,
        max_attempts=max_attempts,
        run_after=now,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    session.info.setdefault(NEW_JOBS, []).append(job.id)  # announced after commit (db.announce_jobs)
    return job


def _runnable(now: datetime) -> ColumnElement[bool]:
    """Queued and due, or running under a lease that has run out (its worker vanished)."""
    return or_(
        (Job.state == "queued") & (Job.run_after <= now),
        (Job.state == "running") & (Job.lease_until < now),
    )


def _take(session: Session, job_id: int, worker: str, lease: timedelta, now: datetime) -> Job | None:
    """The conditional UPDATE behind every claim: exactly one racer sees a row count of 1."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, _runnable(now))
        .values(
            state="running",
            locked_by=worker,
            lease_until=now + lease,
            attempts=Job.attempts + 1,
            published_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = session.get(Job, job_id, populate_existing=True)
    assert job is not None
    return job


def claim_job(session: Session, worker: str, lease: timedelta, now: datetime | None = None) -> Job | None:
    """Take the oldest runnable job: queued and due, or running with an expired lease.

    The conditional UPDATE makes the claim atomic on every backend: when two workers race for
    the same row, only one sees a row count of 1.
    """
    now = now or utcnow()
    # On PostgreSQL, FOR UPDATE SKIP LOCKED lets concurrent workers pass over rows another worker
    # is claiming instead of queueing behind it; SQLite ignores it (its writers are serialised).
    candidates = session.scalars(
        select(Job.id)
        .where(_runnable(now))
        .order_by(Job.run_after, Job.id)
        .limit(5)
        .with_for_update(skip_locked=True)
    ).all()
    for job_id in candidates:
        job = _take(session, job_id, worker, lease, now)
        if job is not None:
            return job
    return None


def claim_job_by_id(
    session: Session, job_id: int, worker: str, lease: timedelta, now: datetime | None = None
) -> Job | None:
    """Take one named job if it is runnable (a broker message names it); None if it is not.

    None means another worker holds a live lease, the job is finished, or it is backing off:
    in every case the message that named it can be dropped, because the row decides.
    """
    return _take(session, job_id, worker, lease, now or utcnow())


def renew_lease(
    session: Session, job_id: int, worker: str, lease: timedelta, now: datetime | None = None
) -> bool:
    """Extend a running job's lease (the worker's heartbeat). False if the worker lost the job."""
    now = now or utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == "running", Job.locked_by == worker)
        .values(lease_until=now + lease, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _needs_message(now: datetime, stale_before: datetime) -> ColumnElement[bool]:
    return _runnable(now) & or_(Job.published_at.is_(None), Job.published_at < stale_before)


def jobs_needing_a_message(
    session: Session, stale: timedelta, now: datetime | None = None, limit: int = 500
) -> Sequence[int]:
    """Runnable jobs that no broker message carries (or whose message is older than ``stale``).

    These are jobs queued while the broker was down, jobs backing off after a failure that are
    due again, and jobs whose worker vanished (lease expired).
    """
    now = now or utcnow()
    return session.scalars(
        select(Job.id).where(_needs_message(now, now - stale)).order_by(Job.run_after, Job.id).limit(limit)
    ).all()


def mark_published(session: Session, job_id: int, stale: timedelta, now: datetime | None = None) -> bool:
    """Record that a message for a runnable job is about to be published.

    Conditional like a claim: when an API node and sweepers race to publish the same job, only
    one of them gets True and publishes, so the queue does not fill with duplicates.
    """
    now = now or utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, _needs_message(now, now - stale))
        .values(published_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def unmark_published(session: Session, job_id: int) -> None:
    """The publish failed: leave the job to the next sweep."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(published_at=None)
        .execution_options(synchronize_session=False)
    )


def finish_job(session: Session, job: Job) -> None:
    """Mark a job done."""
    job.state = "done"
    job.lease_until = None
    job.updated_at = utcnow()


def retry_or_fail_job(session: Session, job: Job, error: str, backoff: timedelta) -> bool:
    """Record a failure; requeue after ``backoff`` unless attempts are used up. True if it gave up."""
    job.last_error = error[:4000]
    job.updated_at = utcnow()
    job.lease_until = None
    if job.attempts >= job.max_attempts:
        job.state = "failed"
        return True
    job.state = "queued"
    job.run_after = utcnow() + backoff
    return False


def jobs_for(session: Session, suggestion_id: int) -> Sequence[Job]:
    """The jobs of a suggestion, oldest first."""
    return session.scalars(select(Job).where(Job.suggestion_id == suggestion_id).order_by(Job.id)).all()

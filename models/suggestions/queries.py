"""Reads and writes of suggestions, their audio, transcripts, predictions and history.
Callers pass a Session; nothing here commits."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from models.db import insert_ignoring_conflict, utcnow
from models.errors import InvalidInput, NotFound
from models.suggestions.tables import (
    Audio,
    Event,
    Prediction,
    Suggestion,
    Transcript,
)

# No 0/O, 1/I/L: a villager reads the code aloud over the phone.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_tracking_code() -> str:
    """A short code a villager can read aloud: 8 unambiguous characters as XXXX-XXXX."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


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
        raise NotFound("No suggestion with id %(suggestion_id)s.", suggestion_id=suggestion_id)
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
        raise NotFound("No suggestion with id %(suggestion_id)s.", suggestion_id=suggestion_id)
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
    return NotFound(
        "No suggestion has the tracking code '%(code)s'. Please check the code and try again.", code=code
    )


def get_by_tracking_code(session: Session, code: str) -> Suggestion:
    """A suggestion by its tracking code (case and dash insensitive), or NotFound."""
    suggestion = session.scalar(_BY_TRACKING_CODE, {"code": normalise_tracking_code(code)})
    if suggestion is None:
        raise unknown_tracking_code(code)
    return suggestion


#: The longest search a clerk may type (a sentence's worth); longer is refused, not cut.
MAX_SEARCH_CHARS = 100


def search(session: Session, query: str, *, by_phone: bool, limit: int = 50) -> Sequence[Suggestion]:
    """Suggestions whose tracking code, village or text contains ``query`` (and phone number, when
    ``by_phone``: only for those who may see every villager's contact), newest first."""
    query = query.strip()
    if not query:
        return []
    if len(query) > MAX_SEARCH_CHARS:
        raise InvalidInput(
            "A search is at most %(max_search_chars)s characters.", max_search_chars=MAX_SEARCH_CHARS
        )
    matches = [
        Suggestion.tracking_code == normalise_tracking_code(query),
        Suggestion.village.contains(query, autoescape=True),
        Suggestion.text.contains(query, autoescape=True),
    ]
    digits = "".join(ch for ch in query if ch.isdigit())
    if by_phone and len(digits) >= 4:
        matches.append(Suggestion.submitter_phone.contains(digits, autoescape=True))
    stmt = (
        select(Suggestion).where(or_(*matches)).order_by(Suggestion.submitted_at.desc(), Suggestion.id.desc())
    )
    return session.scalars(stmt.limit(limit)).all()


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

"""Staff actions on a consultation (publish, correct a stance, record a meeting, set the outcome)
and the link that makes a villager's suggestion an opinion on it.

Nothing here commits. Each staff action takes the acting username and the time explicitly and
appends an audit entry.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.consultation import queries
from models.consultation.tables import Clause, Consultation, Meeting, Opinion
from models.consultation.words import MeetingKind, Outcome, Stance
from models.directory.queries import audit
from models.errors import N_, Conflict, InvalidInput
from models.themes import store as theme_store

#: Letters and digits no one misreads on a printed poster (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
MAX_TITLE_CHARS = 300
MAX_TEXT_CHARS = 20_000
MAX_CLAUSES = 300
MAX_FIELD_CHARS = 300

# A clause starts at a line opening with "第十二条", "12.", "12、", "(12)" or "（12）".
_CLAUSE_START = re.compile(r"^\s*(?:第[零〇一二三四五六七八九十百千\d]+条|[(（]?\d{1,3}[)）.、．](?!\d))")


class ConsultationConflict(Conflict):
    """The action clashes with the consultation's state (already published, outcome already set)."""

    kind = "ConsultationConflict"


def _text(value: str | None, what: str, limit: int, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput("Please fill in the %(what)s.", what=what)
        return None
    if len(text) > limit:
        raise InvalidInput(
            "The %(what)s is too long (%(text)s characters; at most %(limit)s).",
            what=what,
            text=len(text),
            limit=limit,
        )
    return text


def split_clauses(draft: str | None) -> list[str]:
    """The numbered clauses of a draft text, in order.

    A line opening with 第…条 or a number (``1.``, ``1、``, ``(1)``) starts a clause and the lines
    after it belong to it (a heading before the first is dropped); a draft without such lines is
    split at blank lines instead.
    """
    lines = (draft or "").replace("\r\n", "\n").split("\n")
    if any(_CLAUSE_START.match(line) for line in lines):
        clauses: list[list[str]] = []
        for line in lines:
            if _CLAUSE_START.match(line):
                clauses.append([])
            if clauses and line.strip():  # lines before the first clause (a heading) are dropped
                clauses[-1].append(line.strip())
        return ["\n".join(c) for c in clauses]
    paragraphs = re.split(r"\n\s*\n", "\n".join(lines))
    return [p.strip() for p in paragraphs if p.strip()]


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Consultation.id).where(Consultation.short_code == code)) is None:
            return code


def publish(
    session: Session,
    *,
    title: str | None,
    description: str | None,
    draft: str | None = None,
    topic_id: int | None = None,
    actor: str,
    now: datetime,
) -> Consultation:
    """Publish a topic at a fresh short link: from a promoted theme's topic, or directly.

    From a topic, the title and description default to the topic's; a topic is published once.
    """
    if topic_id is not None:
        topic = theme_store.get_topic(session, topic_id)
        if session.scalar(select(Consultation.id).where(Consultation.topic_id == topic_id)):
            raise ConsultationConflict(
                "Consultation topic %(topic_id)s is published already.", topic_id=topic_id
            )
        title = title or topic.title
        description = description or topic.note
    clean_title = _text(title, N_("title"), MAX_TITLE_CHARS, required=True)
    assert clean_title is not None
    clauses = split_clauses(_text(draft, N_("draft text"), MAX_TEXT_CHARS))
    if len(clauses) > MAX_CLAUSES:
        raise InvalidInput(
            "The draft has %(clauses)s clauses; at most %(max_clauses)s can be asked about.",
            clauses=len(clauses),
            max_clauses=MAX_CLAUSES,
        )
    consultation = Consultation(
        short_code=_new_code(session),
        topic_id=topic_id,
        title=clean_title,
        description=_text(description, N_("description"), MAX_TEXT_CHARS),
        published_by=actor,
        published_at=now,
    )
    session.add(consultation)
    session.flush()
    for number, text in enumerate(clauses, start=1):
        session.add(Clause(consultation_id=consultation.id, number=number, text=text))
    session.flush()
    audit(session, actor=actor, now=now, entity="consultation", key=str(consultation.id), action="create",
          after={"code": consultation.short_code, "topic": topic_id, "clauses": len(clauses)})  # fmt: skip
    return consultation


def opinion_link(session: Session, short_code: str, clause: int | None) -> Callable[[Session, int], None]:
    """Check that the topic is open for opinions (and the clause exists), and return the ``attach``
    hook that links the new suggestion to it in the intake's own transaction."""
    consultation = queries.by_code(session, short_code)
    if consultation.outcome is not None:
        raise ConsultationConflict("This topic is closed and takes no more opinions.")
    if clause is not None and session.get(Clause, (consultation.id, clause)) is None:
        raise InvalidInput("This topic has no clause %(clause)s.", clause=clause)
    consultation_id = consultation.id

    def attach(session: Session, suggestion_id: int) -> None:
        session.add(
            Opinion(suggestion_id=suggestion_id, consultation_id=consultation_id, clause_number=clause)
        )

    return attach


def record_machine_stance(session: Session, suggestion_id: int, stance: Stance, now: datetime) -> bool:
    """Store the classifier's stance of an opinion, unless staff already decided it; whether stored."""
    opinion = session.get(Opinion, suggestion_id)
    if opinion is None or opinion.stance_source == "staff":
        return False
    opinion.stance = stance
    opinion.stance_source = "machine"
    opinion.stance_at = now
    return True


def correct_stance(
    session: Session, suggestion_id: int, stance: str, *, actor: str, now: datetime
) -> Opinion:
    """A staff member's stance for an opinion (kept through later machine passes)."""
    if stance not in set(Stance):
        raise InvalidInput(
            "Unknown stance '%(stance)s'; use one of %(stance2)s.", stance=stance, stance2=", ".join(Stance)
        )
    opinion = queries.get_opinion(session, suggestion_id)
    before = opinion.stance
    opinion.stance = stance
    opinion.stance_source = "staff"
    opinion.stance_by = actor
    opinion.stance_at = now
    audit(session, actor=actor, now=now, entity="consultation_opinion", key=str(suggestion_id),
          action="update", before={"stance": before}, after={"stance": stance})  # fmt: skip
    return opinion


def record_meeting(
    session: Session,
    consultation_id: int,
    *,
    kind: str,
    held_on: date,
    place: str | None,
    deputies: str | None,
    departments: str | None,
    minutes: str | None,
    decisions: str | None,
    actor: str,
    now: datetime,
) -> Meeting:
    """Record the reception or meeting held on a topic: who came, what was said and decided."""
    consultation = queries.get(session, consultation_id)
    if kind not in set(MeetingKind):
        raise InvalidInput(
            "Unknown meeting kind '%(kind)s'; use one of %(meetingkind)s.",
            kind=kind,
            meetingkind=", ".join(MeetingKind),
        )
    clean_place = _text(place, N_("place"), MAX_FIELD_CHARS, required=True)
    assert clean_place is not None
    meeting = Meeting(
        consultation_id=consultation.id,
        kind=kind,
        held_on=held_on,
        place=clean_place,
        deputies=_text(deputies, N_("list of deputies"), MAX_TEXT_CHARS),
        departments=_text(departments, N_("list of departments"), MAX_TEXT_CHARS),
        minutes=_text(minutes, N_("minutes"), MAX_TEXT_CHARS),
        decisions=_text(decisions, N_("decisions"), MAX_TEXT_CHARS),
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(meeting)
    session.flush()
    audit(session, actor=actor, now=now, entity="consultation_meeting", key=str(meeting.id), action="create",
          after={"consultation": consultation.id, "kind": kind, "held_on": held_on.isoformat()})  # fmt: skip
    return meeting


def set_outcome(
    session: Session, consultation_id: int, outcome: str, note: str | None, *, actor: str, now: datetime
) -> Consultation:
    """Close the topic with its outcome; it takes no more opinions. Set once."""
    consultation = queries.get(session, consultation_id)
    if outcome not in set(Outcome):
        raise InvalidInput(
            "Unknown outcome '%(outcome)s'; use one of %(outcome2)s.",
            outcome=outcome,
            outcome2=", ".join(Outcome),
        )
    if consultation.outcome is not None:
        raise ConsultationConflict("Topic %(id)s already has its outcome.", id=consultation.id)
    consultation.outcome = outcome
    consultation.outcome_note = _text(note, N_("outcome note"), MAX_TEXT_CHARS)
    consultation.outcome_by = actor
    consultation.outcome_at = now
    audit(session, actor=actor, now=now, entity="consultation", key=str(consultation.id), action="update",
          after={"outcome": outcome})  # fmt: skip
    return consultation

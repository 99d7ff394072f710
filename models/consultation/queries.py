"""Reading consultations: by short code or id, their clauses, opinions, counts, meetings, and the
outcome a villager's tracking page shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.consultation.tables import Clause, Consultation, Meeting, Opinion
from models.errors import NotFound
from models.suggestions.tables import Suggestion
from models.themes.tables import ConsultationTopic, ThemeMember


def normalise_code(code: str) -> str:
    """A short code as printed: upper case, without spaces or dashes a reader may have typed."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def by_code(session: Session, short_code: str) -> Consultation:
    """A published topic by its short code (case insensitive), or NotFound."""
    found = session.scalar(select(Consultation).where(Consultation.short_code == normalise_code(short_code)))
    if found is None:
        raise NotFound("No topic at this address. Check the link on the poster.")
    return found


def get(session: Session, consultation_id: int) -> Consultation:
    """A published topic by id, or NotFound."""
    found = session.get(Consultation, consultation_id)
    if found is None:
        raise NotFound("No published topic with id %(consultation_id)s.", consultation_id=consultation_id)
    return found


def listing(session: Session) -> list[Consultation]:
    """Every published topic, newest first."""
    return list(session.scalars(select(Consultation).order_by(Consultation.id.desc())))


def published_topic_ids(session: Session) -> dict[int, int]:
    """Consultation topic id → the id of its publication, for the topics published so far."""
    rows = session.execute(
        select(Consultation.topic_id, Consultation.id).where(Consultation.topic_id.is_not(None))
    ).all()
    return {int(topic_id): int(cid) for topic_id, cid in rows if topic_id is not None}


def clauses(session: Session, consultation_id: int) -> list[Clause]:
    """The numbered clauses of a topic's draft, in order."""
    return list(
        session.scalars(
            select(Clause).where(Clause.consultation_id == consultation_id).order_by(Clause.number)
        )
    )


def get_opinion(session: Session, suggestion_id: int) -> Opinion:
    """An opinion by its suggestion's id, or NotFound."""
    opinion = session.get(Opinion, suggestion_id)
    if opinion is None:
        raise NotFound(
            "Suggestion %(suggestion_id)s is no opinion on a consultation topic.", suggestion_id=suggestion_id
        )
    return opinion


def opinions(session: Session, consultation_id: int) -> list[tuple[Opinion, Suggestion]]:
    """A topic's opinions with their suggestions, oldest first."""
    rows = session.execute(
        select(Opinion, Suggestion)
        .join(Suggestion, Suggestion.id == Opinion.suggestion_id)
        .where(Opinion.consultation_id == consultation_id)
        .order_by(Suggestion.submitted_at, Suggestion.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


@dataclass
class Counts:
    """How many opinions a topic has per stance (``None``: not yet classified) and per clause."""

    total: int = 0
    by_stance: dict[str | None, int] = field(default_factory=dict)
    by_clause: dict[int | None, dict[str | None, int]] = field(default_factory=dict)


def counts(session: Session, consultation_id: int) -> Counts:
    """Opinions per clause and stance, counted in SQL."""
    rows = session.execute(
        select(Opinion.clause_number, Opinion.stance, func.count())
        .where(Opinion.consultation_id == consultation_id)
        .group_by(Opinion.clause_number, Opinion.stance)
    ).all()
    result = Counts()
    for clause, stance, count in rows:
        n = int(count)
        result.total += n
        result.by_stance[stance] = result.by_stance.get(stance, 0) + n
        per = result.by_clause.setdefault(clause, {})
        per[stance] = per.get(stance, 0) + n
    return result


def meetings(session: Session, consultation_id: int) -> list[Meeting]:
    """The meetings held on a topic, in the order they were held."""
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.consultation_id == consultation_id)
            .order_by(Meeting.held_on, Meeting.id)
        )
    )


@dataclass(frozen=True)
class VillagerOutcome:
    """What a villager reads about the topic their suggestion fed into, once it has an outcome."""

    title: str
    outcome: str
    note: str | None
    decisions: list[str]


def outcome_for(session: Session, suggestion_id: int) -> VillagerOutcome | None:
    """The outcome of the topic a suggestion fed into (as a member of its theme, or as an opinion on
    it), with the meetings' decisions; None while it has none."""
    in_theme = (
        select(ConsultationTopic.id)
        .join(ThemeMember, ThemeMember.theme_id == ConsultationTopic.theme_id)
        .where(ThemeMember.suggestion_id == suggestion_id)
    )
    as_opinion = select(Opinion.consultation_id).where(Opinion.suggestion_id == suggestion_id)
    consultation = session.scalar(
        select(Consultation)
        .where(
            Consultation.outcome.is_not(None),
            or_(Consultation.topic_id.in_(in_theme), Consultation.id.in_(as_opinion)),
        )
        .order_by(Consultation.outcome_at.desc())
        .limit(1)
    )
    if consultation is None or consultation.outcome is None:
        return None
    decisions = [m.decisions for m in meetings(session, consultation.id) if m.decisions]
    return VillagerOutcome(consultation.title, consultation.outcome, consultation.outcome_note, decisions)

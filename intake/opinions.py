"""An opinion on a published consultation topic: its stance, classified once its text is known, and
its place on the topic (an opinion is never routed to a department nor checked for duplicates)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from classify.stance import classify_stance
from models.consultation import flow as consultation
from models.consultation.words import Stance
from models.db import utcnow
from models.suggestions import queries
from models.vocabulary import IN_PROCESSING, Channel, Status


def is_opinion(session: Session, suggestion_id: int) -> bool:
    """Whether the suggestion is an opinion on a consultation topic (it stays with the topic)."""
    return queries.get_suggestion(session, suggestion_id).channel == Channel.CONSULTATION


def classify_opinion(session: Session, suggestion_id: int) -> Stance | None:
    """Store the stance of the suggestion if it is an opinion with text (a staff-set stance stays).

    Safe to call again; returns the stance stored, or None when nothing was.
    """
    suggestion = queries.get_suggestion(session, suggestion_id)
    if not suggestion.text:
        return None
    stance = classify_stance(suggestion.text)
    return stance if consultation.record_machine_stance(session, suggestion_id, stance, utcnow()) else None


def record_opinion(session: Session, suggestion_id: int, actor: str) -> bool:
    """Classify the stance of an opinion whose text is known and mark it recorded on its topic.

    Skipped (False) for one still without text or already past processing; safe to call again.
    """
    suggestion = queries.get_suggestion(session, suggestion_id)
    if suggestion.status not in IN_PROCESSING or not suggestion.text:
        return False
    stance = classify_opinion(session, suggestion_id)
    queries.set_status(
        session, suggestion, Status.RECORDED, actor=actor, kind="opinion_recorded", detail={"stance": stance}
    )
    return True

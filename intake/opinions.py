"""An opinion on a published consultation topic: its stance, classified once its text is known."""

from __future__ import annotations

from sqlalchemy.orm import Session

from classify.stance import classify_stance
from models.consultation import flow as consultation
from models.consultation.words import Stance
from models.db import utcnow
from models.suggestions import queries


def classify_opinion(session: Session, suggestion_id: int) -> Stance | None:
    """Store the stance of the suggestion if it is an opinion with text (a staff-set stance stays).

    Safe to call again; returns the stance stored, or None when nothing was.
    """
    suggestion = queries.get_suggestion(session, suggestion_id)
    if not suggestion.text:
        return None
    stance = classify_stance(suggestion.text)
    return stance if consultation.record_machine_stance(session, suggestion_id, stance, utcnow()) else None

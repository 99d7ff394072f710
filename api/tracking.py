"""What a villager sees for a tracking code: status in plain words, department, result note, whether
they may rate; shared by the JSON API and the tracking page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.schemas import (
    TopicOutcomeOut,
    TrackOut,
)
from models.consultation import queries as consultation
from models.consultation.words import OUTCOME_NAMES
from models.suggestions import rating
from models.themes import store as theme_store
from models.vocabulary import DONE, ROUTED_OR_LATER, VILLAGER_NEXT_STEP, VILLAGER_STATUS_WORDS


def tracking_view(session: Session, tracking_code: str) -> TrackOut:
    """What the villager sees for a tracking code (blocking: runs in a worker thread)."""
    suggestion, original_status = theme_store.tracked(session, tracking_code)
    zh, en = VILLAGER_STATUS_WORDS.get(suggestion.status, (suggestion.status, suggestion.status))
    next_zh, next_en = VILLAGER_NEXT_STEP.get(suggestion.status, ("", ""))
    routed = suggestion.status in ROUTED_OR_LATER
    dept = suggestion.department if routed else None
    earlier = (
        VILLAGER_STATUS_WORDS.get(original_status, (original_status, original_status))
        if original_status
        else None
    )
    return TrackOut(
        tracking_code=suggestion.tracking_code,
        status=suggestion.status,
        status_zh=zh,
        status_en=en,
        next_zh=next_zh,
        next_en=next_en,
        category=suggestion.category if routed else None,
        department_zh=dept.name_zh if dept else None,
        department_en=dept.name_en if dept else None,
        result_note=suggestion.result_note if suggestion.status in DONE else None,
        can_rate=suggestion.status in DONE
        and suggestion.satisfaction is None
        and rating.villager_rates(suggestion),
        satisfaction=suggestion.satisfaction,
        already_reported=original_status is not None,
        already_reported_status_zh=earlier[0] if earlier else None,
        already_reported_status_en=earlier[1] if earlier else None,
        submitted_at=suggestion.submitted_at,
        updated_at=suggestion.updated_at,
        topic_outcome=_topic_outcome(session, suggestion.id),
    )


def _topic_outcome(session: Session, suggestion_id: int) -> TopicOutcomeOut | None:
    """The outcome of the consultation topic the suggestion fed into, once staff set it."""
    found = consultation.outcome_for(session, suggestion_id)
    if found is None:
        return None
    zh, en = OUTCOME_NAMES.get(found.outcome, (found.outcome, found.outcome))
    return TopicOutcomeOut(
        title=found.title, outcome=found.outcome, outcome_zh=zh, outcome_en=en, note=found.note,
        decisions=found.decisions,
    )  # fmt: skip

""" "问题解决了吗？": after a poor rating the villager says whether the problem was fixed.

Like FixMyStreet's questionnaire: a rating of 1–2★ asks the question once; "not fixed" reopens the
suggestion to the department or deputy that held it (``models.lifecycle.reopen``), "fixed" is only
recorded. Both answers go into the suggestion's history, and each rating is answered at most once.
The answer needs the receipt's rating key, like the rating itself (``models.rating``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.suggestions import lifecycle, queries, rating
from models.suggestions.lifecycle import RATED, REOPENED, WorkflowConflict
from models.suggestions.tables import Event, Suggestion
from models.vocabulary import DONE

#: Ratings at or below this many stars ask whether the problem was fixed.
ASK_AT_OR_BELOW = 2
#: The event of a villager saying that the problem was fixed after all.
CONFIRMED_FIXED = "confirmed_fixed"


class AlreadyAnswered(WorkflowConflict):
    """This rating's question was answered already (a second "not fixed" reopens nothing)."""

    kind = "AlreadyAnswered"


class NotAsked(WorkflowConflict):
    """There is no poor rating waiting for an answer."""

    kind = "NotAsked"


def _last_event_id(session: Session, suggestion_id: int, *kinds: str) -> int:
    found = session.scalar(
        select(func.max(Event.id)).where(Event.suggestion_id == suggestion_id, Event.kind.in_(kinds))
    )
    return int(found or 0)


def _answered(session: Session, suggestion: Suggestion) -> bool:
    """Whether an answer was given after the latest rating."""
    rated = _last_event_id(session, suggestion.id, RATED)
    return rated > 0 and _last_event_id(session, suggestion.id, REOPENED, CONFIRMED_FIXED) > rated


def asks(session: Session, suggestion: Suggestion) -> bool:
    """Whether the villager's page should ask "问题解决了吗？" now."""
    return (
        suggestion.status in DONE
        and suggestion.satisfaction is not None
        and suggestion.satisfaction <= ASK_AT_OR_BELOW
        and not _answered(session, suggestion)
    )


def reopened_by_villager(session: Session, suggestion: Suggestion) -> bool:
    """Whether the villager's "not fixed" sent this suggestion back and it is not finished again yet."""
    return suggestion.status not in DONE and _last_event_id(session, suggestion.id, REOPENED) > 0


def answer(
    session: Session, tracking_code: str, rating_key: str | None, *, fixed: bool, now: datetime
) -> Suggestion:
    """Record the villager's answer (with the receipt's rating key); "not fixed" reopens the suggestion."""
    suggestion = queries.get_by_tracking_code(session, tracking_code)
    reason = rating.refusal(suggestion, rating_key)
    if reason is not None:
        raise rating.RatingRefused(reason.message)
    if _answered(session, suggestion):
        raise AlreadyAnswered(
            "You have already answered whether the problem was fixed for this rating; nothing was changed."
        )
    if not asks(session, suggestion):
        raise NotAsked(
            "There is no poor rating waiting for this answer: the question is asked after a "
            "rating of %(ask_at_or_below)s stars or fewer on a finished suggestion.",
            ask_at_or_below=ASK_AT_OR_BELOW,
        )
    if fixed:
        session.add(
            Event(
                suggestion_id=suggestion.id,
                at=now,
                actor="villager",
                kind=CONFIRMED_FIXED,
                detail={"satisfaction": suggestion.satisfaction},
            )
        )
        return suggestion
    detail = {"satisfaction": suggestion.satisfaction, "comment": suggestion.satisfaction_comment}
    return lifecycle.reopen(session, suggestion.id, actor="villager", now=now, detail=detail)

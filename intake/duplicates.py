"""Duplicate detection at intake: a new suggestion very like an open one from the same place is flagged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from classify.themes import most_similar
from models.db import utcnow
from models.suggestions.tables import Suggestion
from models.themes import store as theme_store


@dataclass(frozen=True)
class DuplicatePolicy:
    """How far back to look and how similar (cosine of TF-IDF character n-grams) counts as the same issue."""

    window_days: float = 30.0
    min_similarity: float = 0.5


def flag_if_duplicate(
    session: Session,
    suggestion: Suggestion,
    policy: DuplicatePolicy,
    clock: Callable[[], datetime] = utcnow,
) -> int | None:
    """Link ``suggestion`` to the most similar open one from its village or address; returns its id.

    A flag only: the suggestion's status and routing are untouched. Safe to call twice.
    """
    if not suggestion.text or theme_store.duplicate_link(session, suggestion.id) is not None:
        return None
    since = suggestion.submitted_at - timedelta(days=policy.window_days)
    candidates = [
        c
        for c in theme_store.duplicate_candidates(session, suggestion, since)
        if c.id < suggestion.id  # only an earlier suggestion can be the original
    ]
    best = most_similar(suggestion.text, [c.text for c in candidates])
    if best is None or best[1] < policy.min_similarity:
        return None
    original = candidates[best[0]]
    theme_store.link_duplicate(session, suggestion, original.id, best[1], original.matched_on, clock())
    return original.id

"""Who may rate a suggestion: the villager holding its rating key, never whoever knows the tracking code.

Every staff role reads tracking codes, so a tracking code proves nothing about who is asking. Each
public submission therefore gets a random rating key that only the villager's receipt shows, once;
the database keeps only its sha256 (``Suggestion.rating_key_hash``), which staff views never show.
A 128-bit random key needs no slow hash: nobody can search that space, hashed or not.

Appointment topics (乡长有约) are rated only by the deputy who raised them, through
``models.appointments.flow.rate_item``; they have no rating key and are refused here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models.errors import N_
from models.suggestions import lifecycle, queries
from models.suggestions.lifecycle import NotPermitted
from models.suggestions.tables import Suggestion
from models.vocabulary import Channel

#: Random bytes in a rating key (token_urlsafe: 22 characters).
RATING_KEY_BYTES = 16
#: Longer (or non-ASCII) input is not a rating key; refused without hashing it.
MAX_RATING_KEY_CHARS = 100


@dataclass(frozen=True)
class Refusal:
    """Why a rating is refused: a message id (``models.errors``), shown on the page and in the error."""

    message: str

    @property
    def detail(self) -> str:
        """The English text (for logs and tests)."""
        return self.message


MISSING_KEY = Refusal(
    N_(
        "Only the link on your receipt lets you rate; the tracking code alone is not enough. "
        "Open the link from your receipt.",
    )
)
WRONG_KEY = Refusal(
    N_(
        "This link does not belong to this tracking code. Open the link from your receipt exactly as "
        "it was given.",
    )
)
NO_KEY_ON_FILE = Refusal(
    N_(
        "This suggestion was sent before rating links existed, so it cannot be rated online. "
        "Please call the township office to give your rating.",
    )
)
DEPUTY_RATES = Refusal(
    N_(
        "This is a topic raised with the township head; only the deputy who raised it rates it, "
        "on the staff pages.",
    )
)


class RatingRefused(NotPermitted):
    """The request to rate does not carry the villager's rating key (or the item is a deputy's)."""

    kind = "RatingRefused"


def new_rating_key() -> str:
    """A fresh rating key for a receipt (URL-safe text)."""
    return secrets.token_urlsafe(RATING_KEY_BYTES)


def rating_key_hash(key: str) -> str:
    """What the database stores for a rating key: its sha256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def villager_rates(suggestion: Suggestion) -> bool:
    """Whether the villager (not a deputy) is the one to rate this suggestion."""
    return suggestion.channel != Channel.APPOINTMENT


def refusal(suggestion: Suggestion, rating_key: str | None) -> Refusal | None:
    """Why the holder of ``rating_key`` may not rate ``suggestion``, or None when they may."""
    if not villager_rates(suggestion):
        return DEPUTY_RATES
    if suggestion.rating_key_hash is None:
        return NO_KEY_ON_FILE
    if not rating_key:
        return MISSING_KEY
    if len(rating_key) > MAX_RATING_KEY_CHARS or not rating_key.isascii():  # no key; nothing to hash
        return WRONG_KEY
    given = rating_key_hash(rating_key)
    if not hmac.compare_digest(given.encode("ascii"), suggestion.rating_key_hash.encode("ascii")):
        return WRONG_KEY
    return None


def rate_as_villager(
    session: Session,
    tracking_code: str,
    rating_key: str | None,
    *,
    score: int,
    comment: str | None,
    now: datetime,
) -> Suggestion:
    """The villager's rating (see ``lifecycle.rate``), only with the receipt's rating key."""
    suggestion = queries.get_by_tracking_code(session, tracking_code)
    reason = refusal(suggestion, rating_key)
    if reason is not None:
        raise RatingRefused(reason.message)
    return lifecycle.rate(session, suggestion.tracking_code, score=score, comment=comment, now=now)

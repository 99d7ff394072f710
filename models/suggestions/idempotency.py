"""Idempotency keys: a client's retry of the same submission returns the first result, stored once.

A villager's phone on a weak mobile link often sends an upload, loses the answer and sends it
again. With an ``Idempotency-Key`` header the second request finds the key stored in the same
transaction as the suggestion it created. The unique key, not a check before the insert, is what
makes two racing requests store one suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime
from models.db import insert_ignoring_conflict, utcnow
from models.errors import Conflict

MAX_KEY_LENGTH = 200


class IdempotencyConflict(Conflict):
    """The key was already used for a different submission."""

    kind = "IdempotencyConflict"


class IdempotencyKey(Base):
    """One client-chosen key and the suggestion its first request created."""

    __tablename__ = "idempotency_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), unique=True)
    # sha256 of what was submitted (text or audio hash, language, submitter fields).
    fingerprint: Mapped[str] = mapped_column(String(64))
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The rating key the first receipt showed, for this client's retries only (models.rating):
    # the suggestion keeps just its hash. NULL for keys stored before rating keys existed.
    rating_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


@dataclass(frozen=True)
class KeyUse:
    """What a key already stands for."""

    suggestion_id: int
    fingerprint: str
    rating_key: str | None


def find_key(session: Session, key: str) -> KeyUse | None:
    """The suggestion a key already created, if any."""
    row = session.execute(
        select(IdempotencyKey.suggestion_id, IdempotencyKey.fingerprint, IdempotencyKey.rating_key).where(
            IdempotencyKey.key == key
        )
    ).first()
    return KeyUse(row[0], row[1], row[2]) if row else None


def record_key(
    session: Session, key: str, fingerprint: str, suggestion_id: int, rating_key: str | None
) -> bool:
    """Store the key for ``suggestion_id`` (with the receipt's ``rating_key``, so a retry gets the
    same receipt); False (nothing written) when the key is already taken.

    On PostgreSQL a concurrent transaction holding the same key makes this wait until that one
    commits (then False) or rolls back (then True): exactly one of two racing requests wins.
    """
    return insert_ignoring_conflict(
        session,
        IdempotencyKey,
        {
            "key": key,
            "fingerprint": fingerprint,
            "suggestion_id": suggestion_id,
            "created_at": utcnow(),
            "rating_key": rating_key,
        },
        ["key"],
    )


def check_reuse(use: KeyUse, fingerprint: str, key: str) -> int:
    """The stored suggestion id when the same submission is repeated; IdempotencyConflict otherwise."""
    if use.fingerprint != fingerprint:
        raise IdempotencyConflict(
            "The Idempotency-Key '%(key)s' was already used for a different suggestion. Use "
            "a new key for a new suggestion; repeat a key only to resend exactly the same "
            "one.",
            key=key,
        )
    return use.suggestion_id

"""Sentence vectors kept in the database (table ``embedding_cache``), so each text is embedded once.

Rows are bytes by (encoder id, sha256 of the text); what the bytes mean is classify.meaning's
business. Writes are ``INSERT ... ON CONFLICT DO NOTHING``: two nodes that embed the same text at
once both succeed, and the first vector stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import upsert_insert, utcnow
from models.reviews.tables import EmbeddingCache

# Keys per SELECT ... IN (...) and rows per INSERT: well under SQLite's and psycopg's limits.
_CHUNK = 500


def get_vectors(session: Session, encoder: str, keys: Sequence[str]) -> dict[str, bytes]:
    """The stored vectors of ``encoder`` among ``keys`` (text sha256s), by key."""
    found: dict[str, bytes] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _CHUNK):
        rows = session.execute(
            select(EmbeddingCache.text_sha256, EmbeddingCache.vector).where(
                EmbeddingCache.encoder == encoder,
                EmbeddingCache.text_sha256.in_(unique[start : start + _CHUNK]),
            )
        )
        found.update((key, bytes(vector)) for key, vector in rows)
    return found


def put_vectors(session: Session, encoder: str, vectors: Mapping[str, bytes]) -> None:
    """Store ``vectors`` (text sha256 -> bytes) for ``encoder``; keys already stored keep their row."""
    if not vectors:
        return
    now = utcnow()
    rows = [
        {"encoder": encoder, "text_sha256": key, "vector": bytes(data), "created_at": now}
        for key, data in vectors.items()
    ]
    statement = upsert_insert(session)(EmbeddingCache.__table__).on_conflict_do_nothing(
        index_elements=["encoder", "text_sha256"]
    )
    for start in range(0, len(rows), _CHUNK):
        session.execute(statement, rows[start : start + _CHUNK])


def count_vectors(session: Session, encoder: str | None = None) -> int:
    """How many vectors are stored (of one ``encoder``, or of all)."""
    from sqlalchemy import func

    query = select(func.count()).select_from(EmbeddingCache)
    if encoder is not None:
        query = query.where(EmbeddingCache.encoder == encoder)
    return int(session.scalar(query) or 0)

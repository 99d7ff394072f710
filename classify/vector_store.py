"""Sentence vectors kept in a database, for classify.meaning.kept_vectors: every node shares them.

The product keeps them in its own database (table ``embedding_cache``); ``minsheng train`` can keep
them in a SQLite file of their own (vector_file), so retraining on the same texts embeds nothing.
A cache failure never fails a classification: the vector is embedded (again) instead, and the
failure is logged.

Writes run in their own short transaction. On SQLite, classify before writing in an open
transaction (as the product does), or the cache write waits for that transaction's lock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, unit_of_work
from models.reviews import embedding_cache
from models.reviews.tables import EmbeddingCache

log = logging.getLogger(__name__)


class DatabaseVectorStore:
    """Sentence vectors in the ``embedding_cache`` table of the database behind ``factory``."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        """A store over ``factory``'s database (its schema must have the table)."""
        self.factory = factory

    def load(self, encoder_id: str, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored vectors among ``keys`` ({} when the database cannot be read)."""
        try:
            with unit_of_work(self.factory) as session:
                return embedding_cache.get_vectors(session, encoder_id, keys)
        except SQLAlchemyError as exc:
            log.warning("sentence vectors could not be read from the cache: %s", type(exc).__name__)
            return {}

    def save(self, encoder_id: str, vectors: Mapping[str, bytes]) -> None:
        """Keep ``vectors`` (nothing happens when the database cannot be written)."""
        try:
            with unit_of_work(self.factory) as session:
                embedding_cache.put_vectors(session, encoder_id, vectors)
        except SQLAlchemyError as exc:
            log.warning("sentence vectors could not be kept in the cache: %s", type(exc).__name__)


def vector_file(path: Path) -> DatabaseVectorStore:
    """A store in the SQLite file ``path`` (created with its one table if missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    table = EmbeddingCache.__table__
    assert isinstance(table, Table)
    table.create(engine, checkfirst=True)
    return DatabaseVectorStore(make_session_factory(engine))

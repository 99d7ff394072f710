"""The migrations build exactly the declared schema, on an empty database and again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from models.base import Base
from models.db import make_engine, upgrade
from tests.databases import TestDatabases


def test_migrations_build_exactly_the_declared_schema(db_factory: sessionmaker[Session]) -> None:
    with db_factory() as session:
        diff = compare_metadata(MigrationContext.configure(session.connection()), Base.metadata)
    assert diff == []


def test_upgrade_builds_an_empty_database_and_is_idempotent(test_databases: TestDatabases) -> None:
    engine = make_engine(test_databases.new(migrated=False))
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    upgrade(engine)
    upgrade(engine)
    engine.dispose()

"""Migration 0010 (embedding cache): follows 0009, matches the table model, and goes down and up cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from models.base import Base
from models.db import MIGRATIONS_DIR, make_engine
from tests.databases import TestDatabases


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_0010_follows_0009_on_the_one_line_of_migrations() -> None:
    script = ScriptDirectory.from_config(_config(None))
    revision = script.get_revision("0010_embedding_cache")
    assert revision is not None and revision.down_revision == "0009_rating_keys"
    (head,) = script.get_heads()
    assert "0010_embedding_cache" in {r.revision for r in script.iterate_revisions(head, "base")}


def test_0010_downgrades_and_upgrades_cleanly(test_databases: TestDatabases) -> None:
    engine = make_engine(test_databases.new())
    try:
        with engine.begin() as conn:
            assert "embedding_cache" in inspect(conn).get_table_names()
            # The migrated table is the one the model describes (no difference for autogenerate).
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d for d in diffs if "embedding_cache" in repr(d)] == []
            command.downgrade(_config(conn), "0009_rating_keys")
        with engine.begin() as conn:
            assert "embedding_cache" not in inspect(conn).get_table_names()
            assert MigrationContext.configure(conn).get_current_revision() == "0009_rating_keys"
            command.upgrade(_config(conn), "head")
        with engine.begin() as conn:
            assert "embedding_cache" in inspect(conn).get_table_names()
            head = ScriptDirectory.from_config(_config(None)).get_current_head()
            assert MigrationContext.configure(conn).get_current_revision() == head
            columns = {c["name"] for c in inspect(conn).get_columns("embedding_cache")}
            assert columns == {"encoder", "text_sha256", "vector", "created_at"}
            assert inspect(conn).get_pk_constraint("embedding_cache")["constrained_columns"] == [
                "encoder",
                "text_sha256",
            ]
    finally:
        engine.dispose()

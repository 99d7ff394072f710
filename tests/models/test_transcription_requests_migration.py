"""Migration 0013 (transcription requests of the OpenAI-compatible API): the head, matching the
table model, and goes down and up cleanly."""

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

REVISION = "0013_transcription_requests"


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_0013_is_in_the_chain() -> None:  # the head is checked in tests/models/test_migrations.py
    assert ScriptDirectory.from_config(_config(None)).get_revision(REVISION) is not None


def test_0013_downgrades_and_upgrades_cleanly(test_databases: TestDatabases) -> None:
    script = ScriptDirectory.from_config(_config(None))
    before = script.get_revision(REVISION).down_revision  # type: ignore[union-attr]
    assert isinstance(before, str)
    engine = make_engine(test_databases.new())
    try:
        with engine.begin() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d for d in diffs if "transcription_requests" in repr(d)] == []
            command.downgrade(_config(conn), before)
        with engine.begin() as conn:
            assert "transcription_requests" not in inspect(conn).get_table_names()
            command.upgrade(_config(conn), "head")
        with engine.begin() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == script.get_current_head()
            assert {i["name"] for i in inspect(conn).get_indexes("transcription_requests")} == {
                "ix_transcription_requests_state"
            }
    finally:
        engine.dispose()

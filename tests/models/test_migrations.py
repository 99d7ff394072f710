"""The newest migrations: each follows the one before, matches the table model, and goes down and up
cleanly, keeping the rows it touches."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from models.base import Base
from models.db import MIGRATIONS_DIR, make_engine
from tests.databases import TestDatabases

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_the_chain_is_linear_up_to_the_head() -> None:
    script = ScriptDirectory.from_config(_config(None))
    revision = script.get_revision("0010_embedding_cache")
    assert revision is not None and revision.down_revision == "0009_rating_keys"
    revision = script.get_revision("0011_job_target")
    assert revision is not None and revision.down_revision == "0010_embedding_cache"
    revision = script.get_revision("0012_paper_drafts")
    assert revision is not None and revision.down_revision == "0011_job_target"
    revision = script.get_revision("0013_transcription_requests")
    assert revision is not None and revision.down_revision == "0012_paper_drafts"
    revision = script.get_revision("0014_township_terms")
    assert revision is not None and revision.down_revision == "0013_transcription_requests"
    revision = script.get_revision("0015_consultations")
    assert revision is not None and revision.down_revision == "0014_township_terms"
    revision = script.get_revision("0016_transcript_unsure_words")
    assert revision is not None and revision.down_revision == "0015_consultations"
    assert script.get_heads() == ["0016_transcript_unsure_words"]


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
            command.upgrade(_config(conn), "0010_embedding_cache")
        with engine.begin() as conn:
            assert "embedding_cache" in inspect(conn).get_table_names()
            assert MigrationContext.configure(conn).get_current_revision() == "0010_embedding_cache"
            columns = {c["name"] for c in inspect(conn).get_columns("embedding_cache")}
            assert columns == {"encoder", "text_sha256", "vector", "created_at"}
            assert inspect(conn).get_pk_constraint("embedding_cache")["constrained_columns"] == [
                "encoder",
                "text_sha256",
            ]
    finally:
        engine.dispose()


def test_0011_renames_the_job_target_and_keeps_it(test_databases: TestDatabases) -> None:
    engine = make_engine(test_databases.new())
    try:
        with engine.begin() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d for d in diffs if "jobs" in repr(d)] == []
            command.downgrade(_config(conn), "0010_embedding_cache")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO suggestions (id, tracking_code, channel, requested_language, status,"
                    " submitted_at, updated_at) VALUES (7, 'ABCDEFGH', 'text', 'zh', 'received', :t, :t)"
                ),
                {"t": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO jobs (kind, suggestion_id, state, attempts, max_attempts, run_after,"
                    " created_at, updated_at) VALUES ('process_suggestion', 7, 'queued', 0, 3, :t, :t, :t)"
                ),
                {"t": T0},
            )
            command.upgrade(_config(conn), "head")
        with engine.begin() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0016_transcript_unsure_words"
            columns = {c["name"] for c in inspect(conn).get_columns("jobs")}
            assert "target_id" in columns and "suggestion_id" not in columns
            assert inspect(conn).get_foreign_keys("jobs") == []
            assert conn.execute(text("SELECT kind, target_id FROM jobs")).all() == [("process_suggestion", 7)]
            # A job may now name something that is not a suggestion.
            conn.execute(
                text(
                    "INSERT INTO jobs (kind, target_id, state, attempts, max_attempts, run_after,"
                    " created_at, updated_at) VALUES ('other', 999, 'queued', 0, 3, :t, :t, :t)"
                ),
                {"t": T0},
            )
    finally:
        engine.dispose()


def test_0016_adds_the_unsure_word_share_and_keeps_transcripts(test_databases: TestDatabases) -> None:
    engine = make_engine(test_databases.new())
    try:
        with engine.begin() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d for d in diffs if "transcripts" in repr(d)] == []
            command.downgrade(_config(conn), "0015_consultations")
        with engine.begin() as conn:
            assert "unsure_word_share" not in {c["name"] for c in inspect(conn).get_columns("transcripts")}
            conn.execute(
                text(
                    "INSERT INTO suggestions (id, tracking_code, channel, requested_language, status,"
                    " submitted_at, updated_at) VALUES (7, 'ABCDEFGH', 'voice', 'zh', 'transcribed', :t, :t)"
                ),
                {"t": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO transcripts (suggestion_id, engine, model, language, language_probability,"
                    " text, segments, dropped_segments, confidence, seconds, created_at)"
                    " VALUES (7, 'faster-whisper', 'whisper-base/int8', 'zh', 1.0, '路灯坏了', '[]', '[]',"
                    " 0.7, 1.0, :t)"
                ),
                {"t": T0},
            )
            command.upgrade(_config(conn), "head")
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT text, unsure_word_share FROM transcripts")).all()
            assert [tuple(r) for r in rows] == [("路灯坏了", None)]
    finally:
        engine.dispose()

"""Engine set-up per backend, and the portable types (UTC datetimes, JSON) on whichever one runs."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models.db import is_sqlite, make_engine, unit_of_work
from models.suggestions import queries
from models.suggestions.tables import Suggestion
from models.vocabulary import Status


@pytest.mark.usefixtures("require_sqlite")
def test_sqlite_connections_use_wal_and_foreign_keys(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.mark.usefixtures("require_postgres")
def test_postgres_engine_is_pooled_and_an_unreachable_server_fails_fast(database_url: str) -> None:
    engine = make_engine(database_url)
    assert engine.dialect.driver == "psycopg"
    assert engine.pool.size() == 20  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    nowhere = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/x", connect_timeout=2)
    started = time.monotonic()
    with pytest.raises(OperationalError):
        nowhere.connect()
    assert time.monotonic() - started < 5
    nowhere.dispose()


@pytest.mark.usefixtures("require_postgres")
def test_a_pool_as_big_as_the_requests_in_flight_reuses_its_connections(database_url: str) -> None:
    """No connection is opened per request once the pool holds as many as are in use at once."""
    engine = make_engine(database_url, pool_size=3, max_overflow=5)
    opened: list[object] = []
    event.listen(engine, "connect", lambda conn, _record: opened.append(conn))
    for _ in range(4):  # four rounds of three requests in flight together
        held = [engine.connect() for _ in range(3)]
        for conn in held:
            conn.execute(text("SELECT 1"))
            conn.close()
    assert len(opened) == 3
    engine.dispose()


def test_is_sqlite() -> None:
    assert is_sqlite("sqlite:////tmp/x.db")
    assert not is_sqlite("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def test_datetimes_come_back_as_utc_whatever_zone_they_were_written_in(
    db_factory: sessionmaker[Session],
) -> None:
    shanghai = timezone(timedelta(hours=8))
    due = datetime(2026, 11, 23, 9, 30, tzinfo=shanghai)
    with unit_of_work(db_factory) as session:
        s = queries.create_suggestion(
            session, status=Status.RECEIVED, actor="villager", channel="text", text="x", due_at=due
        )
    with db_factory() as session:
        stored = session.get(Suggestion, s.id)
        assert stored is not None and stored.due_at is not None
        assert stored.due_at.tzinfo is not None and stored.due_at.utcoffset() == timedelta(0)
        assert stored.due_at == due == datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
        assert stored.submitted_at.utcoffset() == timedelta(0)


def test_json_columns_keep_nested_unicode_data(db_factory: sessionmaker[Session]) -> None:
    detail = {"说明": "村口的桥", "scores": [0.5, 1], "nested": {"ok": True, "none": None}}
    with unit_of_work(db_factory) as session:
        s = queries.create_suggestion(session, status=Status.RECEIVED, actor="villager", channel="text")
        queries.set_status(session, s, Status.ROUTED, actor="staff", kind="routed", detail=detail)
    with db_factory() as session:
        assert queries.history(session, s.id)[-1].detail == detail

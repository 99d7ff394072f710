"""Engine and session set-up, the unit of work, and schema upgrades on start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from models.errors import Unavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached; the caller should retry later."""

    kind = "DatabaseUnavailable"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


# Advisory lock key that serialises schema upgrades when several processes start at once (PG only).
_UPGRADE_LOCK = 0x6D696E73  # "mins"


def is_sqlite(url: str) -> bool:
    """Whether a SQLAlchemy URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 20, max_overflow: int = 10, connect_timeout: int = 5) -> Engine:
    """Create an engine for SQLite (the embedded default) or PostgreSQL through psycopg 3.

    PostgreSQL gets ``pool_pre_ping`` so a connection dropped by a database restart is replaced
    instead of failing a request (a local SQLite file cannot drop a connection, and the ping was
    one extra query per checkout on every request). SQLite gets WAL, foreign keys and a busy
    timeout for the worker threads. PostgreSQL gets a bounded pool (``pool_size`` +
    ``max_overflow`` connections per process, waiting at most ``connect_timeout`` seconds for one)
    and a connect timeout, so an unreachable server turns into a quick, clear error instead of a
    hung request.

    ``pool_size`` connections are kept open; an overflow connection is closed when it is handed
    back, so steady traffic with more requests in flight than ``pool_size`` opens and closes a
    connection per request, and PostgreSQL starts a backend process for each. With 16 reads in
    flight and the old pool of 10, that churn was two thirds of PostgreSQL's CPU per read
    (1.34 ms -> 0.55 ms per staff read with a pool of 20; see README, "Benchmarks").
    """
    # hide_parameters: row values (villagers' names and phones) never appear in SQL logs or errors.
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    sqlite = is_sqlite(url)
    if sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=connect_timeout,
            pool_recycle=1800,
            connect_args={"connect_timeout": connect_timeout, "application_name": "minsheng"},
        )
    engine = create_engine(url, **kwargs)
    if sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def upsert_insert(session: Session) -> Any:
    """The ``insert`` of the session's dialect, the one with ``on_conflict_do_nothing``."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")  # pragma: no cover


def insert_ignoring_conflict(
    session: Session, model: type[Any], values: dict[str, Any], conflict_columns: list[str]
) -> bool:
    """INSERT one row of ``model`` unless it breaks the unique key on ``conflict_columns``; True if inserted.

    ``INSERT ... ON CONFLICT DO NOTHING`` on both SQLite and PostgreSQL: race-safe where a
    select-then-insert is not, and it never aborts the surrounding transaction.
    """
    insert = upsert_insert(session)
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    # RETURNING tells reliably whether a row went in (ORM-enabled inserts report rowcount -1).
    primary_key = sa_inspect(model).primary_key
    return session.execute(stmt.returning(*primary_key)).first() is not None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The one place that commits: commit on success, roll back on any error, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (run on every start; cheap when current)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two API or worker nodes starting together must not both create the tables.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")

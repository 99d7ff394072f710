"""Fresh databases for tests, on SQLite or on the PostgreSQL server named by MINSHENG_TEST_DATABASE_URL.

Every test that stores anything gets its own database from here, so the same test runs on both
backends. The fixtures in tests/conftest.py (``database_url``, ``db_factory``, ``test_databases``)
and the helpers in tests/api/conftest.py (``make_client``, ``start_server``) use it; call
:func:`fresh_database_url` directly where a fixture does not fit (a second database, a server
subprocess).

PostgreSQL: one session makes databases named ``minsheng_test_<random>_*`` only, never touches
any other database, and drops all of its own at the end. A migrated template database is built
once per session and cloned per test with ``CREATE DATABASE ... TEMPLATE`` (tens of milliseconds).
SQLite: a migrated template file is copied per test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from models.db import make_engine, upgrade

ENV_VAR = "MINSHENG_TEST_DATABASE_URL"


class TestDatabases:
    """Hands out fresh databases of one backend for one test session, and removes them after."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, server_url: str | None, workdir: Path) -> None:
        self.server_url = server_url
        self.workdir = workdir
        self.prefix = f"minsheng_test_{secrets.token_hex(4)}_"
        self._made: list[str] = []
        self._lock = threading.Lock()
        self._admin: Engine | None = None
        self._template: str | None = None

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return "sqlite" if self.server_url is None else "postgresql"

    def new(self, *, migrated: bool = True) -> str:
        """The URL of a new database: with the newest schema and no rows, or entirely empty."""
        with self._lock:
            name = f"{self.prefix}{len(self._made)}"
            if self.server_url is None:
                path = self.workdir / f"{name}.db"
                if migrated:
                    shutil.copyfile(self._sqlite_template(), path)
                url = f"sqlite:///{path}"
            else:
                template = self._pg_template() if migrated else "template0"
                self._pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                url = self._pg_url(name)
            self._made.append(name)
            return url

    def close(self) -> None:
        """Drop every database this session made (PostgreSQL) — and only those."""
        if self.server_url is None:
            return
        names = [*self._made, *([self._template] if self._template else [])]
        assert all(name.startswith(self.prefix) for name in names)
        # Each DROP DATABASE waits for a checkpoint; issued together they share one.
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda n: self._pg_execute(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)'), names))
        self._made.clear()
        if self._admin is not None:
            self._admin.dispose()

    def _sqlite_template(self) -> Path:
        path = self.workdir / f"{self.prefix}template.db"
        if not path.exists():
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            engine.dispose()
        return path

    def _pg_template(self) -> str:
        if self._template is None:
            name = f"{self.prefix}template"
            self._pg_execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
            self._template = name
            engine = make_engine(self._pg_url(name))
            upgrade(engine)
            engine.dispose()  # a template must have no open connections to be cloned
        return self._template

    def _pg_url(self, name: str) -> str:
        assert self.server_url is not None
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def _admin_engine(self) -> Engine:
        if self._admin is None:
            assert self.server_url is not None
            self._admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        return self._admin

    def _pg_execute(self, sql: str) -> None:
        with self._admin_engine().connect() as conn:
            conn.execute(text(sql))


_current: TestDatabases | None = None


def open_session_databases(workdir: Path) -> TestDatabases:
    """Start this test session's databases on the backend MINSHENG_TEST_DATABASE_URL selects."""
    global _current
    _current = TestDatabases(os.environ.get(ENV_VAR) or None, workdir)
    return _current


def current() -> TestDatabases:
    """This session's TestDatabases (set up by the session fixture in tests/conftest.py)."""
    assert _current is not None, "tests/conftest.py's test_databases fixture has not run"
    return _current


def fresh_database_url(*, migrated: bool = True) -> str:
    """A new database on this session's backend: for servers, CLIs and second databases in tests."""
    return current().new(migrated=migrated)


def fetch(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Run one read-only SQL statement on a database by URL (no pooled connection is kept).

    For looking into the database of a server subprocess, on either backend.
    """
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def count(url: str, table: str) -> int:
    """How many rows ``table`` has."""
    value = fetch(url, f"SELECT count(*) FROM {table}")[0][0]
    assert isinstance(value, int)
    return value

"""Shared test fixtures: databases on the selected backend, committed test data, evaluation data.

Databases — the whole suite runs on SQLite (default) and on PostgreSQL
(``MINSHENG_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; CI runs both).
Never make a database file or URL yourself; use one of these and your test runs on both:

- ``database_url`` — a fresh database URL for this test, schema at the newest migration, no rows.
- ``db_factory`` — a session factory over such a database.
- ``test_databases`` — the session's :class:`tests.databases.TestDatabases`; ``.new()`` makes
  another database (``.new(migrated=False)``: an empty one), ``.backend`` is ``sqlite`` or
  ``postgresql``. Outside fixtures: ``tests.databases.fresh_database_url()``.
- ``require_postgres`` / ``require_sqlite`` — for the few tests that only make sense on one backend
  (say why in the test).
- A module that opens no database at all is marked ``pytestmark = pytest.mark.database_free``; the
  PostgreSQL pass (``make test-postgres``) leaves it out, since it already ran. Such a module may not
  use the database fixtures (checked at collection).
- tests/api/conftest.py: ``make_client(...)`` (an in-process app on a fresh database) and
  ``start_server(...)`` (a real ``minsheng serve`` subprocess with MINSHENG_DATABASE_URL set).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory
from tests.databases import TestDatabases, open_session_databases

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED_EVAL = Path(os.environ.get("MINSHENG_SHARED_EVAL", REPO.parent / "shared" / "eval"))


def require_shared_eval() -> Path:
    """Return ../shared/eval; skip when it is absent on a user's clone, fail on CI (CI=true)."""
    if SHARED_EVAL.is_dir():
        return SHARED_EVAL
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the evaluation data {SHARED_EVAL} is missing")
    pytest.skip(f"evaluation data {SHARED_EVAL} is absent (fresh clone without ../shared)")


@pytest.fixture(scope="session")
def shared_eval() -> Path:
    """The evaluation data folder (see require_shared_eval)."""
    return require_shared_eval()


@pytest.fixture(scope="session")
def weights_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One unpacked copy of the Whisper weights for the whole test session."""
    return tmp_path_factory.mktemp("weights")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The committed test data folder tests/data."""
    return DATA


@pytest.fixture(scope="session")
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    """This session's database maker (SQLite files, or PostgreSQL databases dropped at the end)."""
    databases = open_session_databases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.close()


@pytest.fixture(autouse=True, scope="session")
def _session_databases(test_databases: TestDatabases) -> TestDatabases:
    """Makes tests.databases.fresh_database_url() (and so make_client/start_server) work anywhere."""
    return test_databases


@pytest.fixture()
def database_url(test_databases: TestDatabases) -> str:
    """A fresh database for this test on the selected backend: newest schema, no rows."""
    return test_databases.new()


@pytest.fixture()
def db_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory over a fresh database built by the Alembic migrations."""
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture()
def require_postgres(test_databases: TestDatabases) -> None:
    """Skip unless the suite runs on PostgreSQL (CI runs these tests in its PostgreSQL pass)."""
    if test_databases.backend != "postgresql":
        pytest.skip("needs a PostgreSQL server (set MINSHENG_TEST_DATABASE_URL); CI runs it there")


@pytest.fixture()
def require_sqlite(test_databases: TestDatabases) -> None:
    """Skip unless the suite runs on SQLite (tests of SQLite-only settings such as WAL)."""
    if test_databases.backend != "sqlite":
        pytest.skip("tests a SQLite-only setting")


# (test_databases is the session's, and every test holds it; these two open a database.)
_DATABASE_FIXTURES = frozenset({"database_url", "db_factory"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test marked database_free that asks for a database fixture."""
    for item in items:
        if item.get_closest_marker("database_free") is None:
            continue
        used = _DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if used:
            raise pytest.UsageError(f"{item.nodeid} is marked database_free but uses {sorted(used)}")

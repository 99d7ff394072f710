"""Shared test fixtures: paths to committed test data and to the evaluation data beside the repo."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, upgrade

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


@pytest.fixture()
def db_factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A session factory over a fresh SQLite database built by the Alembic migrations."""
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()

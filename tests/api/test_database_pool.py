"""The PostgreSQL pool's size is the operator's to set (MINSHENG_DATABASE_POOL_SIZE / _MAX_OVERFLOW)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.context import build_context
from api.settings import Settings


@pytest.mark.usefixtures("require_postgres")
def test_the_pool_settings_reach_the_engine(database_url: str, tmp_path: Path, weights_cache: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        weights_cache=weights_cache,
        worker_enabled=False,
        database_url=database_url,
        database_pool_size=7,
        database_max_overflow=3,
    )
    context = build_context(settings)
    try:
        pool = context.engine.pool
        assert pool.size() == 7  # type: ignore[attr-defined]
        assert pool._max_overflow == 3  # type: ignore[attr-defined]
    finally:
        context.engine.dispose()


def test_the_default_pool_holds_the_requests_a_busy_process_has_in_flight() -> None:
    settings = Settings()
    assert settings.database_pool_size >= 16
    with pytest.raises(ValueError, match="database_pool_size"):
        Settings(database_pool_size=0)

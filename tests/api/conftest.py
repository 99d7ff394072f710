"""An app with a real SQLite database, the real worker, Whisper and the seed classifier."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

FINAL = {"routed", "needs_review", "failed"}


def make_client(data_dir: Path, weights_cache: Path, **overrides: Any) -> TestClient:
    """A TestClient over an app whose data lives in ``data_dir``."""
    settings = Settings(data_dir=data_dir, weights_cache=weights_cache, job_retry_seconds=0.05, **overrides)
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    """A running app (worker on) shared by the tests of one module."""
    with make_client(tmp_path_factory.mktemp("var"), weights_cache) as c:
        yield c


def wait_until_processed(client: TestClient, suggestion_id: int, timeout: float = 90.0) -> dict[str, Any]:
    """Poll the suggestion until the worker has taken it as far as it goes."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/api/v1/suggestions/{suggestion_id}").json()
        if body["status"] in FINAL or time.monotonic() > deadline:
            return body
        time.sleep(0.2)

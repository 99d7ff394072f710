"""A suggestion's history reads as words: what happened and who did it, not codes and user names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, Staffing, routed_suggestion

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def web(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


def test_the_history_names_events_and_people(web: TestClient, staffing: Staffing) -> None:
    sid, _ = routed_suggestion(web, "power")
    with staffing.as_(*ADMIN):
        assert web.post(f"/api/v1/suggestions/{sid}/dispatch", json={}).status_code == 200
        page = web.get(f"/staff/suggestions/{sid}", headers=HTML).text
        english = web.get(f"/staff/suggestions/{sid}?lang=en", headers=HTML).text
    history = page[page.index('id="history"') :]
    assert "收到" in history and "交办" in history and "系统" in history
    assert ">dispatched<" not in history and ">received<" not in history and ">worker<" not in history
    assert "Dispatched" in english[english.index('id="history"') :]

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


def test_why_a_suggestion_waits_for_a_clerk_reads_in_the_page_language(
    web: TestClient, staffing: Staffing
) -> None:
    sid, _ = routed_suggestion(web, "transport")
    with staffing.as_(*ADMIN):
        assert web.post(f"/api/v1/suggestions/{sid}/dispatch", json={}).status_code == 200
    with staffing.as_("tom", "handler", department="transport_bureau"):
        returned = web.post(f"/api/v1/suggestions/{sid}/return", json={"reason": "<b>这是自来水的问题</b>"})
        assert returned.status_code == 200
    with staffing.as_(*ADMIN):
        page = web.get(f"/staff/suggestions/{sid}?lang=zh", headers=HTML).text
        english = web.get(f"/staff/suggestions/{sid}?lang=en", headers=HTML).text
    assert "tom 退回：&lt;b&gt;这是自来水的问题&lt;/b&gt;" in page and "Returned by" not in page
    assert "Returned by tom: &lt;b&gt;这是自来水的问题&lt;/b&gt;" in english
    assert "<b>这是" not in page  # the handler's words are escaped like any other text

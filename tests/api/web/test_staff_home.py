"""The page staff land on: what waits for each handler and deputy (我的待办), the review count."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, Staffing, routed_suggestion

HTML = {"accept": "text/html"}
POWER = ("li", "handler")
TRANSPORT = ("tom", "handler")
DEPUTY = ("wangdb", "deputy")
CLERK = ("sun", "reviewer")


@pytest.fixture(scope="module")
def web(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


def _inbox_codes(page: str) -> list[str]:
    inbox = page[page.index('id="inbox"') :]
    return re.findall(r'href="/staff/suggestions/\d+">([A-Z0-9]{4}-[A-Z0-9]{4})<', inbox)


def test_each_holder_sees_what_waits_for_them_overdue_first(web: TestClient, staffing: Staffing) -> None:
    staffing.token(DEPUTY[0], DEPUTY[1:], None)
    later_power, later_code = routed_suggestion(web, "power", text="路灯不亮")
    early_power, early_code = routed_suggestion(web, "power", text="变压器响")
    road, _ = routed_suggestion(web, "transport", text="路面坑洼")
    for_deputy, deputy_code = routed_suggestion(web, "power", text="电线垂到地上")
    with staffing.as_(*ADMIN):
        deputy_id = web.put("/api/v1/admin/deputies", json={"username": DEPUTY[0], "name": "王代表"}).json()[
            "id"
        ]
        assert web.post(f"/api/v1/suggestions/{early_power}/dispatch", json={}).status_code == 200
        staffing.clock.advance(days=1)
        assert web.post(f"/api/v1/suggestions/{later_power}/dispatch", json={}).status_code == 200
        assert web.post(f"/api/v1/suggestions/{road}/dispatch", json={}).status_code == 200
        dispatched = web.post(f"/api/v1/suggestions/{for_deputy}/dispatch", json={"deputy_id": deputy_id})
        assert dispatched.status_code == 200, dispatched.text
    with staffing.as_(*POWER, department="power_station"):
        assert web.post(f"/api/v1/suggestions/{later_power}/accept").status_code == 200
    staffing.clock.advance(days=30)  # both power notes are now past their deadline ...
    with staffing.as_(*POWER, department="power_station"):
        page = web.get("/staff", headers=HTML).text
    assert "我的待办" in page
    assert _inbox_codes(page) == [early_code, later_code]  # ... the one due first comes first
    assert deputy_code not in _inbox_codes(page)  # the deputy holds that one, not the station
    assert "超期" in page and "电力" in page and "power" not in page[page.index('id="inbox"') :]
    with staffing.as_(*DEPUTY):
        assert _inbox_codes(web.get("/staff", headers=HTML).text) == [deputy_code]
    with staffing.as_(*TRANSPORT, department="transport_bureau"):
        assert len(_inbox_codes(web.get("/staff", headers=HTML).text)) == 1
    with staffing.as_(*ADMIN):
        assert 'id="inbox"' not in web.get("/staff", headers=HTML).text  # the board is theirs


def test_a_clerk_sees_the_queue_s_count(web: TestClient, staffing: Staffing) -> None:
    with staffing.as_(*CLERK):
        waiting = web.get("/api/v1/review").json()["total"]
        page = web.get("/staff", headers=HTML).text
    assert re.search(rf"<strong>{waiting}</strong> 条待核对", page), page
    assert 'id="inbox"' not in page

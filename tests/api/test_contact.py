"""A villager's contact details (name, phone, address, coordinates) reach only the township office
(admins, reviewers) and whoever holds the suggestion: the holding department's handlers, or the
deputy it was dispatched to. Another department's handler sees the suggestion, not how to reach the
villager (models/suggestions/contact.py), in the JSON view and on the staff page alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, Staffing, routed_suggestion

CONTACT = {
    "name": "张三",
    "phone": "13800000000",
    "address": "河西村3组",
    "latitude": None,
    "longitude": None,
}
POWER = ("li", "handler")  # the power station holds the suggestions below
TRANSPORT = ("zhou", "handler")  # another department's handler
REVIEWER = ("qian", "reviewer")  # a township clerk
DEPUTY = ("wangdb", "deputy")
OTHER_DEPUTY = ("zhaodb", "deputy")


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


def _seen(api: TestClient, suggestion_id: int) -> tuple[object, str]:
    """The contact of the JSON view and the staff page of one suggestion."""
    body = api.get(f"/api/v1/suggestions/{suggestion_id}")
    page = api.get(f"/staff/suggestions/{suggestion_id}", headers={"accept": "text/html"})
    assert body.status_code == 200 and page.status_code == 200, (body.text, page.text[:300])
    return body.json()["contact"], page.text


def _shown(page: str) -> bool:
    shown = [value in page for value in ("张三", "13800000000", "河西村3组")]
    assert all(shown) or not any(shown), shown
    return all(shown)


def test_only_the_holding_department_and_the_office_see_how_to_reach_the_villager(
    api: TestClient, staffing: Staffing
) -> None:
    sid, _ = routed_suggestion(api, "power")
    with staffing.as_(*TRANSPORT, department="transport_bureau"):
        contact, page = _seen(api, sid)
        assert contact is None and not _shown(page)
        assert "村口路灯坏了" in page  # the suggestion itself is not hidden
    for who, department in ((POWER, "power_station"), (ADMIN, None), (REVIEWER, None)):
        with staffing.as_(*who, department=department):
            contact, page = _seen(api, sid)
            assert contact == CONTACT and _shown(page), who
    with staffing.as_(*ADMIN):  # dispatching keeps it with the power station
        assert api.post(f"/api/v1/suggestions/{sid}/dispatch", json={}).status_code == 200
    with staffing.as_(*POWER, department="power_station"):
        assert _seen(api, sid)[0] == CONTACT
    with staffing.as_(*TRANSPORT, department="transport_bureau"):
        assert _seen(api, sid)[0] is None
    with staffing.as_(*DEPUTY):  # a deputy it was not dispatched to
        contact, page = _seen(api, sid)
        assert contact is None and not _shown(page)


def test_a_point_to_point_dispatch_shows_the_contact_to_that_deputy_only(
    api: TestClient, staffing: Staffing
) -> None:
    sid, _ = routed_suggestion(api, "power")
    staffing.token(DEPUTY[0], DEPUTY[1:], None)  # the deputy's staff account comes first
    with staffing.as_(*ADMIN):
        deputy = api.put("/api/v1/admin/deputies", json={"username": DEPUTY[0], "name": "王代表"}).json()
        dispatched = api.post(f"/api/v1/suggestions/{sid}/dispatch", json={"deputy_id": deputy["id"]})
        assert dispatched.status_code == 200, dispatched.text
    with staffing.as_(*DEPUTY):
        contact, page = _seen(api, sid)
        assert contact == CONTACT and _shown(page)
    for who, department in ((OTHER_DEPUTY, None), (POWER, "power_station")):  # the deputy holds it now
        with staffing.as_(*who, department=department):
            contact, page = _seen(api, sid)
            assert contact is None and not _shown(page), who


def test_the_suggestions_export_lists_addresses_for_the_township_office_only(
    api: TestClient, staffing: Staffing
) -> None:
    sid, _ = routed_suggestion(api, "power")
    with staffing.as_(*ADMIN):
        day = api.get(f"/api/v1/suggestions/{sid}").json()["submitted_at"][:10]
    for who, department, sees in (
        (ADMIN, None, True),
        (REVIEWER, None, True),
        (POWER, "power_station", False),
        (TRANSPORT, "transport_bureau", False),
    ):
        with staffing.as_(*who, department=department):
            csv = api.get("/api/v1/reports/suggestions.csv", params={"date": day})
            assert csv.status_code == 200 and "村口路灯坏了" in csv.text, who
            assert ("河西村3组" in csv.text) is sees, who
            assert "13800000000" not in csv.text and "张三" not in csv.text, who

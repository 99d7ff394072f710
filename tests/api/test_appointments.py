"""The appointment with the township head (乡长有约) end to end through the API, with a movable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, T0, Staffing, routed_suggestion

WANG = ("wang", "deputy")
ZHAO = ("zhao", "deputy")
LI = ("li", "handler")


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        staffing.clock.now = T0
        yield c


def stage(api: TestClient, request_id: int) -> str:
    body = api.get(f"/api/v1/appointments/{request_id}").json()
    assert [s["zh"] for s in body["stages"]] == ["互动提", "实地看", "座谈议", "政府办", "人大督", "代表评"]
    return str(body["stage"])


def test_a_deputy_topic_from_invitation_to_rating(api: TestClient, staffing: Staffing) -> None:
    linked, _ = routed_suggestion(api, "power", "青山村", "村里经常停电")
    assert api.post("/api/v1/appointments", json={"title": "x"}).status_code == 401
    with staffing.as_(*WANG):
        r = api.post(
            "/api/v1/appointments",
            json={"title": "青山村频繁停电", "mode": "invitation", "suggestion_ids": [linked]},
        )
        assert r.status_code == 201, r.text
        request = r.json()
        assert request["links"]["suggestions"] == [linked] and request["stage"] == "raise"
        assert (
            api.post("/api/v1/appointments", json={"title": "x", "origin": "government"}).status_code == 403
        )
        assert (
            api.post("/api/v1/appointments", json={"title": "x", "suggestion_ids": [99999]}).status_code
            == 404
        )
        assert (
            api.post(f"/api/v1/appointments/{request['id']}/accept", json={"on": T0.isoformat()}).status_code
            == 403
        )
    rid = request["id"]
    with staffing.as_(*ADMIN):
        gov = api.post("/api/v1/appointments", json={"title": "农村道路硬化", "origin": "government"}).json()
        assert api.post(f"/api/v1/appointments/{gov['id']}/decline", json={"reason": " "}).status_code == 422
        declined = api.post(f"/api/v1/appointments/{gov['id']}/decline", json={"reason": "已列入明年计划"})
        assert (
            declined.json()["state"] == "declined" and declined.json()["decline_reason"] == "已列入明年计划"
        )
        assert api.post(f"/api/v1/appointments/{rid}/visit", json={"note": "看了变压器"}).status_code == 200
        assert stage(api, rid) == "visit"
        on = T0 + timedelta(days=10)
        meeting = api.post(f"/api/v1/appointments/{rid}/accept", json={"on": on.isoformat()})
        assert meeting.status_code == 200, meeting.text
        sid = meeting.json()["id"]
        assert meeting.json()["kind"] == "invitation"
        assert api.post(f"/api/v1/appointments/{rid}/accept", json={"on": on.isoformat()}).status_code == 409
        planned = api.post("/api/v1/appointments/sessions/plan", json={"first": "2026-12-01", "count": 3})
        assert [s["scheduled_for"][:10] for s in planned.json()] == ["2026-12-01", "2027-02-01", "2027-04-01"]
        assert (
            api.post("/api/v1/appointments/sessions/plan", json={"first": "2026-12-01", "count": 3}).json()
            == []
        )
        upcoming = api.get("/api/v1/appointments/sessions").json()
        assert upcoming[0]["id"] == sid and len(upcoming) == 4

        staffing.clock.now = on
        assert api.post(f"/api/v1/appointments/sessions/{sid}/held").status_code == 200
        assert stage(api, rid) == "discuss"
        bad = api.post(
            f"/api/v1/appointments/sessions/{sid}/items",
            json={"request_id": rid, "title": "换变压器", "actions": "x", "department_code": "power_station",
                  "deadline": (on - timedelta(days=1)).isoformat()},
        )  # fmt: skip
        assert bad.status_code == 422
        item = api.post(
            f"/api/v1/appointments/sessions/{sid}/items",
            json={"request_id": rid, "title": "更换青山村变压器", "actions": "供电所一个月内更换并检修线路",
                  "department_code": "power_station", "deadline": (on + timedelta(days=30)).isoformat()},
        )  # fmt: skip
        assert item.status_code == 201, item.text
        item = item.json()
        assert item["status"] == "dispatched" and item["department_code"] == "power_station"
        assert item["due_at"][:10] == (on + timedelta(days=30)).date().isoformat()
        assert stage(api, rid) == "handle"
        counts = {s["id"]: s["items_by_status"] for s in api.get("/api/v1/appointments/sessions").json()}
        assert sid not in counts  # held sessions are no longer upcoming
    # the item is handled through the same workflow endpoints as any suggestion
    with staffing.as_(*LI, department="power_station"):
        s = item["suggestion_id"]
        assert api.post(f"/api/v1/suggestions/{s}/accept").status_code == 200
        assert api.post(f"/api/v1/suggestions/{s}/start").status_code == 200
        staffing.clock.advance(days=12)
        resolved = api.post(f"/api/v1/suggestions/{s}/resolve", json={"result_note": "已更换变压器"})
        assert resolved.status_code == 200, resolved.text
    with staffing.as_(*WANG):
        assert stage(api, rid) == "supervise"
    with staffing.as_(*ZHAO):
        assert (
            api.post(f"/api/v1/appointments/items/{item['id']}/rating", json={"score": 5}).status_code == 403
        )
    with staffing.as_(*WANG):
        rated = api.post(
            f"/api/v1/appointments/items/{item['id']}/rating", json={"score": 4, "comment": "及时"}
        )
        assert rated.status_code == 200, rated.text
        assert (rated.json()["satisfaction"], rated.json()["status"]) == (4, "closed")
        history = api.get(f"/api/v1/suggestions/{s}").json()["history"]
        assert [e["actor"] for e in history if e["kind"] == "rated"] == ["wang"]  # the deputy, by name
        again = api.post(f"/api/v1/appointments/items/{item['id']}/rating", json={"score": 5})
        assert again.status_code == 409
        assert stage(api, rid) == "rate"
        mine = api.get("/api/v1/appointments", params={"mine": True}).json()
        assert [m["id"] for m in mine] == [rid]
        assert all(s["reached"] for s in mine[0]["stages"])
    with staffing.as_(*ADMIN):
        report = api.get(
            "/api/v1/reports", params={"period": "quarter", "date": T0.date().isoformat()}
        ).json()
        figures = report["appointments"]
        assert figures["requests_by_origin"] == {"deputy": 1, "government": 1}
        assert figures["requests_by_state"] == {"discussed": 1, "declined": 1}
        assert (figures["items_added"], figures["items_resolved"], figures["item_ratings"]) == (1, 1, 1)
        assert figures["item_satisfaction_mean"] is None  # one rating is below the default minimum of 5
        assert report["by_category"].get("other", 0) == 0  # the agenda item is not a villager's suggestion
        assert (
            "乡长有约" in api.get("/staff/reports", params={"period": "quarter", "date": "2026-11-02"}).text
        )

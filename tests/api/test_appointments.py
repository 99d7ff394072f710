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


def test_a_date_or_time_without_a_zone_is_the_townships_local_time(
    api: TestClient, staffing: Staffing
) -> None:
    # A deputy writes a day, or a wall-clock time, and means Beijing time (MINSHENG_TIMEZONE's default):
    # these used to be 500s (naive compared with aware datetimes).
    with staffing.as_(*ADMIN):
        day = api.post("/api/v1/appointments", json={"title": "只写日期", "mode": "invitation"}).json()["id"]
        meeting = api.post(f"/api/v1/appointments/{day}/accept", json={"on": "2026-12-22"})
        assert meeting.status_code == 200, meeting.text
        assert meeting.json()["scheduled_for"] == "2026-12-22T01:00:00Z"  # 09:00 in Shanghai
        timed = api.post("/api/v1/appointments", json={"title": "本地时间", "mode": "invitation"}).json()[
            "id"
        ]
        at = api.post(f"/api/v1/appointments/{timed}/accept", json={"on": "2026-12-23T14:30"})
        assert at.json()["scheduled_for"] == "2026-12-23T06:30:00Z"
        zoned = api.post("/api/v1/appointments", json={"title": "带时区", "mode": "invitation"}).json()["id"]
        utc = api.post(f"/api/v1/appointments/{zoned}/accept", json={"on": "2026-12-24T14:30:00Z"})
        assert utc.json()["scheduled_for"] == "2026-12-24T14:30:00Z"  # an explicit zone is kept
        sid = meeting.json()["id"]
        item = {"title": "修路", "actions": "两周内修好", "department_code": "power_station"}
        by_day = api.post(
            f"/api/v1/appointments/sessions/{sid}/items", json={**item, "deadline": "2026-12-31"}
        )
        assert by_day.status_code == 201, by_day.text
        assert by_day.json()["due_at"] == "2026-12-31T15:59:59Z"  # the end of that day in Shanghai
        by_time = api.post(
            f"/api/v1/appointments/sessions/{sid}/items", json={**item, "deadline": "2026-12-30T18:00"}
        )
        assert by_time.json()["due_at"] == "2026-12-30T10:00:00Z"
        planned = api.post("/api/v1/appointments/sessions/plan", json={"first": "2027-06-01", "count": 1})
        assert planned.json()[0]["scheduled_for"] == "2027-06-01T01:00:00Z"  # fixed sessions: 09:00 local
        # The page's datetime-local field sends the same wall-clock time, and the page shows it back.
        paged = api.post("/api/v1/appointments", json={"title": "页面", "mode": "invitation"}).json()["id"]
        form = api.post(
            f"/staff/appointments/{paged}/accept", data={"on": "2027-07-01T10:00"}, follow_redirects=False
        )
        assert form.status_code == 303, form.text
        assert api.get(f"/api/v1/appointments/{paged}").json()["state"] == "scheduled"
        shown = [s for s in api.get("/api/v1/appointments/sessions").json() if s["kind"] == "invitation"]
        assert "2027-07-01T02:00:00Z" in [s["scheduled_for"] for s in shown]
        assert "2027-07-01 10:00" in api.get("/staff/appointments", headers={"accept": "text/html"}).text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("on", "0001-01-01T00:00:00+08:00", "out of range"),  # before the first UTC time Python has
        ("on", "9999-12-31T23:59:00-12:00", "out of range"),  # after the last
        ("on", "2020-01-01", "in the future"),
        ("on", "2026-02-30", "out of range"),
        ("on", "２０２６-12-22", "valid"),
        ("on", "²", "valid"),
        ("deadline", "9999-12-31T23:59:00-12:00", "out of range"),
        ("deadline", "9999-12-31", "before the year 2100"),
        ("deadline", "2999-01-01", "before the year 2100"),
    ],
)
def test_dates_out_of_range_or_malformed_are_refused_plainly(
    api: TestClient, staffing: Staffing, field: str, value: str, message: str
) -> None:
    with staffing.as_(*ADMIN):
        if field == "on":
            rid = api.post("/api/v1/appointments", json={"title": "x", "mode": "invitation"}).json()["id"]
            response = api.post(f"/api/v1/appointments/{rid}/accept", json={"on": value})
        else:
            api.post("/api/v1/appointments/sessions/plan", json={"first": "2030-01-01", "count": 1})
            [sid] = [
                m["id"]
                for m in api.get("/api/v1/appointments/sessions").json()
                if m["scheduled_for"].startswith("2030-01-01")
            ]
            response = api.post(
                f"/api/v1/appointments/sessions/{sid}/items",
                json={"title": "x", "actions": "y", "department_code": "power_station", "deadline": value},
            )
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]

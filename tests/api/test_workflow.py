"""Dispatch, accept, return, extend, resolve, rate and supervise through the HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, T0, Staffing, routed_suggestion, villager_rating_key

POWER = ("li", "handler")


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


@pytest.fixture(autouse=True)
def reset_clock(staffing: Staffing) -> None:
    staffing.clock.now = T0
    staffing.sign_out()


def test_dispatch_accept_start_resolve_and_the_villager_rates(api: TestClient, staffing: Staffing) -> None:
    sid, code = routed_suggestion(api)
    key = villager_rating_key(api, sid)
    with staffing.as_(*ADMIN):
        r = api.post(f"/api/v1/suggestions/{sid}/dispatch", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "dispatched" and body["department"] == "power_station"
    assert body["due_at"].startswith("2026-11-09T08:00")  # power: 7 days
    assert body["allowed_actions"] == ["dispatch", "accept", "return"]
    with staffing.as_(*POWER, department="power_station"):
        assert api.post(f"/api/v1/suggestions/{sid}/accept").json()["status"] == "accepted"
        assert api.post(f"/api/v1/suggestions/{sid}/start").json()["status"] == "in_progress"
        r = api.post(f"/api/v1/suggestions/{sid}/resolve", json={"result_note": "已更换路灯，恢复照明。"})
    assert r.json()["status"] == "resolved" and r.json()["assignee"] == "li"

    track = api.get(f"/api/v1/track/{code}").json()
    assert track["result_note"] == "已更换路灯，恢复照明。" and track["can_rate"] is True
    r = api.post(f"/api/v1/track/{code}/satisfaction", json={"score": 5, "comment": "很快", "key": key})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    again = api.post(f"/api/v1/track/{code}/satisfaction", json={"score": 1, "key": key})
    assert again.status_code == 409 and again.json()["error"] == "AlreadyRated"
    track = api.get(f"/api/v1/track/{code}").json()
    assert (track["can_rate"], track["satisfaction"], track["status"]) == (False, 5, "closed")
    with staffing.as_(*ADMIN):
        wf = api.get(f"/api/v1/suggestions/{sid}/workflow").json()
        history = api.get(f"/api/v1/suggestions/{sid}").json()["history"]
    assert (wf["satisfaction"], wf["satisfaction_comment"]) == (5, "很快")
    assert [(e["kind"], e["actor"]) for e in history] == [
        ("received", "worker"),
        ("dispatched", "boss"),
        ("accepted", "li"),
        ("in_progress", "li"),
        ("resolved", "li"),
        ("rated", "villager"),
        ("closed", "villager"),
    ]


def test_illegal_transition_is_409_with_a_clear_message(api: TestClient, staffing: Staffing) -> None:
    sid, _ = routed_suggestion(api)
    with staffing.as_(*ADMIN):
        r = api.post(f"/api/v1/suggestions/{sid}/resolve", json={"result_note": "done"})
    assert r.status_code == 409
    assert r.json()["error"] == "IllegalTransition"
    assert "is 'routed'" in r.json()["detail"] and "dispatch" in r.json()["detail"]


def test_missing_result_note_or_reason_is_422(api: TestClient, staffing: Staffing) -> None:
    sid, _ = routed_suggestion(api)
    with staffing.as_(*ADMIN):
        api.post(f"/api/v1/suggestions/{sid}/dispatch", json={})
        api.post(f"/api/v1/suggestions/{sid}/accept")
        api.post(f"/api/v1/suggestions/{sid}/start")
        r = api.post(f"/api/v1/suggestions/{sid}/resolve", json={"result_note": " "})
        assert r.status_code == 422 and "result note" in r.json()["detail"]
        r = api.post(f"/api/v1/suggestions/{sid}/return", json={"reason": ""})
        assert r.status_code == 422 and "reason" in r.json()["detail"]


def test_roles_are_enforced(api: TestClient, staffing: Staffing) -> None:
    sid, _ = routed_suggestion(api, "transport")
    assert api.post(f"/api/v1/suggestions/{sid}/dispatch", json={}).status_code == 401
    with staffing.as_(*POWER, department="power_station"):
        assert api.post(f"/api/v1/suggestions/{sid}/dispatch", json={}).status_code == 403
    with staffing.as_(*ADMIN):
        api.post(f"/api/v1/suggestions/{sid}/dispatch", json={})
    with staffing.as_(*POWER, department="power_station"):  # another department's handler
        r = api.post(f"/api/v1/suggestions/{sid}/accept")
        assert r.status_code == 403 and r.json()["error"] == "NotPermitted"
    with staffing.as_("tom", "handler", department="transport_bureau"):
        assert api.post(f"/api/v1/suggestions/{sid}/accept").status_code == 200


def test_return_goes_to_triage_with_reason_and_who(api: TestClient, staffing: Staffing) -> None:
    sid, code = routed_suggestion(api, "power")
    with staffing.as_(*ADMIN):
        api.post(f"/api/v1/suggestions/{sid}/dispatch", json={})
    with staffing.as_(*POWER, department="power_station"):
        r = api.post(f"/api/v1/suggestions/{sid}/return", json={"reason": "这是自来水的问题"})
    assert r.status_code == 200 and r.json()["status"] == "needs_review"
    with staffing.as_(*ADMIN):
        last = api.get(f"/api/v1/suggestions/{sid}").json()["history"][-1]
    assert (last["kind"], last["actor"], last["from_status"], last["to_status"]) == (
        "returned",
        "li",
        "dispatched",
        "needs_review",
    )
    assert last["detail"]["reason"] == "这是自来水的问题"
    track = api.get(f"/api/v1/track/{code}").json()
    assert track["department_zh"] is None and track["status_zh"] == "工作人员正在核对"


def test_point_to_point_dispatch_to_a_deputy(api: TestClient, staffing: Staffing) -> None:
    sid, _ = routed_suggestion(api, "environment")
    staffing.token("wangdb", ("deputy",), None)  # the deputy's staff account comes first
    with staffing.as_(*ADMIN):
        deputy = api.put(
            "/api/v1/admin/deputies", json={"username": "wangdb", "name": "王代表", "village": "河西村"}
        ).json()
        r = api.post(f"/api/v1/suggestions/{sid}/dispatch", json={"deputy_id": deputy["id"]})
    assert r.json()["deputy"] == "wangdb" and r.json()["assignee"] == "王代表"
    with staffing.as_("eco", "handler", department="ecology_bureau"):
        assert api.post(f"/api/v1/suggestions/{sid}/accept").status_code == 403
    with staffing.as_("wangdb", "deputy"):
        assert api.post(f"/api/v1/suggestions/{sid}/accept").json()["status"] == "accepted"


def test_a_deputy_is_a_staff_account_with_the_deputy_role(api: TestClient, staffing: Staffing) -> None:
    staffing.token("clerk.sun", ("reviewer",), None)
    staffing.token("zhoudb", ("deputy",), None)
    with staffing.as_(*ADMIN):
        nobody = api.put("/api/v1/admin/deputies", json={"username": "nosuchdb", "name": "无名"})
        clerk = api.put("/api/v1/admin/deputies", json={"username": "clerk.sun", "name": "孙"})
        listed = [d["username"] for d in api.get("/api/v1/admin/deputies").json()]
        made = api.put("/api/v1/admin/deputies", json={"username": "zhoudb", "village": "河东村"})
    assert nobody.status_code == 422 and "no deputy account 'nosuchdb'" in nobody.json()["detail"]
    assert clerk.status_code == 422 and "deputy role" in clerk.json()["detail"]
    assert "nosuchdb" not in listed and "clerk.sun" not in listed
    assert made.status_code == 200, made.text
    assert made.json()["username"] == "zhoudb" and made.json()["name"] == "zhoudb"  # the account's name


def test_extension_needs_approval_and_overdue_follows_the_clock(api: TestClient, staffing: Staffing) -> None:
    sid, _ = routed_suggestion(api, "power")
    with staffing.as_(*ADMIN):
        api.post(f"/api/v1/suggestions/{sid}/dispatch", json={})
    with staffing.as_(*POWER, department="power_station"):
        r = api.post(f"/api/v1/suggestions/{sid}/extensions", json={"days": 3, "reason": "等配件"})
        assert r.status_code == 201 and r.json()["state"] == "pending"
        rid = r.json()["id"]
        assert api.post(f"/api/v1/extensions/{rid}/approve", json={}).status_code == 403
    staffing.clock.advance(days=8)
    with staffing.as_(*POWER, department="power_station"):
        overdue = api.get("/api/v1/overdue").json()
        assert sid in [i["id"] for i in overdue]
        assert api.get(f"/api/v1/suggestions/{sid}/workflow").json()["overdue"] is True
    with staffing.as_(*ADMIN):
        assert api.post(f"/api/v1/suggestions/{sid}/chase", json={"note": "请加快"}).status_code == 200
        r = api.post(f"/api/v1/extensions/{rid}/approve", json={"note": "同意"})
        assert r.json()["state"] == "approved" and r.json()["new_due_at"].startswith("2026-11-12T08:00")
        wf = api.get(f"/api/v1/suggestions/{sid}/workflow").json()
        assert wf["overdue"] is False
        assert sid not in [i["id"] for i in api.get("/api/v1/overdue").json()]
        assert api.post(f"/api/v1/extensions/{rid}/reject", json={}).status_code == 409


def test_board_shows_departments_handlers_and_open_items(api: TestClient, staffing: Staffing) -> None:
    sid, _ = routed_suggestion(api, "urban_construction")
    with staffing.as_(*ADMIN):
        api.post(f"/api/v1/suggestions/{sid}/dispatch", json={})
    staffing.clock.advance(days=31)
    with staffing.as_("rev", "reviewer"):
        board = api.get("/api/v1/board").json()
    housing = next(d for d in board["departments"] if d["key"] == "housing_bureau")
    assert housing["dispatched"] >= 1 and housing["overdue"] >= 1
    item = next(i for i in board["open"] if i["id"] == sid)
    assert item["overdue"] is True and item["open_days"] == pytest.approx(31.0)
    assert board["open"][0]["overdue"] is True  # overdue first


def test_admin_data_is_editable_and_audited(api: TestClient, staffing: Staffing) -> None:
    with staffing.as_(*ADMIN):
        r = api.put(
            "/api/v1/admin/departments", json={"code": "water", "name_zh": "水利站", "name_en": "Water"}
        )
        assert r.status_code == 200
        rule = api.put(
            "/api/v1/admin/routing-rules",
            json={"category": "environment", "village": "东山村", "department_code": "water"},
        ).json()
        assert api.put("/api/v1/admin/deadlines", json={"category": "power", "days": 3}).json()["power"] == 3
        assert api.put("/api/v1/admin/deadlines", json={"category": "power", "days": 0}).status_code == 422
        assert api.delete(f"/api/v1/admin/routing-rules/{rule['id']}").status_code == 204
        log = api.get("/api/v1/admin/audit").json()
        api.put("/api/v1/admin/deadlines", json={"category": "power", "days": 7})
    assert [(e["entity"], e["action"], e["actor"]) for e in log[:4]] == [
        ("routing_rule", "delete", "boss"),
        ("deadline", "update", "boss"),
        ("routing_rule", "create", "boss"),
        ("department", "create", "boss"),
    ]
    with staffing.as_(*POWER, department="power_station"):
        r = api.put("/api/v1/admin/departments", json={"code": "x", "name_zh": "x", "name_en": "x"})
        assert r.status_code == 403


def test_tracking_leaks_nothing_private(api: TestClient, staffing: Staffing) -> None:
    sid, code = routed_suggestion(api, "power", village="河西村")
    with staffing.as_(*ADMIN):
        api.post(f"/api/v1/suggestions/{sid}/dispatch", json={})
    body = api.get(f"/api/v1/track/{code}").json()
    assert set(body) == {
        "tracking_code",
        "status",
        "status_zh",
        "status_en",
        "next_zh",
        "next_en",
        "category",
        "department_zh",
        "department_en",
        "result_note",
        "can_rate",
        "satisfaction",
        "already_reported",
        "already_reported_status_zh",
        "already_reported_status_en",
        "submitted_at",
        "updated_at",
        "topic_outcome",
    }
    text = str(body)
    for private in ("张三", "13800000000", "河西村", "河西村3组", "路灯", "boss"):
        assert private not in text
    assert body["department_zh"] == "供电所" and body["status_zh"] == "已交办，等待签收"

"""Issue 19 item 4: rating rests on the receipt's secret, not on the tracking code staff can read.

Every staff role reads tracking codes. Before the fix a handler rated their own work 5★ through the
anonymous endpoint with the code alone, and the villager then got 409; a deputy's appointment topic
could be rated by anyone the same way. Each test here goes through the public HTTP interface.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.db import unit_of_work, utcnow
from models.directory import queries as directory
from models.suggestions import queries
from models.vocabulary import Status
from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, T0, Staffing, context_of, routed_suggestion

OPEN311_KEY = "k-" + "7" * 30
HANDLER = ("li", "handler")
REVIEWER = ("chen", "reviewer")
DEPUTY = ("wang", "deputy")
KEY_FORMAT = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16)
HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(
        staffing,
        tmp_path_factory.mktemp("var"),
        weights_cache,
        worker_enabled=False,
        open311_api_keys=f"citizenapp={OPEN311_KEY}",
    ) as c:
        yield c


@pytest.fixture(autouse=True)
def reset(api: TestClient, staffing: Staffing) -> None:
    staffing.clock.now = T0
    staffing.sign_out()
    api.cookies.clear()


def submit_text(
    api: TestClient, text: str = "村口的路灯坏了三天了，晚上很黑", **headers: str
) -> dict[str, Any]:
    """A villager's typed suggestion through the public API: the receipt."""
    r = api.post("/api/v1/suggestions", data={"text": text, "village": "青山村"}, headers=headers)
    assert r.status_code == 202, r.text
    receipt: dict[str, Any] = r.json()
    return receipt


def route_and_resolve(api: TestClient, staffing: Staffing, sid: int) -> None:
    """The pipeline routes the suggestion to the power station (no worker runs here), then staff
    dispatch it and the station's handler resolves it through the staff API."""
    with unit_of_work(context_of(api).factory) as session:
        s = queries.get_suggestion(session, sid)
        dept = directory.department_for(session, "power", None)
        assert dept is not None
        s.category, s.department_id, s.status = "power", dept.id, Status.ROUTED
    with staffing.as_(*ADMIN):
        assert api.post(f"/api/v1/suggestions/{sid}/dispatch", json={}).status_code == 200
    with staffing.as_(*HANDLER, department="power_station"):
        for step in ("accept", "start"):
            assert api.post(f"/api/v1/suggestions/{sid}/{step}").status_code == 200
        r = api.post(f"/api/v1/suggestions/{sid}/resolve", json={"result_note": "已更换路灯"})
        assert r.status_code == 200, r.text


def rate(api: TestClient, code: str, **body: Any) -> Any:
    return api.post(f"/api/v1/track/{code}/satisfaction", json={"score": 5, **body})


def test_a_handler_who_reads_the_tracking_code_cannot_rate_and_the_villager_then_can(
    api: TestClient, staffing: Staffing
) -> None:
    receipt = submit_text(api)
    sid = receipt["id"]
    route_and_resolve(api, staffing, sid)
    with staffing.as_(*HANDLER, department="power_station"):
        code = api.get(f"/api/v1/suggestions/{sid}").json()["tracking_code"]  # staff see the code
        attack = rate(api, code)  # the attack of the issue: the tracking code alone
    assert code == receipt["tracking_code"]
    assert attack.status_code == 403, attack.text
    assert "tracking code alone is not enough" in attack.json()["detail"]

    key = receipt["rating_key"]
    assert KEY_FORMAT.match(key) and key not in code
    with staffing.as_(*HANDLER, department="power_station"):
        forged = [
            attack,
            rate(api, code, key=None),
            rate(api, code, key=""),
            rate(api, code, key=code),
            rate(api, code, key=key[:-1]),
            rate(api, code, key=key + "A"),
            rate(api, code, key=hashlib.sha256(key.encode()).hexdigest()),  # the stored hash is no key
            rate(api, code, key="x" * 10_000),
            api.post(  # a lone surrogate, escaped in JSON: no UTF-8 exists for it
                f"/api/v1/track/{code}/satisfaction",
                content=b'{"score": 5, "key": "\\ud800"}',
                headers={"content-type": "application/json"},
            ),
            rate(api, code, key="钥匙" * 11),
        ]
    for r in forged:
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "RatingRefused"
    assert "does not belong to this tracking code" in forged[3].json()["detail"]
    with staffing.as_(*ADMIN):  # being signed in as staff, even admin, grants nothing here
        assert rate(api, code).status_code == 403
    track = api.get(f"/api/v1/track/{code}").json()
    assert (track["can_rate"], track["satisfaction"], track["status"]) == (True, None, "resolved")

    ok = rate(api, code.lower().replace("-", ""), key=key, score=2, comment="太慢了")
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"tracking_code": code, "satisfaction": 2, "status": "closed"}
    again = rate(api, code, key=key)
    assert again.status_code == 409 and again.json()["error"] == "AlreadyRated"
    with staffing.as_(*ADMIN):
        history = api.get(f"/api/v1/suggestions/{sid}").json()["history"]
    assert [e["actor"] for e in history if e["kind"] == "rated"] == ["villager"]


def test_staff_views_exports_and_open311_never_show_the_key_or_its_hash(
    api: TestClient, staffing: Staffing
) -> None:
    receipt = submit_text(api, "白水村桥头的路灯不亮了")
    key, sid, code = receipt["rating_key"], receipt["id"], receipt["tracking_code"]
    digest = hashlib.sha256(key.encode()).hexdigest()
    route_and_resolve(api, staffing, sid)
    seen: dict[str, str] = {}
    today = utcnow().date().isoformat()  # submissions are stamped with the real time
    with staffing.as_(*ADMIN):
        for path in (
            f"/api/v1/suggestions/{sid}",
            f"/api/v1/suggestions/{sid}/workflow",
            f"/staff/suggestions/{sid}",
            "/staff/board",
            "/api/v1/board",
            f"/api/v1/reports/suggestions.csv?period=month&date={today}",
            f"/api/v1/reports/aggregates.csv?period=month&date={today}",
            f"/open311/v2/requests/{sid}.json?extensions=true",
            "/open311/v2/requests.json?extensions=true",
        ):
            r = api.get(path)
            assert r.status_code == 200, (path, r.text)
            seen[path] = r.text
    seen["track"] = api.get(f"/api/v1/track/{code}").text
    seen["track page"] = api.get(f"/track/{code}").text
    for path in (f"/api/v1/suggestions/{sid}", f"/api/v1/reports/suggestions.csv?period=month&date={today}"):
        assert code in seen[path]  # the views do show the suggestion
    for path, body in seen.items():
        assert key not in body and digest not in body, path


def test_every_public_channel_hands_out_a_rating_key_once(
    api: TestClient, staffing: Staffing, data_dir: Path
) -> None:
    keys: dict[str, str] = {}
    with (data_dir / "speech.flac").open("rb") as fh:
        voice = api.post("/api/v1/suggestions", files={"audio": ("note.flac", fh, "audio/flac")})
    assert voice.status_code == 202, voice.text
    keys[voice.json()["tracking_code"]] = voice.json()["rating_key"]

    page = api.post("/submit", data={"text": "东山村的垃圾桶满了没人清"}, headers=HTML)
    assert page.status_code == 200  # the receipt page, after the 303
    found = re.search(
        r'id="tracking-link" href="/track/([A-Z0-9]{4}-[A-Z0-9]{4})/([A-Za-z0-9_-]+)"', page.text
    )
    assert found is not None, page.text
    keys[found.group(1)] = found.group(2)

    posted = api.post(
        "/open311/v2/requests.json",
        data={"api_key": OPEN311_KEY, "service_code": "power", "lat": "30.87", "long": "120.09",
              "description": "路灯坏了"},
    )  # fmt: skip
    assert posted.status_code == 200, posted.text
    link = re.search(r"/track/([A-Z0-9]{4}-[A-Z0-9]{4})/([A-Za-z0-9_-]+)", posted.json()[0]["service_notice"])
    assert link is not None
    keys[link.group(1)] = link.group(2)

    assert len(set(keys.values())) == 3 and all(KEY_FORMAT.match(k) for k in keys.values())
    with context_of(api).factory() as session:
        for code, key in keys.items():
            stored = queries.get_by_tracking_code(session, code).rating_key_hash
            assert stored == hashlib.sha256(key.encode()).hexdigest()  # the hash, never the key


def test_a_retried_submission_gets_the_same_rating_key_and_it_rates(
    api: TestClient, staffing: Staffing
) -> None:
    first = submit_text(api, "河西村路口的红绿灯坏了", **{"Idempotency-Key": "retry-rating-1"})
    r = api.post(
        "/api/v1/suggestions",
        data={"text": "河西村路口的红绿灯坏了", "village": "青山村"},
        headers={"Idempotency-Key": "retry-rating-1"},
    )
    assert r.headers.get("Idempotent-Replayed") == "true"
    assert r.json() == first and KEY_FORMAT.match(first["rating_key"])
    route_and_resolve(api, staffing, first["id"])
    assert rate(api, first["tracking_code"], key=r.json()["rating_key"]).status_code == 200


def test_a_suggestion_stored_before_rating_keys_sends_the_villager_to_the_township_office(
    api: TestClient, staffing: Staffing
) -> None:
    sid, code = routed_suggestion(api, "power")  # as the rows from before: no rating key on file
    with staffing.as_(*ADMIN):
        for step in ("dispatch", "accept", "start"):
            api.post(f"/api/v1/suggestions/{sid}/{step}", json={} if step == "dispatch" else None)
        api.post(f"/api/v1/suggestions/{sid}/resolve", json={"result_note": "已修好"})
    for key in (None, "anything-at-all-000000"):
        r = rate(api, code, key=key)
        assert r.status_code == 403 and "call the township office" in r.json()["detail"]
    page = api.get(f"/track/{code}").text
    assert 'id="rating-refused"' in page and "请致电乡镇办公室" in page and 'id="rating-form"' not in page


def test_appointment_items_are_rated_only_by_their_deputy(api: TestClient, staffing: Staffing) -> None:
    with staffing.as_(*DEPUTY):
        request = api.post("/api/v1/appointments", json={"title": "青山村频繁停电", "mode": "invitation"})
        assert request.status_code == 201, request.text
    rid = request.json()["id"]
    on = T0 + timedelta(days=10)
    with staffing.as_(*ADMIN):
        meeting = api.post(f"/api/v1/appointments/{rid}/accept", json={"on": on.isoformat()}).json()
        staffing.clock.now = on
        assert api.post(f"/api/v1/appointments/sessions/{meeting['id']}/held").status_code == 200
        item = api.post(
            f"/api/v1/appointments/sessions/{meeting['id']}/items",
            json={"request_id": rid, "title": "更换变压器", "actions": "供电所一个月内更换",
                  "department_code": "power_station", "deadline": (on + timedelta(days=30)).isoformat()},
        )  # fmt: skip
        assert item.status_code == 201, item.text
    sid = item.json()["suggestion_id"]
    with staffing.as_(*HANDLER, department="power_station"):
        for step in ("accept", "start"):
            assert api.post(f"/api/v1/suggestions/{sid}/{step}").status_code == 200
        assert (
            api.post(f"/api/v1/suggestions/{sid}/resolve", json={"result_note": "已更换"}).status_code == 200
        )
        code = api.get(f"/api/v1/suggestions/{sid}").json()["tracking_code"]

    for key in (None, "guessed-key-0000000000"):
        refused = rate(api, code, key=key)
        assert refused.status_code == 403 and "only the deputy who raised it" in refused.json()["detail"]
    page = api.get(f"/track/{code}").text
    assert 'id="rating-form"' not in page and "此事项由提出的人大代表评价" in page
    with staffing.as_(*DEPUTY):
        rated = api.post(f"/api/v1/appointments/items/{item.json()['id']}/rating", json={"score": 4})
    assert rated.status_code == 200 and rated.json()["satisfaction"] == 4

"""Themes, consultation topics and duplicate flags through the HTTP API, with the real worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import staff_login, staffed_client, wait_until_processed
from tests.api.workflow_helpers import Staffing, context_of

REVIEWER = ("zhou", "reviewer")
HANDLER = ("li", "handler")

PARKING = [
    ("五星路上乱停车太严重了，车都停到人行道上", "五星村"),
    ("五星路停车乱，人行道被汽车占满", "红旗村"),
    ("五星路乱停车，晚上车辆停满人行道", "东山村"),
]


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache) as c:
        yield c


@pytest.fixture(autouse=True)
def signed_out(staffing: Staffing) -> None:
    staffing.sign_out()
    staffing.clock.now = datetime.now(UTC)  # the suggestions are stored at the real time


def submit(api: TestClient, text: str, village: str | None = None, address: str | None = None) -> dict:  # type: ignore[type-arg]
    data = {
        "text": text,
        **({"village": village} if village else {}),
        **({"address": address} if address else {}),
    }
    r = api.post("/api/v1/suggestions", data=data)
    assert r.status_code == 202, r.text
    body: dict = wait_until_processed(api, r.json()["id"])  # type: ignore[type-arg]
    return {**body, "tracking_code": r.json()["tracking_code"]}


def wait_for_themes(api: TestClient, job_id: int, timeout: float = 60.0) -> None:
    from models.jobs.tables import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with context_of(api).factory() as session:
            job = session.get(Job, job_id)
            assert job is not None
            if job.state in ("done", "failed"):
                assert job.state == "done", job.last_error
                return
        time.sleep(0.2)
    raise AssertionError("the themes job did not run")


def test_a_repeat_is_flagged_and_the_villager_hears_it_is_already_being_handled(
    api: TestClient, staffing: Staffing
) -> None:
    first = submit(api, "村口路灯坏了，晚上一片漆黑", village="青山村")
    repeat = submit(api, "村口的路灯坏了，晚上漆黑一片", village="青山村")
    other = submit(api, "村口路灯坏了，晚上一片漆黑", village="白水村")
    assert repeat["status"] == first["status"]  # a flag, never a close
    track = api.get(f"/api/v1/track/{repeat['tracking_code']}").json()
    assert track["already_reported"] is True
    assert track["already_reported_status_en"]
    assert api.get(f"/api/v1/track/{other['tracking_code']}").json()["already_reported"] is False
    assert api.get(f"/api/v1/track/{first['tracking_code']}").json()["already_reported"] is False
    page = api.get(f"/track/{repeat['tracking_code']}")
    assert "已有人反映过相同的问题" in page.text
    assert api.get(f"/suggestions/{repeat['id']}/duplicate").status_code == 404  # no such page
    assert api.get(f"/api/v1/suggestions/{repeat['id']}/duplicate").status_code == 401
    with staffing.as_(*HANDLER, department="transport_bureau"):
        flag = api.get(f"/api/v1/suggestions/{repeat['id']}/duplicate").json()
        assert flag["duplicate_of"] == first["id"] and flag["matched_on"] == "village"
        original = api.get(f"/api/v1/suggestions/{first['id']}/duplicate").json()
        assert original["duplicate_of"] is None and original["duplicates"] == [repeat["id"]]


def test_themes_are_recomputed_in_the_background_then_curated_by_staff(
    api: TestClient, staffing: Staffing
) -> None:
    parking = [submit(api, text, village=village)["id"] for text, village in PARKING]
    assert api.post("/api/v1/themes/recompute").status_code == 401
    with staffing.as_(*HANDLER, department="transport_bureau"):
        queued = api.post("/api/v1/themes/recompute")
        assert queued.status_code == 202
        wait_for_themes(api, queued.json()["job_id"])
        themes = api.get("/api/v1/themes").json()
        [theme] = [
            t
            for t in themes
            if set(parking) <= {s["id"] for s in api.get(f"/api/v1/themes/{t['id']}").json()["suggestions"]}
        ]
        assert theme["count"] >= 3
        assert {"五星村", "红旗村", "东山村"} <= set(theme["villages"])
        assert sum(theme["weekly"]) == theme["count"] and len(theme["weekly"]) == 8
        assert any("停车" in p for p in theme["key_phrases"])
        assert api.get("/api/v1/themes", params={"category": "weather"}).status_code == 422

        renamed = api.patch(f"/api/v1/themes/{theme['id']}", json={"title": "五星路停车乱"})
        assert renamed.status_code == 200 and renamed.json()["title"] == "五星路停车乱"
        assert renamed.json()["curated"] is True
        # a handler may look and rename, not split, merge or promote
        denied = api.post(
            f"/api/v1/themes/{theme['id']}/split", json={"suggestion_ids": parking[:1], "title": "x"}
        )
        assert denied.status_code == 403
        assert api.post(f"/api/v1/themes/{theme['id']}/promote", json={}).status_code == 403
    with staffing.as_(*REVIEWER):
        split = api.post(
            f"/api/v1/themes/{theme['id']}/split",
            json={"suggestion_ids": [parking[2]], "title": "东山村停车"},
        )
        assert split.status_code == 201, split.text
        new = split.json()
        assert [s["id"] for s in new["suggestions"]] == [parking[2]]
        merged = api.post(f"/api/v1/themes/{theme['id']}/merge", json={"theme_ids": [new["id"]]})
        assert merged.status_code == 200 and set(parking) <= {s["id"] for s in merged.json()["suggestions"]}
        assert api.get(f"/api/v1/themes/{new['id']}").status_code == 404
        promoted = api.post(f"/api/v1/themes/{theme['id']}/promote", json={"note": "提交协商会议"})
        assert promoted.status_code == 201, promoted.text
        topic = promoted.json()
        assert topic["title"] == "五星路停车乱" and set(parking) <= set(topic["suggestion_ids"])
        again = api.post(f"/api/v1/themes/{theme['id']}/promote", json={})
        assert again.status_code == 409 and "already" in again.json()["detail"]
        bad = api.post(f"/api/v1/themes/{theme['id']}/split", json={"suggestion_ids": [999999], "title": "x"})
        assert bad.status_code == 422 and "not in theme" in bad.json()["detail"]
        assert api.get("/api/v1/themes/999999").status_code == 404
        # another recompute keeps the curated theme and the topic's suggestions
        wait_for_themes(api, api.post("/api/v1/themes/recompute").json()["job_id"])
        assert set(parking) <= set(api.get(f"/api/v1/topics/{topic['id']}").json()["suggestion_ids"])
        assert [t["id"] for t in api.get("/api/v1/topics").json()] == [topic["id"]]
        assert api.get(f"/api/v1/themes/{theme['id']}").json()["title"] == "五星路停车乱"


def test_the_staff_pages_list_a_theme_and_its_forms_work_with_the_session(
    api: TestClient, staffing: Staffing
) -> None:
    ids = [submit(api, text, village=village)["id"] for text, village in PARKING]
    with staffing.as_(*REVIEWER):
        wait_for_themes(api, api.post("/api/v1/themes/recompute").json()["job_id"])
        [theme] = [
            t
            for t in api.get("/api/v1/themes").json()
            if set(ids) <= {s["id"] for s in api.get(f"/api/v1/themes/{t['id']}").json()["suggestions"]}
        ]
    csrf = staff_login(api, "reviewer")
    try:
        listing = api.get("/staff/themes", headers={"accept": "text/html"})
        assert listing.status_code == 200 and f'data-theme="{theme["id"]}"' in listing.text
        assert "<polyline" in listing.text
        page = api.get(f"/staff/themes/{theme['id']}", headers={"accept": "text/html"})
        assert page.status_code == 200 and 'id="form-split"' in page.text and 'id="form-promote"' in page.text
        no_token = api.post(
            f"/staff/themes/{theme['id']}/rename", data={"title": "x"}, follow_redirects=False
        )
        assert no_token.status_code == 403
        renamed = api.post(
            f"/staff/themes/{theme['id']}/rename",
            data={"title": "五星路停车（页面改名）", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert renamed.status_code == 303
        promoted = api.post(
            f"/staff/themes/{theme['id']}/promote",
            data={"note": "", "csrf_token": csrf},
            follow_redirects=True,
        )
        assert promoted.status_code == 200 and 'id="topic"' in promoted.text
        assert "五星路停车（页面改名）" in promoted.text
    finally:
        api.cookies.clear()

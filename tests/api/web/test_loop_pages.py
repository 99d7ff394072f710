"""The villager's and the staff's pages of the closed loop, through real HTTP and templates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.db import unit_of_work
from models.directory import queries as directory
from models.suggestions import queries
from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, Staffing, context_of, routed_suggestion, villager_rating_key

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def web(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


@pytest.fixture(autouse=True)
def fresh(web: TestClient, staffing: Staffing) -> None:
    web.cookies.clear()  # the remembered ?lang= choice
    staffing.sign_out()


def test_recording_page_is_chinese_first_with_big_button_and_text_fallback(web: TestClient) -> None:
    page = web.get("/").text
    assert 'id="record-button"' in page and "按下开始录音" in page
    assert 'name="text"' in page and 'name="village"' in page and 'name="phone"' in page
    assert "/static/record.js" in page and 'name="viewport"' in page
    assert "Tap to record" in web.get("/?lang=en").text
    assert web.get("/static/record.js").status_code == 200


def test_typed_suggestion_through_the_form_gives_a_tracking_code(web: TestClient) -> None:
    r = web.post("/submit", data={"text": "村里的垃圾桶满了没人清", "village": "东山村"}, headers=HTML)
    assert r.status_code == 200 and r.url.path.startswith("/receipt/")  # after the 303
    code = re.search(r'id="tracking-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', r.text)
    assert code is not None
    with context_of(web).factory() as session:
        s = queries.get_by_tracking_code(session, code.group(1))
        assert (s.text, s.village, s.channel) == ("村里的垃圾桶满了没人清", "东山村", "text")
    empty = web.post("/submit", data={"text": " "}, headers=HTML)
    assert empty.status_code == 422 and "建议内容为空" in empty.text  # the page's language: Chinese


def test_track_page_shows_plain_words_and_leaks_nothing(web: TestClient, staffing: Staffing) -> None:
    _sid, code = routed_suggestion(web, "power", village="河西村", text="路灯坏了一个月")
    r = web.get(f"/track?code={code.lower()}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/track/{code.lower()}"
    page = web.get(f"/track/{code}").text
    assert "已转交相关部门" in page and "供电所" in page
    for private in ("张三", "13800000000", "河西村", "路灯坏了一个月", "worker", "rating-form"):
        assert private not in page
    assert "Passed to the responsible department" in web.get(f"/track/{code}?lang=en").text
    missing = web.get("/track/ZZZZ-ZZZZ", headers=HTML)
    assert missing.status_code == 404 and "tracking code" in missing.text


def test_villager_rates_once_on_the_tracking_page(web: TestClient, staffing: Staffing) -> None:
    sid, code = routed_suggestion(web, "power")
    key = villager_rating_key(web, sid)
    with staffing.as_(*ADMIN):
        for path in ("dispatch", "accept", "start"):
            assert web.post(f"/staff/suggestions/{sid}/{path}", follow_redirects=False).status_code == 303
        web.post(f"/staff/suggestions/{sid}/resolve", data={"result_note": "路灯已修好"})
    page = web.get(f"/track/{code}/{key}").text  # the link on the receipt
    assert "路灯已修好" in page and 'id="rating-form"' in page and f'name="key" value="{key}"' in page
    r = web.post(
        f"/track/{code}/rating", data={"score": "4", "comment": "不错", "key": key}, follow_redirects=False
    )
    assert r.status_code == 303
    page = web.get(f"/track/{code}/{key}").text
    assert "★★★★☆" in page and 'id="rating-form"' not in page
    again = web.post(f"/track/{code}/rating", data={"score": "1", "key": key}, headers=HTML)
    assert again.status_code == 409 and "只能评价一次" in again.text
    bad = web.post(f"/track/{code}/rating", data={"score": "9", "key": key}, headers=HTML)
    assert bad.status_code == 422
    with staffing.as_(*ADMIN):
        staff_page = web.get(f"/staff/suggestions/{sid}").text
    assert 'id="satisfaction">4/5 — 不错' in staff_page


def test_staff_pages_need_sign_in(web: TestClient) -> None:
    for path in ("/staff/board", "/staff/admin", "/staff/suggestions/1"):
        page = web.get(path, headers=HTML, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
        assert web.get(path).status_code == 401  # an API client gets 401


def test_staff_work_through_the_pages(web: TestClient, staffing: Staffing) -> None:
    sid, _code = routed_suggestion(web, "transport")
    with staffing.as_(*ADMIN):
        page = web.get(f"/staff/suggestions/{sid}").text
        assert 'id="form-dispatch"' in page and "do-accept" not in page
        web.post(f"/staff/suggestions/{sid}/dispatch", data={"department_code": "", "deputy_id": ""})
    with staffing.as_("tom", "handler", department="transport_bureau"):
        page = web.get(f"/staff/suggestions/{sid}").text
        assert "do-accept" in page and "dispatched" in page
        web.post(f"/staff/suggestions/{sid}/accept")
        r = web.post(f"/staff/suggestions/{sid}/extensions", data={"days": "5", "reason": "等施工队"})
        assert r.status_code == 200
        illegal = web.post(f"/staff/suggestions/{sid}/resolve", data={"result_note": "x"}, headers=HTML)
        assert illegal.status_code == 409 and "accepted" in illegal.text
    staffing.clock.advance(days=16)
    with staffing.as_(*ADMIN):
        board = web.get("/staff/board").text
        assert f'data-id="{sid}"' in board and "超期" in board and "等施工队" in board
        assert f'data-id="{sid}"' in web.get("/staff/board?department=transport_bureau").text
        assert f'data-id="{sid}"' not in web.get("/staff/board?department=power_station").text
        page = web.get(f"/staff/suggestions/{sid}").text
        assert 'id="overdue"' in page
        ext = re.search(r'action="/staff/extensions/(\d+)/approve"', page)
        assert ext is not None
        web.post(f"/staff/extensions/{ext.group(1)}/approve", data={})
        web.post(f"/staff/suggestions/{sid}/return", data={"reason": "其实是村里自己的路"})
    with context_of(web).factory() as session:
        s = queries.get_suggestion(session, sid)
        assert s.status == "needs_review"
        kinds = [e.kind for e in queries.history(session, sid)]
    assert kinds[-4:] == ["accepted", "extension_requested", "extension_approved", "returned"]


def test_admin_page_edits_are_audited(web: TestClient, staffing: Staffing) -> None:
    staffing.token("liudb", ("deputy",), None)  # the deputy's staff account comes first
    with staffing.as_(*ADMIN):
        web.post(
            "/staff/admin/departments",
            data={"code": "water_station", "name_zh": "水利站", "name_en": "Water"},
        )
        web.post(
            "/staff/admin/deputies",
            data={"username": "liudb", "name": "刘代表", "village": "南村", "active": "1"},
        )
        web.post(
            "/staff/admin/rules",
            data={"category": "environment", "village": "南村", "department_code": "water_station"},
        )
        days = {f"days_{c}": "15" for c in ("transport", "environment", "other")}
        web.post("/staff/admin/deadlines", data={**days, "days_urban_construction": "20", "days_power": "7"})
        page = web.get("/staff/admin").text
        bad = web.post("/staff/admin/deadlines", data={"days_power": "0"}, headers=HTML)
    assert bad.status_code == 422
    assert "水利站" in page and "刘代表" in page and "南村" in page and 'value="20"' in page
    audit = page[page.index('id="audit"') :]
    assert audit.count("boss") == 4  # department, deputy, rule, one changed deadline
    with unit_of_work(context_of(web).factory) as session:
        assert (
            getattr(directory.department_for(session, "environment", "南村"), "code", None) == "water_station"
        )
    with staffing.as_("tom", "handler", department="transport_bureau"):
        assert web.get("/staff/admin", headers=HTML).status_code == 403

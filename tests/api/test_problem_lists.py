"""The problem micro-list (问题微清单) over HTTP: a village's or department's open problems, grouped
by theme, oldest first, for any staff member and nobody else, without villagers' personal data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.db import unit_of_work
from models.directory import queries as directory
from models.suggestions import queries
from models.themes import store as theme_store
from models.vocabulary import Status
from tests.api.conftest import staff_login, staffed_client
from tests.api.workflow_helpers import ADMIN, Staffing, context_of

VILLAGE = "青山村"
HANDLER = ("li", "handler")
DEPUTY = ("wang", "deputy")
CLERK = ("qian", "reviewer")
PHONE = "13912345678"
HOSTILE = '<img src=x onerror="alert(1)">村口路灯坏了'


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


@pytest.fixture(autouse=True)
def signed_out(staffing: Staffing, api: TestClient) -> None:
    staffing.sign_out()
    api.cookies.clear()


@pytest.fixture(scope="module")
def problems(api: TestClient, staffing: Staffing) -> dict[str, int]:
    """Open and closed problems of 青山村 and elsewhere; two open ones in a theme."""
    made: dict[str, int] = {}
    rows = [
        # key, category, village, text, status, submitted, channel
        ("lamp", "power", VILLAGE, f"路灯不亮，请联系我{PHONE}", Status.ROUTED, at(10, 1), "text"),
        ("parking_old", "transport", VILLAGE, "五星路停车乱，人行道被占", Status.ROUTED, at(9, 15), "voice"),
        ("parking_new", "transport", VILLAGE, "五星路又停满了车", Status.ROUTED, at(10, 20), "text"),
        ("hostile", "power", VILLAGE, HOSTILE, Status.ROUTED, at(10, 25), "text"),
        ("review", None, VILLAGE, "说不清的事情", Status.NEEDS_REVIEW, at(11, 1), "voice"),
        ("done", "power", VILLAGE, "电压低，已经修好", Status.RESOLVED, at(8, 1), "text"),
        ("agenda", "power", VILLAGE, "代表提出的议题", Status.ROUTED, at(8, 2), "appointment"),
        ("elsewhere", "power", "白水村", "白水村停电", Status.ROUTED, at(8, 3), "text"),
    ]
    with unit_of_work(context_of(api).factory) as session:
        for key, category, village, text, status, submitted, channel in rows:
            dept = directory.department_for(session, category, village) if category else None
            s = queries.create_suggestion(
                session, status=status, actor="worker", channel=channel, text=text, category=category,
                village=village, department_id=dept.id if dept else None, submitter_name="张三",
                submitter_phone=PHONE, now=submitted,
            )  # fmt: skip
            made[key] = s.id
        theme_store.replace_automatic_themes(
            session,
            [
                theme_store.NewTheme(
                    "transport", "五星路停车", ["停车"], [made["parking_old"], made["parking_new"]]
                )
            ],
            at(11, 2),
        )
    staffing.clock.now = at(11, 3)
    with staffing.as_(*ADMIN):
        assert api.post(f"/api/v1/suggestions/{made['parking_old']}/dispatch", json={}).status_code == 200
    staffing.clock.now = at(12, 31)  # past the transport deadline: overdue
    return made


def test_a_village_list_groups_open_problems_by_theme_oldest_first(
    api: TestClient, staffing: Staffing, problems: dict[str, int]
) -> None:
    with staffing.as_(*DEPUTY):
        response = api.get("/api/v1/problems", params={"village": VILLAGE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "village" and body["key"] == VILLAGE and body["truncated"] is False
    groups = [[p["id"] for p in g["problems"]] for g in body["groups"]]
    assert groups == [
        [problems["parking_old"], problems["parking_new"]],  # the theme holds the oldest open problem
        [problems["lamp"], problems["hostile"]],  # power, in no theme
        [problems["review"]],  # not classified yet
    ]
    assert body["total"] == 5
    assert body["groups"][0]["theme_title"] == "五星路停车" and body["groups"][0]["theme_id"]
    assert body["groups"][1]["theme_id"] is None and body["groups"][1]["category"] == "power"
    [old] = [p for p in body["groups"][0]["problems"] if p["id"] == problems["parking_old"]]
    assert (
        old["overdue"] is True
        and old["status"] == "dispatched"
        and old["department_code"] == "transport_bureau"
    )
    assert all(not p["overdue"] for g in body["groups"][1:] for p in g["problems"])
    texts = str(body)
    assert PHONE not in texts and "张三" not in texts and "[电话]" in texts


def test_a_department_list_holds_what_the_department_holds(
    api: TestClient, staffing: Staffing, problems: dict[str, int]
) -> None:
    with staffing.as_(*HANDLER, department="power_station"):
        body = api.get("/api/v1/problems", params={"department": "power_station"}).json()
        assert body["name_zh"] == "供电所"
        ids = [p["id"] for g in body["groups"] for p in g["problems"]]
        assert ids == [problems["elsewhere"], problems["lamp"], problems["hostile"]]
        assert api.get("/api/v1/problems", params={"department": "nope"}).status_code == 404
        assert api.get("/api/v1/problems").status_code == 422
        both = api.get("/api/v1/problems", params={"department": "power_station", "village": VILLAGE})
        assert both.status_code == 422
        assert api.get("/api/v1/problems", params={"village": "x" * 201}).status_code == 422
        empty = api.get("/api/v1/problems", params={"village": "没有这个村"}).json()
        assert empty["groups"] == [] and empty["total"] == 0


def test_every_staff_role_reads_it_and_nobody_else(
    api: TestClient, staffing: Staffing, problems: dict[str, int]
) -> None:
    assert api.get("/api/v1/problems", params={"village": VILLAGE}).status_code == 401
    page = api.get("/staff/problems", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    staffing.token(HANDLER[0], HANDLER[1:], "power_station")  # the handler's account, with their department
    for who in (HANDLER, DEPUTY, CLERK, ADMIN):
        with staffing.as_(*who):
            assert api.get("/api/v1/problems", params={"village": VILLAGE}).status_code == 200, who
            assert api.get("/staff/problems", params={"village": VILLAGE}).status_code == 200, who


def test_the_pages_index_escape_and_print(api: TestClient, problems: dict[str, int]) -> None:
    staff_login(api, "deputy")
    home = api.get("/staff", headers={"accept": "text/html"})
    assert 'href="/staff/problems"' in home.text  # reachable from the staff pages
    index = api.get("/staff/problems", headers={"accept": "text/html"})
    assert index.status_code == 200
    assert f'href="/staff/problems?village=%E9%9D%92%E5%B1%B1%E6%9D%91">{VILLAGE}</a> (5' in index.text
    assert 'href="/staff/problems?department=power_station"' in index.text
    page = api.get("/staff/problems", params={"village": VILLAGE}, headers={"accept": "text/html"})
    html = page.text
    assert page.status_code == 200
    assert "&lt;img src=x" in html and "<img src=x" not in html
    assert PHONE not in html and "张三" not in html
    assert html.index("五星路停车乱") < html.index("路灯不亮") < html.index("村口路灯坏了")
    assert 'class="badge overdue"' in html
    assert "未归入集中问题 · 电力供应" in html
    assert 'data-print id="print-list"' in html and "/static/print.js" in html
    assert "@media print" in api.get("/static/papers.css").text
    english = api.get(
        "/staff/problems", params={"village": VILLAGE, "lang": "en"}, headers={"accept": "text/html"}
    )
    assert "In no theme · Power supply" in english.text and "Overdue" in english.text

"""Issue 21, the tracking page: it says what happens next, refreshes itself while the machine still
works on the note, and after a poor rating asks "问题解决了吗？" — "没有解决" sends the suggestion back
to its department, once. Real Chromium on a phone (390×844) and a desktop."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work, utcnow
from models.reporting import reports
from models.suggestions import queries
from models.vocabulary import Status
from tests.browser.conftest import LaunchBrowser
from tests.browser.villager import (
    DEVICES,
    HAN,
    database,
    handle_and_resolve,
    quiet_server,
    route_to_power,
    submit_by_api,
    visit,
)
from tests.server import Server

pytestmark = pytest.mark.parametrize("device", list(DEVICES.values()), ids=list(DEVICES))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[Server]:
    yield from quiet_server(tmp_path_factory.mktemp("tracking"), weights_cache)


@pytest.fixture(scope="module")
def db(server: Server) -> Iterator[sessionmaker[Session]]:
    yield from database(server)


@pytest.fixture()
def browser(launch_browser: LaunchBrowser) -> Browser:
    return launch_browser()


def test_the_page_says_what_happens_next_and_refreshes_only_while_processing(
    browser: Browser, server: Server, db: sessionmaker[Session], device: dict[str, Any]
) -> None:
    code = submit_by_api(server, f"村口路灯坏了（{secrets.token_hex(3)}）")["tracking_code"]
    v = visit(browser, device)
    page = v.page
    looks: list[str] = []
    page.on("request", lambda r: looks.append(r.url) if "/api/v1/track/" in r.url else None)
    page.goto(f"{server.url}/track/{code}")
    expect(page.locator("#status-words")).to_have_text("已收到，正在处理")
    expect(page.locator("#next-step")).to_contain_text("这一页会自动刷新")
    page.wait_for_timeout(3500)
    assert looks, "the page did not ask whether the note has moved on"

    with unit_of_work(db) as session:  # the machine transcribes: the page follows by itself
        queries.get_by_tracking_code(session, code).status = Status.TRANSCRIBED
    expect(page.locator("#next-step")).to_contain_text("正在给您的建议分类")
    route_to_power(db, code)
    expect(page.locator("#status-words")).to_have_text("已转交相关部门")
    expect(page.locator("#next-step")).to_contain_text("正式交给这个部门办理")
    expect(page.locator("#department")).to_have_text("供电所")
    expect(page.locator("#track")).not_to_have_attribute("data-poll", "1")
    seen = len(looks)
    page.wait_for_timeout(4000)
    assert len(looks) == seen  # routed: no more refreshing

    page.click("#lang-switch")
    expect(page.locator("#next-step")).to_contain_text("formally hand your suggestion to this department")
    assert not HAN.search(page.locator("main").inner_text().replace("供电所", ""))
    assert v.csp_violations == []


def test_a_poor_rating_asks_whether_it_was_fixed_and_not_fixed_reopens_once(
    browser: Browser, server: Server, db: sessionmaker[Session], device: dict[str, Any]
) -> None:
    receipt = submit_by_api(server, f"青山村的路灯又坏了（{secrets.token_hex(3)}）")
    code, key = receipt["tracking_code"], receipt["rating_key"]
    sid = route_to_power(db, code)
    handle_and_resolve(db, sid)
    v = visit(browser, device)
    page = v.page
    page.goto(f"{server.url}/track/{code}/{key}")
    expect(page.locator("#fixed-form")).to_have_count(0)  # not before a rating
    page.check("input[name=score][value='2']")
    page.fill("textarea[name=comment]", "<b>还是不亮</b>")
    page.click("#rating-form button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/track/{code}/{key}$"))  # the receipt's link, kept
    expect(page.locator("#rated")).to_contain_text("★★☆☆☆")
    expect(page.locator("#fixed-form h2")).to_have_text("问题解决了吗？")

    page.click("#not-fixed")
    expect(page.locator("#status-words")).to_have_text("已交办，等待签收")
    expect(page.locator("#reopened")).to_contain_text("已经重新交给原来的部门办理")
    expect(page.locator("#fixed-form")).to_have_count(0)
    expect(page.locator("#rated")).to_have_count(0)
    with db() as session:
        s = queries.get_suggestion(session, sid)
        assert (s.status, s.department.code if s.department else None) == ("dispatched", "power_station")
        reopened = [e for e in queries.history(session, sid) if e.kind == "reopened"]
        assert [(e.actor, e.detail["comment"]) for e in reopened] == [("villager", "<b>还是不亮</b>")]
        report = reports.build_report(session, period="month", anchor=utcnow().date(), now=utcnow())
        assert report.reopened_by_villager >= 1

    again = page.request.post(  # the same answer sent again (a reload of the form, a double tap)
        f"{server.url}/track/{code}/fixed",
        form={"fixed": "no", "key": key},
        headers={"accept": "text/html"},
        max_redirects=0,
    )
    assert again.status == 409 and "已经回答过" in again.text()
    with db() as session:
        assert [e.kind for e in queries.history(session, sid)].count("reopened") == 1
    assert v.csp_violations == []


def test_a_good_rating_asks_nothing(
    browser: Browser, server: Server, db: sessionmaker[Session], device: dict[str, Any]
) -> None:
    receipt = submit_by_api(server, f"东山村的公交站牌倒了（{secrets.token_hex(3)}）")
    code, key = receipt["tracking_code"], receipt["rating_key"]
    handle_and_resolve(db, route_to_power(db, code))
    page = visit(browser, device).page
    page.goto(f"{server.url}/track/{code}/{key}?lang=en")
    page.check("input[name=score][value='4']")
    page.click("#rating-form button[type=submit]")
    expect(page.locator("#rated")).to_contain_text("★★★★☆")
    expect(page.locator("#fixed-form")).to_have_count(0)
    expect(page.locator("#next-step")).to_contain_text("This matter is finished")

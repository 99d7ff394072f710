"""Issue 23, a consultation topic as a small public process, end to end in real Chromium: staff
publish a promoted topic with a draft, a villager on a phone opens the short link and leaves an
opinion on a clause, staff see it, record a meeting and set the outcome, and the villager who
raised the theme's original suggestion reads the outcome on their tracking page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work, utcnow
from models.suggestions import queries
from models.themes import store as theme_store
from models.themes.store import NewTheme
from tests.api.conftest import create_staff
from tests.browser.conftest import LaunchBrowser
from tests.browser.villager import DEVICES, database, quiet_server, submit_by_api, visit
from tests.server import Server

PASSWORD = "consult-pass-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[Server]:
    yield from quiet_server(tmp_path_factory.mktemp("consult"), weights_cache)


@pytest.fixture(scope="module")
def db(server: Server) -> Iterator[sessionmaker[Session]]:
    yield from database(server)


def sign_in(browser: Browser, server: Server, username: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/staff**")
    return page


def test_publish_opinion_meeting_outcome_and_the_villager_sees_it(
    launch_browser: LaunchBrowser, server: Server, db: sessionmaker[Session]
) -> None:
    create_staff(server.database_url, "zhou", PASSWORD, ["reviewer"])
    raised = submit_by_api(server, "五星路乱停车，人行道被占满")
    with unit_of_work(db) as session:
        sid = queries.get_by_tracking_code(session, raised["tracking_code"]).id
        [theme] = theme_store.replace_automatic_themes(
            session, [NewTheme("transport", "五星路停车", ["停车"], [sid])], utcnow()
        )
        topic = theme_store.promote(session, theme.id, None, None, actor="zhou", now=utcnow())
        topic_id = topic.id
    browser = launch_browser()

    staff = sign_in(browser, server, "zhou")
    staff.goto(f"{server.url}/staff/consultations")
    staff.select_option("#publish-topic", str(topic_id))
    staff.fill("#publish-description", "五星路停车怎么管，请大家提意见")
    staff.fill("#publish-draft", "第一条 五星路两侧划定停车位。\n第二条 夜间禁止在人行道停车。")
    staff.click("#do-publish")
    staff.wait_for_url(re.compile(r".*/staff/consultations/\d+\?done=published$"))
    expect(staff.locator("#done")).to_have_text("已发布，可以把链接或二维码发给村民。")
    expect(staff.locator("#consultation-title")).to_have_text("五星路停车")
    link = staff.locator("#public-link").inner_text()
    staff_url = staff.url
    staff.click("#open-poster")
    expect(staff.locator("#poster-qr svg")).to_be_visible()
    expect(staff.locator("#poster-link")).to_have_text(link)

    v = visit(browser, DEVICES["phone"])
    phone = v.page
    phone.goto(link)
    expect(phone.locator("#topic-title")).to_have_text("五星路停车")
    expect(phone.locator("#clause-2")).to_contain_text("夜间禁止")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the topic page scrolls sideways on a phone ({width}px)"
    phone.select_option("#opinion-clause", "2")
    phone.fill("#opinion-text", "我不同意第二条，晚上没地方停车")
    phone.click("#send-opinion")
    phone.wait_for_url("**/receipt/**")
    expect(phone.locator("#tracking-code")).not_to_be_empty()
    assert v.csp_violations == []

    staff.goto(staff_url)
    expect(staff.locator("#opinions")).to_contain_text("我不同意第二条")
    staff.select_option("#opinions form select", "oppose")
    staff.locator("#opinions form button").click()
    expect(staff.locator("#count-clause-2 td[data-stance=oppose]")).to_have_text("1")
    staff.fill("#meeting-date", "2026-11-20")
    staff.fill("#meeting-place", "五星村村委会")
    staff.fill("#meeting-deputies", "王代表、李代表")
    staff.fill("#meeting-departments", "交通办")
    staff.fill("#meeting-decisions", "划定50个夜间停车位")
    staff.click("#do-meeting")
    expect(staff.locator(".meeting-decisions")).to_have_text("划定50个夜间停车位")
    staff.select_option("#outcome-kind", "decided")
    staff.fill("#outcome-note", "下月起实施")
    staff.click("#do-outcome")
    expect(staff.locator("#outcome-words")).to_have_text("已协商，形成决定")

    villager = visit(browser, DEVICES["phone"]).page
    villager.goto(f"{server.url}/track/{raised['tracking_code']}")
    expect(villager.locator("#topic-outcome")).to_contain_text("已协商，形成决定")
    expect(villager.locator("#topic-outcome")).to_contain_text("划定50个夜间停车位")
    expect(villager.locator("#topic-outcome")).to_contain_text("下月起实施")
    phone.goto(link)
    expect(phone.locator("#topic-closed")).to_be_visible()

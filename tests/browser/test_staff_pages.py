"""Staff close the loop in real headless Chromium: sign in, dispatch, accept, work, resolve, supervise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, unit_of_work
from models.directory import queries as directory
from models.suggestions import queries
from models.vocabulary import Status
from tests.api.conftest import create_staff
from tests.browser.conftest import LaunchBrowser
from tests.server import Server

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def db(live_server: Server) -> Iterator[sessionmaker[Session]]:
    """The live server's own database."""
    engine = make_engine(live_server.database_url)
    yield make_session_factory(engine)
    engine.dispose()


def sign_in(browser: Browser, server: Server, username: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/staff**")
    return page


def test_admin_dispatches_handler_resolves_board_and_villager_see_it(
    launch_browser: LaunchBrowser, live_server: Server, db: sessionmaker[Session]
) -> None:
    create_staff(live_server.database_url, "boss", PASSWORD, ["admin"])
    create_staff(live_server.database_url, "li", PASSWORD, ["handler"], department_code="power_station")
    with unit_of_work(db) as session:
        dept = directory.department_for(session, "power", None)
        assert dept is not None
        s = queries.create_suggestion(
            session,
            status=Status.ROUTED,
            actor="worker",
            channel="text",
            text="三组的电压不稳，灯一直闪。",
            category="power",
            department_id=dept.id,
        )
        sid, code = s.id, s.tracking_code
    browser = launch_browser()

    admin = sign_in(browser, live_server, "boss")
    admin.goto(f"{live_server.url}/staff/suggestions/{sid}")
    admin.click("#form-dispatch button[type=submit]")
    expect(admin.locator("#status")).to_have_text("待签收")
    expect(admin.locator("#status")).to_have_attribute("data-status", "dispatched")
    expect(admin.locator("#due")).not_to_have_text("–")

    handler = sign_in(browser, live_server, "li")
    handler.goto(f"{live_server.url}/staff/suggestions/{sid}")
    handler.click("#do-accept")
    expect(handler.locator("#status")).to_have_text("已签收")
    expect(handler.locator("#status")).to_have_attribute("data-status", "accepted")
    handler.click("#do-start")
    handler.fill("textarea[name=result_note]", "已调整变压器分接头，电压恢复正常。")
    handler.click("#do-resolve")
    expect(handler.locator("#status")).to_have_text("已办结")
    expect(handler.locator("#status")).to_have_attribute("data-status", "resolved")
    expect(handler.locator("#history")).to_contain_text("li")

    admin.goto(f"{live_server.url}/staff/board")
    expect(admin.locator("body")).to_contain_text("供电所")

    villager = browser.new_context().new_page()
    villager.goto(f"{live_server.url}/track/{code}")
    expect(villager.locator("#result-note")).to_have_text("已调整变压器分接头，电压恢复正常。")
    expect(villager.locator("#department")).to_have_text("供电所")

"""乡长有约 in real headless Chromium: a deputy raises a topic, the township head accepts it with a date."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.api.conftest import create_staff
from tests.browser.conftest import LaunchBrowser
from tests.browser.test_staff_pages import PASSWORD, sign_in
from tests.server import Server


def test_a_deputy_raises_a_topic_and_the_head_accepts_it(
    launch_browser: LaunchBrowser, live_server: Server
) -> None:
    create_staff(live_server.database_url, "wang", PASSWORD, ["deputy"])
    create_staff(live_server.database_url, "xiangzhang", PASSWORD, ["admin"])
    browser = launch_browser()

    deputy = sign_in(browser, live_server, "wang")
    deputy.goto(f"{live_server.url}/staff/appointments")
    deputy.fill("#raise input[name=title]", "东山村饮水管道老化")
    deputy.select_option("#raise select[name=mode]", "invitation")
    deputy.click("#do-raise")
    topic = deputy.locator("#mine article").first
    expect(topic).to_contain_text("东山村饮水管道老化")
    expect(topic.locator("li.reached")).to_have_count(1)
    expect(topic.locator('li[data-stage="raise"]')).to_have_class("reached")
    expect(deputy.locator("#waiting")).to_have_count(0)

    head = sign_in(browser, live_server, "xiangzhang")
    head.goto(f"{live_server.url}/staff/appointments")
    waiting = head.locator("#waiting article").first
    expect(waiting).to_contain_text("东山村饮水管道老化")
    waiting.locator("input[name=on]").fill("2031-03-05T10:00")
    waiting.locator("form[action$='/accept'] button").click()
    expect(head.locator("#sessions")).to_contain_text("2031-03-05 10:00")
    expect(head.locator("#waiting article")).to_have_count(0)

    deputy.reload()
    expect(deputy.locator("#mine article").first).to_contain_text("scheduled")

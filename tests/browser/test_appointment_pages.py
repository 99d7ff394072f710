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

    expect(head.locator("#done")).to_have_text("已接受，约见已排上日程。")

    deputy.reload()
    expect(deputy.locator("#mine article").first).to_contain_text("已安排约见")


def test_an_accepted_invitation_keeps_its_topic_and_visit_form_and_a_held_session_stays_listed(
    launch_browser: LaunchBrowser, live_server: Server
) -> None:
    create_staff(live_server.database_url, "zhao", PASSWORD, ["deputy"])
    create_staff(live_server.database_url, "head2", PASSWORD, ["admin"])
    browser = launch_browser()
    deputy = sign_in(browser, live_server, "zhao")
    deputy.goto(f"{live_server.url}/staff/appointments")
    deputy.fill("#raise input[name=title]", "白水村小桥护栏缺失")
    deputy.select_option("#raise select[name=mode]", "invitation")
    deputy.click("#do-raise")
    expect(deputy.locator("#done")).to_have_text("议题已提交，等乡长决定。")

    head = sign_in(browser, live_server, "head2")
    head.goto(f"{live_server.url}/staff/appointments")
    waiting = head.locator("#waiting article", has_text="白水村小桥护栏缺失")
    waiting.locator("input[name=on]").fill("2031-04-09T15:00")
    waiting.locator("form[action$='/accept'] button").click()

    accepted = head.locator("#scheduled article", has_text="白水村小桥护栏缺失")
    expect(accepted).to_be_visible()
    request_id = accepted.get_attribute("data-request")
    assert request_id
    expect(accepted.locator('li[data-stage="visit"]')).not_to_have_class("reached")
    accepted.locator("input[name=note]").fill("护栏缺了二十米")
    accepted.locator("form[action$='/visit'] button").click()
    expect(head.locator("#done")).to_have_text("实地查看已记录。")
    accepted = head.locator("#scheduled article", has_text="白水村小桥护栏缺失")
    expect(accepted).to_contain_text("护栏缺了二十米")
    expect(accepted.locator('li[data-stage="visit"]')).to_have_class("reached")
    expect(accepted.locator('li[data-stage="discuss"]')).not_to_have_class("reached")

    meeting = head.locator("#sessions article", has_text="2031-04-09 15:00")
    expect(meeting).to_contain_text("白水村小桥护栏缺失")
    meeting.locator("form[action$='/held'] button").click()
    expect(head.locator("#done")).to_have_text("已记为举行，议题转入座谈。")
    past = head.locator("#past-sessions article", has_text="2031-04-09 15:00")
    expect(past).to_contain_text("白水村小桥护栏缺失")
    expect(past).to_contain_text("已举行")
    past.locator("input[name=request_id]").fill(request_id)
    past.locator("input[name=title]").fill("补装小桥护栏")
    past.locator("input[name=actions]").fill("一个月内补装")
    past.locator("form[action$='/items'] button").click()
    expect(head.locator("#done")).to_have_text("事项已添加并交办给牵头部门。")
    expect(head.locator("#past-sessions article", has_text="2031-04-09 15:00")).to_contain_text("待签收 1")

    deputy.reload()
    mine = deputy.locator("#mine article", has_text="白水村小桥护栏缺失")
    expect(mine).to_contain_text("已座谈")
    reached = [li.get_attribute("data-stage") for li in mine.locator("li.reached").all()]
    assert reached == ["raise", "visit", "discuss", "handle"]

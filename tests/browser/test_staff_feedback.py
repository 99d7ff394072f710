"""Staff actions in real headless Chromium: each says in Chinese that it is done, and a suggestion's
page offers exactly the buttons the action table gives the signed-in person (a handler sees no
批准 or 关闭)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, unit_of_work, utcnow
from models.directory import queries as directory
from models.suggestions import actions, lifecycle, queries
from models.suggestions.action_table import ACTIONS
from models.vocabulary import Status
from tests.api.conftest import create_staff
from tests.browser.conftest import LaunchBrowser
from tests.browser.test_staff_pages import PASSWORD, sign_in
from tests.server import Server

#: Every action button's words on the suggestion page (the table's words).
ACTION_WORDS = {a.words[0]: name for name, a in ACTIONS.items()}


@pytest.fixture(scope="module")
def db(live_server: Server) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(live_server.database_url)
    yield make_session_factory(engine)
    engine.dispose()


def shown_actions(page: Page) -> list[str]:
    """The action names of the buttons the page shows."""
    words = [b.inner_text().strip() for b in page.locator("#actions button").all()]
    return sorted(ACTION_WORDS[w] for w in words if w in ACTION_WORDS)


def table_actions(db: sessionmaker[Session], sid: int, actor: lifecycle.Actor) -> list[str]:
    """What the action table lets ``actor`` do now (extension decisions while one waits)."""
    with db() as session:
        s = queries.get_suggestion(session, sid)
        names = actions.available(session, s, actor, utcnow())
        pending = any(e.state == "pending" for e in lifecycle.extension_requests(session, sid))
        if pending and actions.may_decide_extensions(actor):
            names += ["approve_extension", "reject_extension"]
        return sorted(names)


def test_each_action_says_it_is_done_and_buttons_follow_the_action_table(
    launch_browser: LaunchBrowser, live_server: Server, db: sessionmaker[Session]
) -> None:
    create_staff(live_server.database_url, "fb-admin", PASSWORD, ["admin"])
    create_staff(
        live_server.database_url, "fb-handler", PASSWORD, ["handler"], department_code="power_station"
    )
    admin_actor = lifecycle.Actor("fb-admin", ("admin",))
    handler_actor = lifecycle.Actor("fb-handler", ("handler",), "power_station")
    with unit_of_work(db) as session:
        dept = directory.department_for(session, "power", None)
        assert dept is not None
        sid = queries.create_suggestion(
            session,
            status=Status.ROUTED,
            actor="worker",
            channel="text",
            text="四组的变压器冒烟。",
            category="power",
            department_id=dept.id,
            now=utcnow() - timedelta(days=1),
        ).id
    browser = launch_browser()
    admin = sign_in(browser, live_server, "fb-admin")
    handler = sign_in(browser, live_server, "fb-handler")
    page_url = f"{live_server.url}/staff/suggestions/{sid}"

    admin.goto(page_url)
    assert shown_actions(admin) == table_actions(db, sid, admin_actor)
    admin.click("#form-dispatch button[type=submit]")
    expect(admin.locator("#done")).to_have_text("已交办，承办方会在待办中看到。")

    handler.goto(page_url)
    assert shown_actions(handler) == table_actions(db, sid, handler_actor)
    assert "accept" in shown_actions(handler) and "dispatch" not in shown_actions(handler)
    handler.click("#do-accept")
    expect(handler.locator("#done")).to_have_text("已签收。")
    handler.click("#do-start")
    expect(handler.locator("#done")).to_have_text("已开始办理。")
    handler.fill("input[name=days]", "5")
    handler.locator("form[action$='/extensions'] input[name=reason]").fill("等备件")
    handler.locator("form[action$='/extensions'] button").click()
    expect(handler.locator("#done")).to_have_text("延期申请已提交，等待管理员批准。")
    assert shown_actions(handler) == table_actions(db, sid, handler_actor)
    for word in ("批准", "不批准", "关闭", "交办"):
        expect(handler.get_by_role("button", name=word, exact=True)).to_have_count(0)

    admin.goto(page_url)
    assert shown_actions(admin) == table_actions(db, sid, admin_actor)
    admin.get_by_role("button", name="批准", exact=True).click()
    expect(admin.locator("#done")).to_have_text("已批准延期，办理期限已顺延。")

    handler.goto(page_url)
    handler.fill("textarea[name=result_note]", "已更换变压器。")
    handler.click("#do-resolve")
    expect(handler.locator("#done")).to_have_text("已办结，群众查询时能看到办理结果。")
    assert shown_actions(handler) == table_actions(db, sid, handler_actor)
    expect(handler.get_by_role("button", name="关闭", exact=True)).to_have_count(0)
    admin.goto(page_url)
    expect(admin.get_by_role("button", name="关闭", exact=True)).to_have_count(1)
    history = admin.locator("#history")
    expect(history).to_contain_text("天数: 5")
    expect(history).to_contain_text("部门: 供电所")
    expect(history).not_to_contain_text("power_station")
    expect(history).not_to_contain_text("due_at")


def test_a_clerk_who_confirms_without_a_category_reads_what_to_do(
    launch_browser: LaunchBrowser, live_server: Server, db: sessionmaker[Session]
) -> None:
    create_staff(live_server.database_url, "fb-clerk", PASSWORD, ["reviewer"])
    with unit_of_work(db) as session:
        queries.create_suggestion(
            session,
            status=Status.NEEDS_REVIEW,
            actor="worker",
            channel="text",
            text="这条说的是什么事？",
        )
    clerk = sign_in(launch_browser(), live_server, "fb-clerk")
    clerk.goto(f"{live_server.url}/staff/review")
    expect(clerk.locator("#item-body")).to_be_visible()
    expect(clerk.locator("#item-meta")).to_contain_text("文字")
    expect(clerk.locator("#item-meta")).not_to_contain_text("text")
    clerk.locator("body").press("Enter")
    line = clerk.locator("#status-line")
    expect(line).to_contain_text("请先选一个类别")
    expect(line).not_to_contain_text("保存失败")

"""The suggestion paper and the problem micro-list in real headless Chromium: a clerk edits the
proposal, saves, reloads and sees it; the printable page hides the controls; a deputy reads the
micro-list on a 390-pixel phone screen without sideways scrolling."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, unit_of_work, utcnow
from models.directory import queries as directory
from models.suggestions import queries
from models.themes import store as theme_store
from models.vocabulary import Status
from tests.api.conftest import create_staff
from tests.browser.conftest import LaunchBrowser
from tests.browser.test_staff_pages import PASSWORD
from tests.server import Server

VILLAGE = "青山村"
PHONE = "13912345678"
PHONE_VIEWPORT = {"width": 390, "height": 844}
# Set to a folder to keep screenshots of the pages (for a person to look at).
SHOTS = os.environ.get("MINSHENG_SCREENSHOTS")


@pytest.fixture(scope="module")
def db(live_server: Server) -> Iterator[sessionmaker[Session]]:
    """The live server's own database."""
    engine = make_engine(live_server.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def theme_id(live_server: Server, db: sessionmaker[Session]) -> int:
    """A theme of three open parking notes from two villages, one with a phone number in it."""
    now = utcnow()
    notes = [
        (VILLAGE, f"五星路停车乱，人行道被占满，有事打{PHONE}", 40),
        (VILLAGE, "五星路又停满了车，孩子上学只能走马路", 20),
        ("白水村", "五星路停车太乱，晚上车辆停满人行道，老人出门很不方便，希望尽快管一管这个问题", 3),
    ]
    with unit_of_work(db) as session:
        dept = directory.department_for(session, "transport", None)
        assert dept is not None
        ids = [
            queries.create_suggestion(
                session, status=Status.ROUTED, actor="worker", channel="text", text=text,
                category="transport", village=village, department_id=dept.id, submitter_name="张三",
                submitter_phone=PHONE, now=now - timedelta(days=days),
            ).id
            for village, text, days in notes
        ]  # fmt: skip
        [theme] = theme_store.replace_automatic_themes(
            session, [theme_store.NewTheme("transport", "五星路停车乱", ["停车"], ids)], now
        )
        return theme.id


def sign_in(browser: Browser, server: Server, username: str, **context: object) -> Page:
    page = browser.new_context(**context).new_page()  # type: ignore[arg-type]
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/staff**")
    return page


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def csp_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return errors


def test_a_clerk_edits_the_proposal_saves_reloads_and_prints(
    launch_browser: LaunchBrowser, live_server: Server, theme_id: int
) -> None:
    create_staff(live_server.database_url, "clerk", PASSWORD, ["reviewer"])
    page = sign_in(launch_browser(), live_server, "clerk")
    errors = csp_errors(page)
    page.goto(f"{live_server.url}/staff/themes/{theme_id}")
    page.click("#open-paper")
    page.wait_for_url(f"**/staff/themes/{theme_id}/paper")
    expect(page.locator("#draft-state")).to_have_attribute("data-saved", "false")
    expect(page.locator("#paper-title")).to_have_value("关于五星路停车乱的建议")
    expect(page.locator("#paper-background")).to_contain_text("3 件")
    expect(page.locator("#paper-proposal")).to_have_value("")
    assert PHONE not in page.content()

    proposal = "建议交通运输局一个月内在五星路施划停车位，并由村委会组织劝导。"
    page.fill("#paper-proposal", proposal)
    page.click("#save-paper")
    expect(page.locator("#saved-notice")).to_be_visible()
    page.reload()
    expect(page.locator("#draft-state")).to_have_attribute("data-saved", "true")
    expect(page.locator("#paper-proposal")).to_have_value(proposal)
    shoot(page, "paper-draft")

    page.click("#open-print")
    page.wait_for_url(f"**/staff/themes/{theme_id}/paper/print")
    expect(page.locator("#paper-proposal")).to_have_text(proposal)
    expect(page.locator("#print-paper")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("#print-paper")).to_be_hidden()
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator("#paper-title")).to_have_text("关于五星路停车乱的建议")
    shoot(page, "paper-print")
    pdf = page.request.get(f"{live_server.url}/staff/themes/{theme_id}/paper.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    assert errors == []


def test_a_deputy_reads_the_micro_list_on_a_phone(
    launch_browser: LaunchBrowser, live_server: Server, theme_id: int
) -> None:
    create_staff(live_server.database_url, "deputy-wu", PASSWORD, ["deputy"])
    page = sign_in(launch_browser(), live_server, "deputy-wu", viewport=PHONE_VIEWPORT)
    errors = csp_errors(page)
    page.click(".staff-links a[href='/staff/problems']")
    page.wait_for_url("**/staff/problems")
    page.click(f"#by-village a:text-is('{VILLAGE}')")
    expect(page.locator("#list-name")).to_have_text(VILLAGE)
    expect(page.locator("#list-total")).to_have_text("2")
    group = page.locator(f"section.problem-group[data-theme='{theme_id}']")
    expect(group.locator("h2")).to_contain_text("五星路停车乱")
    items = group.locator("li.problem")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("[电话]")  # the oldest first, its phone number removed
    assert PHONE not in page.content()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " ...[...document.querySelectorAll('.problem')].map(e => e.getBoundingClientRect().right)]"
    )
    assert widths[0] <= widths[1] <= PHONE_VIEWPORT["width"], widths  # no sideways scrolling
    assert all(right <= PHONE_VIEWPORT["width"] for right in widths[2:]), widths
    shoot(page, "problems-phone")
    page.emulate_media(media="print")
    expect(page.locator("#print-list")).to_be_hidden()
    expect(items.first).to_be_visible()
    assert errors == []

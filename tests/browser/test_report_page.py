"""The micro-report page in real headless Chromium: charts drawn, numbers equal to the API's, print layout."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, unit_of_work, utcnow
from models.directory import queries as directory
from models.suggestions import lifecycle, queries
from models.vocabulary import Status
from tests.api.conftest import create_staff
from tests.browser.conftest import LaunchBrowser
from tests.browser.test_staff_pages import PASSWORD, sign_in
from tests.server import Server


@pytest.fixture(scope="module")
def db(live_server: Server) -> Iterator[sessionmaker[Session]]:
    """The live server's own database."""
    engine = make_engine(live_server.database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_the_report_page_draws_the_api_numbers_and_prints_without_controls(
    launch_browser: LaunchBrowser, live_server: Server, db: sessionmaker[Session]
) -> None:
    create_staff(live_server.database_url, "head", PASSWORD, ["admin"])
    now = utcnow()
    with unit_of_work(db) as session:
        for category, village in (("power", "青山村"), ("power", "白水村"), ("transport", "青山村")):
            dept = directory.department_for(session, category, village)
            s = queries.create_suggestion(
                session, status=Status.ROUTED, actor="worker", channel="text", text="路灯坏了",
                category=category, village=village, department_id=dept.id if dept else None,
            )  # fmt: skip
            if category == "power":
                lifecycle.dispatch(session, s.id, actor="head", now=now - timedelta(hours=3))
    browser = launch_browser()
    page = sign_in(browser, live_server, "head")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/staff/reports?period=month")
    api = page.request.get(f"{live_server.url}/api/v1/reports?period=month").json()
    assert api["by_category"]["power"] >= 2

    bars = page.locator("#chart-category g.bar")
    expect(bars.first).to_be_visible()
    drawn = {b.get_attribute("data-label"): b.get_attribute("data-value") for b in bars.all()}
    assert drawn["电力供应"] == str(api["by_category"]["power"])
    assert drawn["交通运输"] == str(api["by_category"]["transport"])
    width = page.locator('#chart-category g.bar[data-label="电力供应"] rect').bounding_box()
    assert width is not None and width["width"] > 10
    points = [int(p.get_attribute("data-value") or -1) for p in page.locator("#chart-trend g.point").all()]
    assert points == [n for _, n in api["trend"]]
    expect(page.locator("#total")).to_have_text(str(api["total"]))
    power_row = page.locator('#departments tr[data-department="power_station"] td')
    expect(power_row.nth(1)).to_have_text(
        str(next(d for d in api["departments"] if d["code"] == "power_station")["dispatched"])
    )

    expect(page.locator("#report-form")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("#report-form")).to_be_hidden()
    expect(page.locator("#print-report")).to_be_hidden()
    expect(page.locator("#chart-category svg")).to_be_visible()
    assert not [e for e in errors if "Content Security Policy" in e], errors

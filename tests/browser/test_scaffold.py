"""The page scaffolding in a real browser: Chinese first, English on request, and remembered."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.server import Server


def test_language_switch_is_remembered_across_pages(page: Page, live_server: Server) -> None:
    page.goto(f"{live_server.url}/no-such-page")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "出错了" in page.inner_text("h1")

    page.click("text=English")
    assert "Something went wrong" in page.inner_text("h1")

    page.goto(f"{live_server.url}/another-missing-page")
    assert page.locator("html").get_attribute("lang") == "en"

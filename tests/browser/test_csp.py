"""The pages work under the Content-Security-Policy: no violations, and scripts come from /static."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.server import Server


def test_error_page_back_link_works_without_inline_script(page: Page, live_server: Server) -> None:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/login")
    page.goto(f"{live_server.url}/no-such-page")
    page.click("a[data-back]")
    page.wait_for_url(f"{live_server.url}/login")
    assert violations == []

"""Staff sign-in in a real browser: the form, the session cookie, CSP-clean pages, sign-out."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.api.conftest import create_staff
from tests.server import Server


def test_sign_in_and_out_through_the_real_form(page: Page, live_server: Server) -> None:
    create_staff(live_server.database_url, "clerk.browser", "browser password", ["admin"])
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_server.url}/staff/accounts?lang=en")
    assert page.url.startswith(f"{live_server.url}/login?next=")  # sent to sign in first
    page.fill("input[name=username]", "clerk.browser")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    # The sign-in page is Chinese (the ?lang=en was the page asked for, not this one): so is its error.
    assert "用户名或密码错误" in page.inner_text("[role=alert]")

    page.fill("input[name=password]", "browser password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/accounts?lang=en")
    assert "clerk.browser" in page.content()
    cookie = next(c for c in page.context.cookies() if c["name"] == "minsheng_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.click("form.signout button")
    page.wait_for_url(f"{live_server.url}/login")
    page.goto(f"{live_server.url}/staff")
    assert "/login?next=" in page.url
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems

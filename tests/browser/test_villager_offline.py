"""Issue 21, offline first: the recording page is an installable app that opens without a connection,
and a note made offline waits on the phone (IndexedDB) and is stored exactly once when the
connection returns, even when an answer is lost on the way. Real Chromium with network emulation."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Playwright, Route, expect
from sqlalchemy.orm import Session, sessionmaker

from api.security_headers import CSP
from models.suggestions import queries
from tests.browser.conftest import CHROMIUM, LaunchBrowser
from tests.browser.villager import (
    CODE,
    DEVICES,
    PHONE,
    count_suggestions,
    database,
    quiet_server,
    stored_with_text,
    visit,
)
from tests.server import Server

SAVED = "已保存，联网后自动发送"
SENT = "已发送，查询码："
FAKE_MICROPHONE = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[Server]:
    yield from quiet_server(tmp_path_factory.mktemp("offline"), weights_cache)


@pytest.fixture(scope="module")
def db(server: Server) -> Iterator[sessionmaker[Session]]:
    yield from database(server)


def installed(page: Page, url: str) -> None:
    """Open the recording page and wait until its service worker looks after it."""
    page.goto(url)
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def sent_code(page: Page) -> str:
    """The code the page announced once the waiting note went (it is in 我的建议 too)."""
    status = page.locator("#mine-status")
    # The page sends on "online", and every 20 s in case that event never comes: wait out one round.
    expect(status).to_contain_text(SENT, timeout=45_000)
    code = status.inner_text().split("：")[-1].strip()
    assert CODE.match(code), code
    expect(page.locator("#mine-list a", has_text=code)).to_be_visible()
    return code


@pytest.mark.parametrize("device", list(DEVICES.values()), ids=list(DEVICES))
def test_the_recording_page_is_an_installable_app_within_the_csp(
    playwright: Playwright, tmp_path: Path, server: Server, device: dict[str, Any]
) -> None:
    sw = httpx.get(f"{server.url}/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["content-security-policy"] == CSP  # the pages' policy, not a looser one
    manifest = httpx.get(f"{server.url}/manifest.webmanifest?lang=zh")
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.json()["short_name"] == "民声"
    assert httpx.get(f"{server.url}/manifest.webmanifest?lang=en").json()["short_name"] == "minsheng"
    for icon in manifest.json()["icons"]:
        assert httpx.get(f"{server.url}{icon['src']}").headers["content-type"] == "image/png"

    # A browser profile of its own: Chromium never offers to install from an incognito one.
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=str(CHROMIUM), **device
    )
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else None)
        installed(page, f"{server.url}/")
        cdp = context.new_cdp_session(page)
        app = cdp.send("Page.getAppManifest")
        assert app["url"].endswith("/manifest.webmanifest?lang=zh") and app["errors"] == [], app
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        assert violations == []
    finally:
        context.close()


@pytest.mark.parametrize("device", list(DEVICES.values()), ids=list(DEVICES))
def test_a_note_typed_offline_waits_on_the_phone_and_is_stored_once_when_back_online(
    launch_browser: LaunchBrowser, server: Server, db: sessionmaker[Session], device: dict[str, Any]
) -> None:
    v = visit(launch_browser(), device)
    page, text = v.page, f"河西村的桥栏杆断了，很危险（{secrets.token_hex(3)}）"
    installed(page, f"{server.url}/")
    page.context.set_offline(True)
    page.fill("#text", text)
    page.click("#text-form button[type=submit]")
    expect(page.locator("#text-status")).to_have_text(SAVED)
    expect(page.locator("#text")).to_have_value("")  # kept on the phone, the form is free again
    expect(page.locator("#mine-list .waiting")).to_contain_text(text[:20])

    reloaded = page.reload()  # still offline: the kept copy of the page
    assert reloaded is not None and reloaded.from_service_worker
    expect(page.locator("#mine-list .waiting")).to_contain_text(SAVED)
    assert stored_with_text(db, text) == []

    page.context.set_offline(False)
    code = sent_code(page)
    expect(page.locator("#mine-list .waiting")).to_have_count(0)
    page.reload()
    expect(page.locator("#mine-list a", has_text=code)).to_be_visible()
    stored = stored_with_text(db, text)
    assert [s.tracking_code for s in stored] == [code]
    assert v.csp_violations == []


def test_an_answer_lost_on_the_way_is_retried_with_the_same_key_and_stored_once(
    launch_browser: LaunchBrowser, server: Server, db: sessionmaker[Session]
) -> None:
    # No service worker here, so the test's route sees the page's own requests.
    page = visit(launch_browser(), PHONE, service_workers="block").page
    text = f"青山村的水渠堵了（{secrets.token_hex(3)}）"
    keys: list[str] = []

    def lose_the_answer(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server stores it...
            route.abort("internetdisconnected")  # ...and the phone never hears back
        else:
            route.continue_()

    page.route("**/api/v1/suggestions", lose_the_answer)
    page.goto(f"{server.url}/")
    page.fill("#text", text)
    page.click("#text-form button[type=submit]")
    expect(page.locator("#text-status")).to_have_text(SAVED)
    assert len(stored_with_text(db, text)) == 1  # stored, though the phone does not know it

    page.reload()  # the page sends what waits when it opens
    code = sent_code(page)
    assert len(keys) == 2 and keys[0] == keys[1]
    assert [s.tracking_code for s in stored_with_text(db, text)] == [code]


def test_a_recording_made_offline_is_stored_once_when_back_online(
    launch_browser: LaunchBrowser, server: Server, db: sessionmaker[Session], data_dir: Path
) -> None:
    browser = launch_browser(*FAKE_MICROPHONE, f"--use-file-for-fake-audio-capture={data_dir / 'speech.wav'}")
    v = visit(browser, PHONE)
    page = v.page
    installed(page, f"{server.url}/")
    before = count_suggestions(db)
    page.context.set_offline(True)
    page.click("#record-button")
    expect(page.locator("#record-button")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(2500)
    page.click("#record-button")
    page.click("#send-voice")
    expect(page.locator("#record-status")).to_have_text(SAVED)
    expect(page.locator("#send-voice")).to_be_hidden()

    page.reload()  # no question before leaving: the recording is safe in the outbox
    expect(page.locator("#mine-list .waiting")).to_contain_text("（录音）")
    assert count_suggestions(db) == before
    page.context.set_offline(False)
    code = sent_code(page)
    assert count_suggestions(db) == before + 1
    with db() as session:
        s = queries.get_by_tracking_code(session, code)
        assert s.channel == "voice" and s.audio is not None and s.audio.duration_s > 1.5
    assert v.csp_violations == []

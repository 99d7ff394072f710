"""The villager's side in real headless Chromium: record with a (fake) microphone, send, track, rate."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, unit_of_work, utcnow
from models.suggestions import lifecycle, queries
from tests.browser.conftest import LaunchBrowser
from tests.browser.villager import PHONE
from tests.server import Server

DONE = {"routed", "needs_review", "failed"}
RECEIPT_LINK = re.compile(r"/track/[A-Z0-9]{4}-[A-Z0-9]{4}/[A-Za-z0-9_-]{22}$")


@pytest.fixture(scope="module")
def db(live_server: Server) -> Iterator[sessionmaker[Session]]:
    """The live server's own database, to check what it stored."""
    engine = make_engine(live_server.database_url)
    yield make_session_factory(engine)
    engine.dispose()


def wait_processed(db: sessionmaker[Session], code: str, timeout: float = 120.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db() as session:
            s = queries.get_by_tracking_code(session, code)
            if s.status in DONE:
                return s.id
        time.sleep(0.5)
    raise AssertionError(f"suggestion {code} was not processed within {timeout} s")


def test_recorded_note_goes_to_a_tracking_code_and_a_transcribed_suggestion(
    launch_browser: LaunchBrowser, live_server: Server, data_dir: Path, db: sessionmaker[Session]
) -> None:
    browser = launch_browser(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={data_dir / 'speech.wav'}",
    )
    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/")
    button = page.locator("#record-button")
    box = button.bounding_box()
    assert box is not None and box["width"] >= 200 and box["height"] >= 200  # a big target on a phone
    expect(button).to_contain_text("按下开始录音")

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(4500)  # the fake microphone plays the 3.7 s clip
    button.click()
    expect(page.locator("#send-voice")).to_be_visible()
    page.locator("details.optional summary").first.click()
    page.fill("#village", "河西村")
    page.fill("#phone", "13800000000")
    page.click("#send-voice")

    code_box = page.locator("#tracking-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"), timeout=30_000)
    code = code_box.inner_text()

    sid = wait_processed(db, code)
    with db() as session:
        s = queries.get_suggestion(session, sid)
        assert s.channel == "voice" and s.village == "河西村" and s.submitter_phone == "13800000000"
        assert s.audio is not None and s.audio.duration_s > 3.0
        # The clip says "The street light is broken. Please fix it." (Chromium loops it); through
        # the browser's Opus encoding Whisper base reliably hears the second half exactly.
        heard = (s.text or "").lower()
        assert "broken" in heard and "please fix it" in heard, heard
        transcript = queries.transcript_for(session, sid)
        assert transcript is not None and transcript.engine == "faster-whisper"

    page.click("#tracking-link")
    expect(page).to_have_url(RECEIPT_LINK)  # the link carries the rating key the API returned
    expect(page.locator("#status-words")).not_to_be_empty()
    assert "13800000000" not in page.content() and "河西村" not in page.content()


def test_typed_suggestion_then_track_and_rate_once(
    page: Page, live_server: Server, db: sessionmaker[Session]
) -> None:
    page.goto(f"{live_server.url}/")
    page.fill("#text", "村口的路灯坏了好几天，晚上很黑，请尽快修理。")
    page.click("#text-form button[type=submit]")
    code = page.locator("#tracking-code").inner_text()
    link = page.locator("#tracking-link").get_attribute("href")
    assert link is not None and RECEIPT_LINK.search(link), link
    sid = wait_processed(db, code)

    page.goto(f"{live_server.url}/track")
    page.fill("#code", code.lower().replace("-", ""))
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text(code)
    expect(page.locator("#rating-form")).to_have_count(0)

    with unit_of_work(db) as session:  # staff finish the work (their pages need sign-in)
        now = utcnow()
        s = queries.get_suggestion(session, sid)
        if s.status == "needs_review":
            s.status = "routed"
        for step in ("dispatch", "accept", "start"):
            getattr(lifecycle, step)(session, sid, actor="boss", now=now)
        lifecycle.resolve(
            session, sid, actor="boss", now=now + timedelta(minutes=1), result_note="路灯已更换。"
        )

    page.reload()
    expect(page.locator("#result-note")).to_have_text("路灯已更换。")
    expect(page.locator("#status-words")).to_have_text("已办结，请您评价")
    expect(page.locator("#rating-form")).to_have_count(0)  # the tracking code alone does not rate
    expect(page.locator("#rating-refused")).to_contain_text("回执上的链接")

    page.goto(f"{live_server.url}{link}")  # the villager opens the link from the receipt
    page.check("input[name=score][value='4']")
    page.fill("textarea[name=comment]", "修得挺快")
    page.click("#rating-form button[type=submit]")
    expect(page.locator("#rated")).to_contain_text("★★★★☆")
    expect(page.locator("#rating-form")).to_have_count(0)
    with db() as session:
        s = queries.get_suggestion(session, sid)
        assert (s.satisfaction, s.satisfaction_comment, s.status) == (4, "修得挺快", "closed")

"""Issue 21, the villager's side: every form ends on a receipt page that a reload or a language switch
never sends again; the upload has its own button; a recording is not left by accident; the phone
remembers its codes. Real Chromium on a phone (390×844) and a desktop."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from models.suggestions import queries
from tests.browser.conftest import LaunchBrowser
from tests.browser.villager import (
    DEVICES,
    HAN,
    RECEIPT_URL,
    count_suggestions,
    database,
    quiet_server,
    stored_with_text,
    submit_by_api,
    visit,
)
from tests.server import Server

pytestmark = pytest.mark.parametrize("device", list(DEVICES.values()), ids=list(DEVICES))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[Server]:
    yield from quiet_server(tmp_path_factory.mktemp("villager"), weights_cache)


@pytest.fixture(scope="module")
def db(server: Server) -> Iterator[sessionmaker[Session]]:
    yield from database(server)


@pytest.fixture()
def browser(launch_browser: LaunchBrowser) -> Browser:
    return launch_browser()


def note(words: str) -> str:
    """A suggestion text no other test sends."""
    return f"{words}（{secrets.token_hex(3)}）"


def receipt_code(page: Page) -> tuple[str, str]:
    """On the receipt page: the tracking code and the rating key of its address."""
    expect(page).to_have_url(RECEIPT_URL)
    found = RECEIPT_URL.search(page.url)
    assert found is not None
    expect(page.locator("#tracking-code")).to_have_text(found.group(1))
    return found.group(1), found.group(2)


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width  # type: ignore[index]


def test_typed_note_lands_on_a_receipt_that_reloads_and_switches_language_without_resending(
    browser: Browser, server: Server, db: sessionmaker[Session], device: dict[str, Any]
) -> None:
    v = visit(browser, device, permissions=["clipboard-read", "clipboard-write"])
    page, text = v.page, note("村口的路灯坏了好几天，晚上很黑")
    page.goto(f"{server.url}/")
    page.fill("#text", text)
    page.locator("#text-form details summary").click()
    page.fill("#text-form input[name=village]", "河西村")
    page.fill("#text-form input[name=phone]", "13800000000")
    page.click("#text-form button[type=submit]")
    code, key = receipt_code(page)
    assert "13800000000" not in page.url and "河西村" not in page.url
    assert "13800000000" not in page.content() and "河西村" not in page.content()
    expect(page.locator("#send-another")).to_have_text("再提一条")
    expect(page.locator("#tracking-link")).to_have_attribute("href", f"/track/{code}/{key}")
    no_sideways_scroll(page)

    page.click("#copy-code")
    expect(page.locator("#copy-code")).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == code

    page.reload()
    expect(page.locator("#tracking-code")).to_have_text(code)
    page.click("#lang-switch")  # a GET of the same receipt in English
    expect(page).to_have_url(re.compile(rf"/receipt/{code}/{key}\?lang=en$"))
    expect(page.locator("#tracking-code")).to_have_text(code)
    expect(page.locator("#send-another")).to_have_text("Send another")
    assert not HAN.search(page.locator("main").inner_text().replace(text, ""))
    page.click("#lang-switch")
    expect(page.locator("#send-another")).to_have_text("再提一条")
    stored = stored_with_text(db, text)
    assert len(stored) == 1 and stored[0].tracking_code == code and stored[0].village == "河西村"

    # 我的建议: the phone remembers the code, here and on the recording page after a reload.
    expect(page.locator("#mine-list a", has_text=code)).to_have_attribute("href", f"/track/{code}/{key}")
    page.click("#send-another")
    expect(page.locator("#mine-list a", has_text=code)).to_be_visible()
    page.reload()
    page.locator("#mine-list a", has_text=code).click()
    expect(page).to_have_url(re.compile(rf"/track/{code}/{key}$"))
    expect(page.locator("#status-words")).to_have_text("已收到，正在处理")
    assert v.csp_violations == []


def test_without_javascript_text_and_upload_post_then_redirect_to_the_receipt(
    browser: Browser,
    server: Server,
    db: sessionmaker[Session],
    data_dir: Path,
    device: dict[str, Any],
) -> None:
    page = visit(browser, device, java_script_enabled=False).page
    text = note("东山村的垃圾桶满了没人清")
    page.goto(f"{server.url}/")
    page.fill("#text", text)
    with page.expect_response(f"{server.url}/submit") as posted:
        page.click("#text-form button[type=submit]")
    assert posted.value.status == 303
    code, _key = receipt_code(page)
    page.reload()
    page.reload()
    assert len(stored_with_text(db, text)) == 1
    page.click("#lang-switch")
    expect(page.locator("#tracking-code")).to_have_text(code)
    expect(page.locator("#send-another")).to_have_text("Send another")

    page.goto(f"{server.url}/?lang=zh")
    before = count_suggestions(db)
    send_file = page.locator("#send-file")
    expect(send_file).to_be_visible()
    page.set_input_files("#audio-file", str(data_dir / "speech.flac"))
    with page.expect_response(f"{server.url}/submit") as uploaded:
        send_file.click()
    assert uploaded.value.status == 303
    voice_code, _ = receipt_code(page)
    assert voice_code != code
    expect(page.locator("#send-another")).to_have_text("再提一条")  # the same receipt as for text
    page.reload()
    assert count_suggestions(db) == before + 1
    page.go_back()  # the form again, with the same page key: sending it again stores nothing new
    page.set_input_files("#audio-file", str(data_dir / "speech.flac"))
    page.click("#send-file")
    again, _ = receipt_code(page)
    assert (again, count_suggestions(db)) == (voice_code, before + 1)
    page.go_back()
    page.fill("#text", note("又一条不同的建议"))  # a different suggestion from that page is new
    page.click("#text-form button[type=submit]")
    assert receipt_code(page)[0] not in (code, voice_code) and count_suggestions(db) == before + 2


def test_the_language_link_is_a_get_on_every_villager_page(
    browser: Browser, server: Server, device: dict[str, Any]
) -> None:
    receipt = submit_by_api(server, note("白水村桥头的路灯不亮了"))
    code, key = receipt["tracking_code"], receipt["rating_key"]
    v = visit(browser, device)
    page = v.page
    for path in ("/", "/track", f"/receipt/{code}/{key}", f"/track/{code}", f"/track/{code}/{key}"):
        page.goto(f"{server.url}{path}?lang=zh")
        with page.expect_response(lambda r: r.request.is_navigation_request()) as switched:
            page.click("#lang-switch")
        assert switched.value.request.method == "GET" and switched.value.status == 200, path
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert page.url.split("?")[0] == f"{server.url}{path}"
        assert not HAN.search(page.locator("main").inner_text()), path
        page.click("#lang-switch")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        assert not re.search(r"[a-z]{3,}", page.locator("main").inner_text()), path

    page.set_content("")  # an error answering a form (a blank note): the link goes back, as a GET
    page.goto(f"{server.url}/?lang=zh")
    page.evaluate("document.getElementById('text').removeAttribute('required')")
    page.evaluate("document.getElementById('text-form').submit()")  # the form itself, not the script
    expect(page.locator("h1")).to_contain_text("出错了")
    page.click("#lang-switch")
    expect(page).to_have_url(f"{server.url}/?lang=en")
    expect(page.locator("#record-label")).to_have_text("Tap to record")
    assert v.csp_violations == []


def test_a_chosen_file_has_a_visible_send_button(
    browser: Browser, server: Server, db: sessionmaker[Session], data_dir: Path, device: dict[str, Any]
) -> None:
    v = visit(browser, device)
    page = v.page
    page.goto(f"{server.url}/")
    before = count_suggestions(db)
    page.set_input_files("#audio-file", str(data_dir / "speech.flac"))
    send_file = page.locator("#send-file")
    expect(send_file).to_be_visible()
    expect(send_file).to_have_text("提交录音文件")
    expect(page.locator("#file-name")).to_have_text("speech.flac")
    send_file.scroll_into_view_if_needed()
    box = send_file.bounding_box()
    assert box is not None and box["height"] >= 30 and box["x"] + box["width"] <= device["viewport"]["width"]
    no_sideways_scroll(page)
    send_file.click()
    code, _ = receipt_code(page)
    assert count_suggestions(db) == before + 1
    with db() as session:
        s = queries.get_by_tracking_code(session, code)
        assert s.channel == "voice" and s.audio is not None and s.audio.original_name == "speech.flac"
    assert v.csp_violations == []


def test_leaving_while_recording_asks_first(
    launch_browser: LaunchBrowser, server: Server, data_dir: Path, device: dict[str, Any]
) -> None:
    browser = launch_browser(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={data_dir / 'speech.wav'}",
    )
    page = visit(browser, device).page
    page.goto(f"{server.url}/")
    asked: list[Dialog] = []

    def stay(dialog: Dialog) -> None:
        asked.append(dialog)
        dialog.dismiss()

    page.on("dialog", stay)
    page.click("#record-button")
    expect(page.locator("#record-button")).to_have_attribute("aria-pressed", "true")
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert [d.type for d in asked] == ["beforeunload"] and not page.is_closed()

    calm = visit(browser, device).page  # not recording: the page is left without a question
    calm.goto(f"{server.url}/")
    calm.on("dialog", stay)
    calm.click("#text")  # a user gesture, without which no browser asks
    with calm.expect_event("close"):
        calm.close(run_before_unload=True)
    assert len(asked) == 1

"""A clerk works the review queue in a real browser, with the keyboard only."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.api.conftest import create_staff, create_staff_headers
from tests.server import Server, start_server

CLERK, PASSWORD = "clerk.wang", "review password"
ADMIN = "admin.li"


def _wait_processed(
    url: str, suggestion_id: int, headers: dict[str, str], timeout: float = 120.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = httpx.get(f"{url}/api/v1/suggestions/{suggestion_id}", headers=headers).json()
        if body["status"] in ("needs_review", "routed", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


@pytest.fixture(scope="module")
def triage_server(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[Server]:
    """A real server that sends every suggestion to staff triage."""
    server = start_server(
        tmp_path_factory.mktemp("live"),
        weights_cache,
        env={"MINSHENG_MIN_CLASSIFIER_CONFIDENCE": "1.0", "MINSHENG_RETRAIN_AFTER_REVIEWS": "0"},
    )
    create_staff(server.database_url, CLERK, PASSWORD, ["reviewer"])
    create_staff(server.database_url, ADMIN, PASSWORD, ["admin"])
    yield server
    server.stop()


def sign_in(page: Page, server: Server, path: str, username: str = CLERK) -> None:
    """Open ``path``; the server sends the clerk (or ``username``) to sign in first and then back to it."""
    page.goto(f"{server.url}{path}")
    assert "/login?next=" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}{path}")


def test_a_clerk_listens_corrects_text_and_category_with_the_keyboard(
    page: Page, triage_server: Server, data_dir: Path
) -> None:
    url = triage_server.url
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type == "error" and "404" not in m.text else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response", lambda r: problems.append(r.url) if r.status == 404 and "favicon" not in r.url else None
    )
    reader = create_staff_headers(triage_server.database_url, "reviewer")
    note = data_dir / "voice_power.ogg"
    with note.open("rb") as fh:
        receipt = httpx.post(
            f"{url}/api/v1/suggestions", files={"audio": (note.name, fh, "audio/ogg")}, timeout=30
        ).json()
    typed = httpx.post(f"{url}/api/v1/suggestions", data={"text": "河边有人倒垃圾", "language": "zh"})
    voice = _wait_processed(url, receipt["id"], reader)
    assert voice["status"] == "needs_review", voice
    assert _wait_processed(url, typed.json()["id"], reader)["status"] == "needs_review"

    sign_in(page, triage_server, "/staff/review?lang=en&language=en")
    expect(page.locator("#item-code")).to_have_text(voice["tracking_code"])
    assert page.locator("#remaining").inner_text() == "1"
    expect(page.locator(".choice.chosen")).to_have_attribute("data-code", voice["category"])

    # Listen: Space plays the original recording.
    page.locator("body").press("Space")
    audio = page.locator("#item-audio")
    deadline = time.monotonic() + 15
    while audio.evaluate("a => a.currentTime") <= 0.2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert audio.evaluate("a => a.currentTime") > 0.2, "the recording did not play"
    page.locator("body").press("Space")

    # Correct the transcript: E edits, Esc goes back to the keys.
    corrected = "The street light by the school gate has been broken for a week."
    page.locator("body").press("e")
    expect(page.locator("#item-text")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(corrected)
    page.keyboard.press("Escape")
    # Pick another category with its number key (3 = environment), Enter saves and moves on.
    page.keyboard.press("3")
    expect(page.locator(".choice.chosen")).to_have_attribute("data-code", "environment")
    page.keyboard.press("Enter")
    expect(page.locator("#status-line")).to_contain_text("Saved")
    expect(page.locator("#item-empty")).to_be_visible()

    stored = httpx.get(f"{url}/api/v1/suggestions/{receipt['id']}", headers=reader).json()
    assert stored["category"] == "environment" and stored["category_source"] == "staff"
    assert stored["transcript"] == corrected
    assert stored["transcript_detail"]["text"] == voice["transcript"]  # what was heard is kept
    assert stored["department"]["code"] == "ecology_bureau" and stored["status"] == "routed"
    assert stored["history"][-1]["kind"] == "reviewed" and stored["history"][-1]["actor"] == CLERK

    # The decision is visible in the suggestion's history page.
    page.locator("#recent a").first.click()
    expect(page.locator("#history tr.event-reviewed")).to_have_count(1)
    expect(page.locator("#item-text")).to_have_text(corrected)
    expect(page.locator("#reviews")).to_contain_text("corrected")
    assert not problems, problems  # no script errors, nothing refused by the Content Security Policy


def test_the_page_is_chinese_by_default_and_shows_the_model(page: Page, triage_server: Server) -> None:
    sign_in(page, triage_server, "/staff/review")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator("#model-panel h2")).to_have_text("当前模型")
    expect(page.locator("#active-version")).to_contain_text("#")
    page.goto(f"{triage_server.url}/staff/review/model?lang=en")
    expect(page.locator("#versions tr.state-active")).to_have_count(1)


RUN_STATE = re.compile(r"^#(\d+) (排队中|训练中|已启用，正在重新分类|已启用|已拒绝)$")


def test_an_administrator_retrains_from_the_chinese_page_and_follows_the_run(
    page: Page, triage_server: Server
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, triage_server, "/staff/review/model", ADMIN)
    page.click("#retrain")
    expect(page.locator("#retrain-status")).to_have_text(RUN_STATE)  # the run's state, in Chinese
    found = RUN_STATE.match(page.locator("#retrain-status").inner_text())
    assert found is not None
    deadline = time.monotonic() + 180
    while True:  # its row in the table of runs, until it has ended
        page.reload()
        row = page.locator("#runs tr", has=page.locator(f"td:text-is('{found.group(1)}')"))
        state = row.locator("td").nth(2).inner_text().split("\n")[0]
        if state in ("已启用", "已拒绝") or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert state in ("已启用", "已拒绝"), state
    assert not problems, problems


def test_the_count_on_the_page_is_the_queue_s_count(page: Page, triage_server: Server) -> None:
    url = triage_server.url
    reader = create_staff_headers(triage_server.database_url, "reviewer")
    typed = [
        httpx.post(f"{url}/api/v1/suggestions", data={"text": text, "language": "zh"}).json()["id"]
        for text in ("村口路灯坏了好几天", "垃圾桶满了没人清", "公交车太少", "变压器有异响")
    ]
    for sid in typed:
        assert _wait_processed(url, sid, reader)["status"] == "needs_review"
    waiting = httpx.get(f"{url}/api/v1/review", headers=reader).json()["total"]
    assert waiting >= 4

    sign_in(page, triage_server, "/staff/review")
    expect(page.locator("#item-code")).not_to_be_empty()
    page.wait_for_load_state("networkidle")  # the page has fetched more of the queue
    expect(page.locator("#remaining")).to_have_text(str(waiting))
    page.locator("#skip").click()  # a skipped note still waits
    page.wait_for_load_state("networkidle")
    expect(page.locator("#remaining")).to_have_text(str(waiting))
    page.locator("body").press("1")
    page.keyboard.press("Enter")  # a decided one does not
    expect(page.locator("#status-line")).to_contain_text("已保存")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#remaining")).to_have_text(str(waiting - 1))
    assert httpx.get(f"{url}/api/v1/review", headers=reader).json()["total"] == waiting - 1


def test_the_words_the_engine_was_unsure_of_are_marked_for_the_clerk(
    page: Page, tmp_path: Path, weights_cache: Path, data_dir: Path
) -> None:
    """The narrow-band street-light clip, uploaded as a villager would: each word Whisper heard with
    a low probability is a <mark> whose title gives the certainty; the words are text, not markup."""
    server = start_server(tmp_path, weights_cache, env={"MINSHENG_MIN_CLASSIFIER_CONFIDENCE": "1.0"})
    try:
        create_staff(server.database_url, CLERK, PASSWORD, ["reviewer"])
        reader = create_staff_headers(server.database_url, "reviewer")
        note = data_dir / "speech.amr"
        with note.open("rb") as fh:
            receipt = httpx.post(
                f"{server.url}/api/v1/suggestions", files={"audio": (note.name, fh, "audio/amr")}, timeout=30
            ).json()
        assert _wait_processed(server.url, receipt["id"], reader)["status"] == "needs_review"
        item = httpx.get(f"{server.url}/api/v1/review/{receipt['id']}", headers=reader).json()
        words = [w for seg in item["segments"] for w in seg["words"]]
        unsure = [w for w in words if w["unsure"]]
        assert unsure and len(unsure) < len(words)
        assert item["unsure_word_share"] > 0

        sign_in(page, server, "/staff/review?lang=en")
        expect(page.locator("#item-code")).to_have_text(item["tracking_code"])
        marks = page.locator("#item-heard mark.unsure-word")
        expect(marks).to_have_count(len(unsure))
        for n, word in enumerate(unsure):
            expect(marks.nth(n)).to_have_text(word["word"])
            pct = round(word["probability"] * 100)
            expect(marks.nth(n)).to_have_attribute("title", f"Heard with {pct}% certainty: listen again")
        heard = page.locator("#item-heard").evaluate(
            "e => [e.textContent, Array.from(e.querySelectorAll('*')).map(n => n.tagName)]"
        )
        assert heard[0].replace(" ", "") == "".join(w["word"] for w in words).replace(" ", "")
        assert set(heard[1]) <= {"SPAN", "MARK"}

        # The suggestion's own review page marks the same words (in Chinese here).
        page.goto(f"{server.url}/staff/review/{receipt['id']}?lang=zh")
        detail_marks = page.locator("#item-heard mark.unsure-word")
        expect(detail_marks).to_have_count(len(unsure))
        first_pct = round(unsure[0]["probability"] * 100)
        expect(detail_marks.first).to_have_attribute("title", f"这个词识别把握 {first_pct}%，请听录音核对")
    finally:
        server.stop()

"""A signed-in administrator opens a villager's hostile recording: nothing runs, no account is made.

The probe's attack (issue 19, item 1): one WAV is also JavaScript that creates an administrator
with the reader's session; a second WAV is also an HTML page that loads the first as a script
(same origin, so ``script-src 'self'`` let it through). Both were uploaded with the type the
attacker wanted and served back with it.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import Error as PlaywrightError

from models.db import make_engine, make_session_factory, unit_of_work
from models.staff import queries as staff_queries
from tests.api.conftest import create_staff
from tests.api.hostile_audio import html_wav, script_wav, take_over_script
from tests.browser.conftest import LaunchBrowser
from tests.browser.test_staff_pages import PASSWORD, sign_in
from tests.server import Server


def _usernames(server: Server) -> set[str]:
    engine = make_engine(server.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return {s.username for s in staff_queries.list_staff(session)}
    finally:
        engine.dispose()


def _upload(server: Server, data: bytes, declared: str) -> int:
    files = {"audio": ("note", data, declared)}
    response = httpx.post(f"{server.url}/api/v1/suggestions", files=files, timeout=30)
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def test_opening_a_polyglot_recording_runs_no_script_in_the_admins_session(
    launch_browser: LaunchBrowser, live_server: Server
) -> None:
    create_staff(live_server.database_url, "chief", PASSWORD, ["admin"])
    admin = sign_in(launch_browser(), live_server, "chief")

    # The attacker's script works in an admin's session when it does get to run (control).
    admin.evaluate(f"async () => {{ await {take_over_script('control_account')}; }}")
    assert "control_account" in _usernames(live_server)
    admin.reload()
    assert admin.title() != "taken"

    script_id = _upload(live_server, script_wav(take_over_script("mallory")), "text/javascript")
    page = f'<!doctype html><title>note</title><script src="/api/v1/suggestions/{script_id}/audio"></script>'
    page_id = _upload(live_server, html_wav(page), "text/html")

    downloads: list[str] = []
    admin.on("download", lambda d: downloads.append(d.suggested_filename))
    for sid in (page_id, script_id):
        try:
            admin.goto(f"{live_server.url}/api/v1/suggestions/{sid}/audio")
        except PlaywrightError as exc:  # navigation to a download is reported as an error
            assert "Download is starting" in str(exc)
        admin.wait_for_timeout(1500)  # time for a script that did start to finish its requests
        assert admin.title() != "taken"
        assert "mallory" not in _usernames(live_server)
    assert downloads == [f"suggestion-{page_id}.wav", f"suggestion-{script_id}.wav"]

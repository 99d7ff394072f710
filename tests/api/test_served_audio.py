"""Recordings are served back as recordings: the type the server recognised, a download, sandboxed.

Reproduces the probe's attack (issue 19, item 1): WAV files that are also an HTML page and a
script, uploaded with ``text/html`` / ``text/javascript``, used to come back with those types.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from models.db import unit_of_work
from models.suggestions.tables import Audio, Suggestion
from tests.api.conftest import _context, staff_headers
from tests.api.hostile_audio import html_wav, script_wav, take_over_script


def _upload(client: TestClient, data: bytes, declared: str) -> int:
    response = client.post("/api/v1/suggestions", files={"audio": ("note.html", data, declared)})
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def _assert_served_as_audio(headers: Mapping[str, str], media_type: str) -> None:
    assert headers["content-type"] == media_type
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("sandbox")
    disposition = headers["content-disposition"]
    assert disposition.startswith("attachment;") and ".html" not in disposition


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (html_wav("<!doctype html><script src=/static/x.js></script>"), "text/html"),
        (script_wav(take_over_script("mallory")), "text/javascript"),
        (script_wav("alert(1)"), "application/xhtml+xml"),
        (html_wav("<svg onload=alert(1)>"), "image/svg+xml"),
    ],
)
def test_a_polyglot_recording_comes_back_as_audio_whatever_its_uploader_declared(
    client: TestClient, data: bytes, declared: str
) -> None:
    sid = _upload(client, data, declared)
    response = client.get(f"/api/v1/suggestions/{sid}/audio", headers=staff_headers(client, "reviewer"))
    assert response.status_code == 200
    assert response.content == data  # byte for byte: nothing a villager sent is lost
    _assert_served_as_audio(response.headers, "audio/wav")
    assert f"suggestion-{sid}.wav" in response.headers["content-disposition"]
    with unit_of_work(_context(client).factory) as session:
        stored = session.get(Suggestion, sid)
        assert stored is not None and stored.audio is not None
        assert stored.audio.content_type == "audio/wav"


def test_rows_stored_with_a_client_type_by_earlier_versions_are_served_safely(client: TestClient) -> None:
    sid = _upload(client, html_wav("<p>old row</p>"), "audio/wav")
    with unit_of_work(_context(client).factory) as session:
        audio_id = session.get(Suggestion, sid).audio_id  # type: ignore[union-attr]
        session.execute(update(Audio).where(Audio.id == audio_id).values(content_type="text/html"))
    response = client.get(f"/api/v1/suggestions/{sid}/audio", headers=staff_headers(client, "reviewer"))
    _assert_served_as_audio(response.headers, "audio/wav")


def test_every_data_response_is_sandboxed_and_pages_keep_their_policy(client: TestClient) -> None:
    data = client.get("/api/v1/track/XXXX-XXXX")  # JSON (a 404 here) may carry a villager's words
    assert data.headers["content-security-policy"].startswith("sandbox")
    assert data.headers["x-content-type-options"] == "nosniff"
    page = client.get("/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "sandbox" not in page.headers["content-security-policy"]
    script = client.get("/static/record.js")
    assert "sandbox" not in script.headers["content-security-policy"]


def test_a_recording_sent_with_text_as_well_is_refused_and_nothing_is_stored(client: TestClient) -> None:
    with unit_of_work(_context(client).factory) as session:
        before = session.query(Suggestion).count()
    response = client.post(
        "/api/v1/suggestions",
        files={"audio": ("note.wav", html_wav("<p>x</p>"), "audio/wav")},
        data={"text": "路灯坏了"},
    )
    assert response.status_code == 422
    assert "not both" in response.json()["detail"]
    with unit_of_work(_context(client).factory) as session:
        assert session.query(Suggestion).count() == before

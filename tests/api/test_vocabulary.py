"""The township vocabulary over HTTP: learning from a reviewed correction, the admin's JSON
endpoints and page, and a real voice note heard right after one clerk's correction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.db import unit_of_work
from models.suggestions import queries
from tests.api.conftest import _context, make_client, staff_headers, staff_login, wait_until_processed

VOCABULARY = "/api/v1/admin/vocabulary"
PAGE = "/staff/admin/vocabulary"
HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("vocabulary"), weights_cache) as c:
        yield c


def _typed(client: TestClient, text: str, heard: str | None) -> int:
    """A processed suggestion; with ``heard``, as if it came from a voice note the machine heard so."""
    response = client.post("/api/v1/suggestions", data={"text": text, "language": "zh"})
    assert response.status_code == 202, response.text
    suggestion_id: int = wait_until_processed(client, response.json()["id"])["id"]
    if heard is not None:
        with unit_of_work(_context(client).factory) as session:
            queries.add_transcript(
                session, suggestion_id, engine="faster-whisper", model="whisper-base/int8", language="zh",
                language_probability=1.0, text=heard, segments=[], dropped_segments=[], confidence=0.9,
                seconds=1.0,
            )  # fmt: skip
    return suggestion_id


def _terms(client: TestClient, admin: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = client.get(VOCABULARY, headers=admin)
    assert response.status_code == 200, response.text
    return {t["text"]: t for t in response.json()}


def test_a_reviewed_correction_of_a_transcript_teaches_its_new_words(app: TestClient) -> None:
    reviewer, admin = staff_headers(app, "reviewer"), staff_headers(app, "admin")
    heard = "咨询系列是农产品运输走高速免费的问题"
    voiced = _typed(app, heard, heard=heard)
    typed = _typed(app, "问问东坪岭村的路灯", heard=None)
    for suggestion_id, corrected in (
        (voiced, "咨询西地省农产品运输走高速免费的问题。"),
        (typed, "问问东坪岗村的路灯"),
    ):
        response = app.post(
            f"/api/v1/suggestions/{suggestion_id}/review",
            json={"category": "transport", "transcript": corrected},
            headers=reviewer,
        )
        assert response.status_code == 200, response.text
    terms = _terms(app, admin)
    assert terms["西地省"]["source"] == "correction" and terms["西地省"]["enabled"] is True
    assert not any("东坪" in t for t in terms)  # typed text has no machine transcript to learn from
    assert any(t["source"] == "department" for t in terms.values())  # the directory's names join


def test_admins_add_disable_and_enable_terms_as_json(app: TestClient) -> None:
    admin = staff_headers(app, "admin")
    added = app.post(VOCABULARY, json={"text": " 牛角冲组 "}, headers=admin)
    assert added.status_code == 201, added.text
    term = added.json()
    assert term["text"] == "牛角冲组" and term["source"] == "admin" and term["enabled"] is True
    assert app.post(VOCABULARY, json={"text": "牛角冲组"}, headers=admin).status_code == 409
    for bad in ("", "长" * 21, "a\nb"):
        refused = app.post(VOCABULARY, json={"text": bad}, headers={**admin, "Accept-Language": "zh-CN"})
        assert refused.status_code == 422 and "词条" in refused.json()["detail"], refused.text
        assert refused.json()["message_id"].startswith("The term"), refused.text
    assert app.post(VOCABULARY, json={"text": "长" * 1000}, headers=admin).status_code == 422
    disabled = app.delete(f"{VOCABULARY}/{term['id']}", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    assert _terms(app, admin)["牛角冲组"]["enabled"] is False  # kept, not deleted
    assert app.post(VOCABULARY, json={"text": "牛角冲组"}, headers=admin).json()["enabled"] is True
    assert app.delete(f"{VOCABULARY}/999999", headers=admin).status_code == 404


def test_only_admins_see_or_change_the_vocabulary(app: TestClient) -> None:
    reviewer = staff_headers(app, "reviewer")
    assert app.get(VOCABULARY).status_code == 401
    assert app.get(VOCABULARY, headers=reviewer).status_code == 403
    assert app.post(VOCABULARY, json={"text": "某村"}, headers=reviewer).status_code == 403
    assert app.delete(f"{VOCABULARY}/1", headers=reviewer).status_code == 403


def test_the_page_shows_hostile_terms_escaped_and_its_forms_edit_them(
    tmp_path: Path, weights_cache: Path
) -> None:
    with make_client(tmp_path / "var", weights_cache, worker_enabled=False) as client:
        csrf = staff_login(client, "admin")
        hostile = "<script>x</script>"
        response = client.post(
            PAGE, data={"text": hostile, "csrf_token": csrf}, headers=HTML, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        page = client.get(PAGE, headers=HTML)
        assert page.status_code == 200 and "乡镇词表" in page.text
        assert hostile not in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text
        no_token = client.post(PAGE, data={"text": "甲村"}, headers=HTML, follow_redirects=False)
        assert no_token.status_code == 403
        too_long = client.post(PAGE, data={"text": "长" * 21, "csrf_token": csrf}, headers=HTML)
        assert too_long.status_code == 422 and "词条太长" in too_long.text
        admin = staff_headers(client, "admin")
        term_id = _terms(client, admin)[hostile]["id"]
        off = client.post(
            f"{PAGE}/{term_id}/enabled", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False
        )
        assert off.status_code == 303 and _terms(client, admin)[hostile]["enabled"] is False
        on = client.post(
            f"{PAGE}/{term_id}/enabled",
            data={"enabled": "1", "csrf_token": csrf},
            headers=HTML,
            follow_redirects=False,
        )
        assert on.status_code == 303 and _terms(client, admin)[hostile]["enabled"] is True
        english = client.get(PAGE + "?lang=en", headers=HTML)
        assert "Township vocabulary" in english.text


@pytest.mark.slow
def test_a_place_name_is_heard_right_after_one_clerks_correction(
    shared_eval: Path, tmp_path: Path, weights_cache: Path
) -> None:
    """Two civic notes whose references share a place name (西地省) that Whisper base mishears:
    a clerk corrects the first through the review API; the second is then transcribed with it."""
    notes = shared_eval / "voice" / "zh"
    name = "西地省"
    with make_client(tmp_path / "var", weights_cache, asr_township_vocabulary=True) as app:
        _heard_right_after_correction(app, notes, name)


def _heard_right_after_correction(app: TestClient, notes: Path, name: str) -> None:
    reviewer = staff_headers(app, "reviewer")

    def voice(file: str) -> dict[str, Any]:
        with (notes / file).open("rb") as fh:
            response = app.post(
                "/api/v1/suggestions", files={"audio": (file, fh, "audio/webm")}, data={"language": "zh"}
            )
        assert response.status_code == 202, response.text
        return wait_until_processed(app, response.json()["id"], timeout=180)

    before = voice("tca3:237798.webm")
    assert name not in before["transcript"]
    corrected = voice("tca3:262046.webm")
    assert name not in corrected["transcript"]
    reference = "咨询西地省农产品运输走高速免费的问题。"
    response = app.post(
        f"/api/v1/suggestions/{corrected['id']}/review",
        json={"category": "transport", "transcript": reference},
        headers=reviewer,
    )
    assert response.status_code == 200, response.text
    after = voice("tca3:237798.webm")
    assert name in after["transcript"], after["transcript"]

"""Staff review through the HTTP API: the queue, decisions, re-routing and the stored Review rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_client, staff_headers, wait_until_processed

TEXTS = [
    ("The streetlight outside number 12 has been off for a week", "en"),
    ("Huge pothole on the high street, a cyclist nearly fell", "en"),
    ("Someone dumped rubbish and old tyres by the river", "en"),
    ("路灯坏了好几天，晚上一片漆黑", "zh"),
    ("村口的路坑坑洼洼，下雨天车都开不了", "zh"),
    ("I have a question about my pension payments", "en"),
]


def submit(client: TestClient, text: str, **fields: str) -> dict[str, Any]:
    """Submit a typed suggestion and wait until the worker is done with it."""
    response = client.post("/api/v1/suggestions", data={"text": text, **fields})
    assert response.status_code == 202, response.text
    return wait_until_processed(client, response.json()["id"])


@pytest.fixture(scope="module")
def triage(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    """An app that sends every suggestion to staff triage (no automatic retraining)."""
    with make_client(
        tmp_path_factory.mktemp("var"), weights_cache, min_classifier_confidence=1.0, retrain_after_reviews=0
    ) as c:
        c.headers.update(staff_headers(c, "reviewer"))
        for text, language in TEXTS:
            assert submit(c, text, language=language)["status"] == "needs_review"
        yield c


def test_the_queue_shows_least_confident_first_and_filters(triage: TestClient) -> None:
    body = triage.get("/api/v1/review", params={"limit": 50}).json()
    assert body["total"] >= len(TEXTS)
    confidences = [item["confidence"] for item in body["items"]]
    assert confidences == sorted(confidences)
    item = body["items"][0]
    assert set(item["probabilities"]) == {"transport", "urban_construction", "environment", "power", "other"}
    assert item["classifier_version"] is not None and item["reviewed"] is False

    zh = triage.get("/api/v1/review", params={"language": "zh", "limit": 50}).json()
    assert zh["total"] == 2 and all(i["language"] == "zh" for i in zh["items"])
    power = triage.get("/api/v1/review", params={"category": "power", "limit": 50}).json()
    assert power["total"] >= 1 and all(i["category"] == "power" for i in power["items"])
    dept = triage.get("/api/v1/review", params={"department": "power_station", "limit": 50}).json()
    assert {i["id"] for i in dept["items"]} == {i["id"] for i in power["items"]}
    assert triage.get("/api/v1/review", params={"until": "2000-01-01"}).json()["total"] == 0
    assert triage.get("/api/v1/review", params={"status": "routed"}).json()["total"] == 0
    first_two = [i["id"] for i in body["items"][:2]]
    rest = triage.get("/api/v1/review", params=[("exclude", first_two[0]), ("exclude", first_two[1])]).json()
    assert rest["total"] == body["total"] - 2 and rest["items"][0]["id"] == body["items"][2]["id"]


def test_bad_queue_filters_get_a_clear_message(triage: TestClient) -> None:
    backwards = {"since": "2026-02-01", "until": "2026-01-01"}
    for params in ({"status": "lost"}, {"category": "weather"}, backwards):
        response = triage.get("/api/v1/review", params=params)
        assert response.status_code == 422, response.text
        assert response.json()["error"] in ("InvalidInput", "ValidationError")


def test_a_corrected_category_and_text_reroute_and_keep_the_original(triage: TestClient) -> None:
    item = triage.get("/api/v1/review", params={"category": "transport", "limit": 1}).json()["items"][0]
    original_text = item["text"]
    response = triage.post(
        f"/api/v1/suggestions/{item['id']}/review",
        json={"category": "environment", "transcript": original_text + " Please send someone."},
    )
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["verdict"] == "corrected" and decision["category"] == "environment"
    assert decision["status"] == "routed" and decision["department"] == "ecology_bureau"
    assert decision["rerouted"] is True

    body = triage.get(f"/api/v1/suggestions/{item['id']}").json()
    assert body["category"] == "environment" and body["category_source"] == "staff"
    assert body["transcript"].endswith("Please send someone.")
    assert body["prediction"]["label"] == "transport"  # the model's guess is kept beside the decision
    last = body["history"][-1]
    me = triage.get("/api/v1/staff/me").json()["username"]
    assert last["kind"] == "reviewed" and last["actor"] == me
    assert last["from_status"] == "needs_review" and last["to_status"] == "routed"
    assert last["detail"]["previous_category"] == "transport" and last["detail"]["text_corrected"] is True

    reviews = triage.get(f"/api/v1/suggestions/{item['id']}/reviews").json()
    assert len(reviews) == 1 and reviews[0]["reviewer"] == me
    assert reviews[0]["predicted_label"] == "transport" and reviews[0]["label"] == "environment"
    assert reviews[0]["corrected_text"].endswith("Please send someone.")
    # Reviewed items leave the triage queue.
    queue_ids = [i["id"] for i in triage.get("/api/v1/review", params={"limit": 50}).json()["items"]]
    assert item["id"] not in queue_ids


def test_confirming_keeps_the_category_and_routes(triage: TestClient) -> None:
    item = triage.get("/api/v1/review", params={"language": "zh", "limit": 1}).json()["items"][0]
    response = triage.post(f"/api/v1/suggestions/{item['id']}/review", json={"category": item["category"]})
    assert response.status_code == 200
    decision = response.json()
    assert decision["verdict"] == "confirmed" and decision["status"] == "routed"
    body = triage.get(f"/api/v1/suggestions/{item['id']}").json()
    assert body["transcript"] == item["text"] and body["category_source"] == "staff"


def test_bad_decisions_are_refused_and_change_nothing(triage: TestClient) -> None:
    item = triage.get("/api/v1/review", params={"limit": 1}).json()["items"][0]
    for payload in ({"category": "weather"}, {"category": "power", "transcript": "   "}, {"transcript": "x"}):
        response = triage.post(f"/api/v1/suggestions/{item['id']}/review", json=payload)
        assert response.status_code == 422, payload
        assert response.json()["detail"]
    missing = triage.post("/api/v1/suggestions/999999/review", json={"category": "power"})
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    body = triage.get(f"/api/v1/suggestions/{item['id']}").json()
    assert body["status"] == "needs_review" and body["category_source"] == "model"
    assert triage.get(f"/api/v1/suggestions/{item['id']}/reviews").json() == []


def test_routed_items_can_be_spot_checked(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(tmp_path / "var", weights_cache, min_classifier_confidence=0.0) as client:
        client.headers.update(staff_headers(client, "reviewer"))
        routed = submit(client, "路灯坏了好几天，晚上一片漆黑")
        assert routed["status"] == "routed"
        assert client.get("/api/v1/review").json()["total"] == 0  # default: triage only
        spot = client.get("/api/v1/review", params={"status": "routed"}).json()
        assert [i["id"] for i in spot["items"]] == [routed["id"]]
        url = f"/api/v1/suggestions/{routed['id']}/review"
        decision = client.post(url, json={"category": "other"}).json()
        assert decision["department"] == "general_office" and decision["rerouted"] is True
        assert client.get("/api/v1/review", params={"status": "routed"}).json()["total"] == 0
        again = client.get("/api/v1/review", params={"status": "routed", "include_reviewed": True}).json()
        assert again["total"] == 1 and again["items"][0]["reviewed"] is True


def test_the_original_recording_is_served_to_reviewers(triage: TestClient, data_dir: Path) -> None:
    note = data_dir / "voice_power.ogg"
    with note.open("rb") as fh:
        receipt = triage.post("/api/v1/suggestions", files={"audio": (note.name, fh, "audio/ogg")}).json()
    wait_until_processed(triage, receipt["id"])
    item = triage.get(f"/api/v1/review/{receipt['id']}").json()
    assert item["audio_url"] == f"/api/v1/suggestions/{receipt['id']}/audio"
    assert item["original_transcript"] and item["segments"]
    assert all(0.0 <= s["confidence"] <= 1.0 for s in item["segments"])
    audio = triage.get(item["audio_url"])
    assert audio.status_code == 200 and audio.content == note.read_bytes()
    assert audio.headers["content-type"].startswith("audio/ogg")
    queue = triage.get("/api/v1/review", params={"limit": 50}).json()["items"]
    typed = next(i for i in queue if i["channel"] == "text")
    assert typed["audio_url"] is None
    assert triage.get(f"/api/v1/suggestions/{typed['id']}/audio").status_code == 404


def test_the_review_endpoints_are_documented(triage: TestClient) -> None:
    paths = triage.get("/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/review"]
    assert "post" in paths["/api/v1/suggestions/{suggestion_id}/review"]
    assert "post" in paths["/api/v1/classifier/retrain"]
    assert "get" in paths["/api/v1/classifier/versions"]
    assert "post" in paths["/api/v1/classifier/versions/{version_id}/activate"]


def test_the_queue_and_decisions_need_a_reviewer(triage: TestClient) -> None:
    item = triage.get("/api/v1/review", params={"limit": 1}).json()["items"][0]
    anonymous = {"Authorization": ""}
    handler = staff_headers(triage, "handler", "power_station")
    for headers, status in ((anonymous, 401), (handler, 403)):
        assert triage.get("/api/v1/review", headers=headers).status_code == status
        decided = triage.post(
            f"/api/v1/suggestions/{item['id']}/review", json={"category": "power"}, headers=headers
        )
        assert decided.status_code == status and decided.json()["detail"]
        assert triage.post("/api/v1/classifier/retrain", headers=headers).status_code == status
    # A reviewer may review but not retrain or move the active model.
    assert triage.post("/api/v1/classifier/retrain").status_code == 403
    assert triage.post("/api/v1/classifier/versions/1/activate").status_code == 403
    page = triage.get("/staff/review", headers={**anonymous, "accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")

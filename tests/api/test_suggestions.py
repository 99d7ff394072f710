"""Voice and text suggestions through the HTTP API, end to end, on the real models."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import reader_headers, wait_until_processed

DEPARTMENT = {
    "transport": "transport_bureau",
    "urban_construction": "housing_bureau",
    "environment": "ecology_bureau",
    "power": "power_station",
    "other": "general_office",
}


@pytest.mark.parametrize("category", list(DEPARTMENT))
def test_a_voice_note_becomes_a_routed_suggestion(client: TestClient, data_dir: Path, category: str) -> None:
    note = data_dir / f"voice_{category}.ogg"
    with note.open("rb") as fh:
        response = client.post(
            "/api/v1/suggestions", files={"audio": (note.name, fh, "audio/ogg")}, data={"village": "河西村"}
        )
    assert response.status_code == 202, response.text
    receipt = response.json()
    assert receipt["status"] == "received" and len(receipt["tracking_code"]) == 9

    body = wait_until_processed(client, receipt["id"])
    assert body["status"] == "routed", body
    assert body["language"] == "en"
    assert body["category"] == category and body["category_source"] == "model"
    assert body["department"]["code"] == DEPARTMENT[category]
    assert 0.0 < body["confidence"] <= 1.0
    assert len(body["transcript"]) > 20
    detail = body["transcript_detail"]
    assert detail["engine"] == "faster-whisper" and 0.4 <= detail["confidence"] <= 1.0
    assert all({"avg_logprob", "no_speech_prob", "compression_ratio"} <= set(s) for s in detail["segments"])
    assert abs(sum(body["prediction"]["probabilities"].values()) - 1.0) < 1e-6
    assert [e["kind"] for e in body["history"]] == ["received", "transcribed", "classified", "routed"]


def test_silence_is_not_turned_into_a_complaint(client: TestClient, data_dir: Path) -> None:
    with (data_dir / "silence.wav").open("rb") as fh:
        response = client.post("/api/v1/suggestions", files={"audio": ("silence.wav", fh, "audio/wav")})
    assert response.status_code == 202
    body = wait_until_processed(client, response.json()["id"])
    assert body["status"] == "needs_review"
    assert body["transcript"] == "" and body["category"] is None and body["department"] is None
    assert "No speech" in body["review_reason"]
    # The reason is kept as a message, so a Chinese reader gets it in Chinese.
    reader = {**reader_headers(client), "Accept-Language": "zh-CN,zh;q=0.9"}
    chinese = client.get(f"/api/v1/suggestions/{body['id']}", headers=reader).json()["review_reason"]
    assert chinese == "录音里没有听到说话。请听一下录音，把村民说的内容录入。"
    reviewer = {**reader, "Accept-Language": "zh"}
    queue = client.get("/api/v1/review", headers=reviewer).json()["items"]
    assert [i["review_reason"] for i in queue if i["id"] == body["id"]] == [chinese]


def test_a_typed_suggestion_is_classified_and_routed(client: TestClient) -> None:
    response = client.post(
        "/api/v1/suggestions",
        data={
            "text": "五星路上乱停车太严重了，早上公交车都开不过去，请交警来管一管。",
            "phone": "13800000000",
        },
    )
    assert response.status_code == 202, response.text
    body = wait_until_processed(client, response.json()["id"])
    assert body["status"] == "routed"
    assert body["category"] == "transport" and body["department"]["code"] == "transport_bureau"
    assert body["channel"] == "text" and body["transcript_detail"] is None
    # Staff see how to reach the villager; nobody else can read the suggestion at all.
    assert body["contact"]["phone"] == "13800000000"
    anonymous = client.get(f"/api/v1/suggestions/{body['id']}")
    assert anonymous.status_code == 401 and "13800000000" not in anonymous.text


def test_the_villager_tracks_by_code_without_seeing_personal_data(client: TestClient) -> None:
    response = client.post(
        "/api/v1/suggestions",
        data={
            "text": "我家这个月停电三次了，电压也不稳，冰箱都坏了。",
            "phone": "13912345678",
            "name": "王阿姨",
        },
    )
    receipt = response.json()
    wait_until_processed(client, receipt["id"])
    track = client.get(f"/api/v1/track/{receipt['tracking_code'].lower()}")
    assert track.status_code == 200
    view = track.json()
    assert view["tracking_code"] == receipt["tracking_code"]
    assert view["status"] == "routed" and view["department_zh"] == "供电所"
    assert set(view) == {
        "tracking_code",
        "status",
        "status_zh",
        "status_en",
        "next_zh",
        "next_en",
        "category",
        "department_zh",
        "department_en",
        "result_note",
        "can_rate",
        "satisfaction",
        "already_reported",
        "already_reported_status_zh",
        "already_reported_status_en",
        "submitted_at",
        "updated_at",
        "topic_outcome",
    }
    assert "13912345678" not in track.text and "王阿姨" not in track.text


def test_unknown_ids_and_codes_are_clear_404s(client: TestClient) -> None:
    missing = client.get("/api/v1/suggestions/999999", headers=reader_headers(client))
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    code = client.get("/api/v1/track/ZZZZ-ZZZZ")
    assert code.status_code == 404 and "tracking code" in code.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/api/v1/suggestions/2147483648", "/api/v1/suggestions/2147483648/workflow"]
)
def test_ids_beyond_the_database_integer_range_are_client_errors(client: TestClient, path: str) -> None:
    # PostgreSQL's INTEGER stops at 2**31 - 1; such an id must not become a server error.
    response = client.get(path, headers=reader_headers(client))
    assert response.status_code in (404, 422), response.text
    assert response.json()["detail"]


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz", headers=reader_headers(client))  # staff see the checks
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"]["jobs"] == "run by this server"


def test_openapi_documents_the_contract(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/api/v1/suggestions"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert "202" in post["responses"]
    assert "/api/v1/suggestions/{suggestion_id}" in spec["paths"]
    assert "/api/v1/track/{tracking_code}" in spec["paths"]


def test_an_unclear_suggestion_waits_for_a_person_with_a_proposed_department(client: TestClient) -> None:
    # Four things at once (power cuts, traffic, rubbish, illegal building): no one department fits and
    # the seed model is unsure (0.37). A bare greeting no longer serves: with sentence meaning the
    # seed model calls "你好，请问一下" other, at 0.96.
    response = client.post("/api/v1/suggestions", data={"text": "停电、堵车、垃圾、违建，哪件都没人管"})
    body = wait_until_processed(client, response.json()["id"])
    assert body["status"] == "needs_review", body
    assert "uncertain" in body["review_reason"]
    assert body["category"] is not None and body["confidence"] < 0.5
    assert body["department"] is not None  # the routing proposal a clerk confirms or changes
    track = client.get(f"/api/v1/track/{body['tracking_code']}").json()
    assert track["status_en"] == "Being checked by staff" and track["department_en"] is None

"""Open311 GeoReport v2 endpoints, checked field by field against the spec."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, T0, Staffing, routed_suggestion, villager_rating_key

KEY = "s3cret-key"
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(
        staffing,
        tmp_path_factory.mktemp("var"),
        weights_cache,
        worker_enabled=False,
        open311_api_keys=f"citizenapp={KEY}",
    ) as c:
        yield c


def post(api: TestClient, **fields: str) -> Any:
    data = {"api_key": KEY, "service_code": "transport", "lat": "30.87", "long": "120.09", **fields}
    return api.post("/open311/v2/requests.json", data={k: v for k, v in data.items() if v != ""})


def assert_error(response: Any, code: int, words: str) -> None:
    assert response.status_code == code
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"code", "description"} and body[0]["code"] == code
    assert words in body[0]["description"]


def test_discovery(api: TestClient) -> None:
    body = api.get("/open311/v2/discovery.json").json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    assert W3C.match(body["changeset"])
    (endpoint,) = body["endpoints"]
    assert set(endpoint) == {"specification", "url", "changeset", "type", "formats"}
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and endpoint["formats"] == ["application/json"]
    assert endpoint["type"] == "production"


def test_services_one_per_category(api: TestClient) -> None:
    services = api.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in services] == [
        "transport",
        "urban_construction",
        "environment",
        "power",
        "other",
    ]
    for s in services:
        assert set(s) == SERVICE_FIELDS
        assert s["metadata"] is False and s["type"] == "realtime"
        assert isinstance(s["keywords"], str) and isinstance(s["group"], str)
    assert services[0]["service_name"] == "交通运输"
    assert api.get("/open311/v2/services.json?locale=en").json()[0]["service_name"] == "Transport"


def test_service_definition_and_unknown_service(api: TestClient) -> None:
    assert api.get("/open311/v2/services/power.json").json() == {"service_code": "power", "attributes": []}
    assert_error(api.get("/open311/v2/services/graffiti.json"), 404, "graffiti")


def test_post_needs_a_valid_api_key(api: TestClient) -> None:
    assert_error(post(api, api_key=""), 403, "api_key")
    assert_error(post(api, api_key="guess"), 403, "api_key")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"service_code": ""}, "service_code is required"),
        ({"service_code": "graffiti"}, "not a service"),
        ({"lat": "", "long": ""}, "location is required"),
        ({"long": ""}, "together"),
        ({"description": ""}, "description is required"),
        ({"lat": "north"}, "lat must be a number"),
        ({"media_url": "file:///etc/passwd"}, "media_url"),
    ],
)
def test_post_bad_input_is_400_in_the_spec_shape(api: TestClient, fields: dict[str, str], words: str) -> None:
    fields.setdefault("description", "路口红绿灯坏了")
    assert_error(post(api, **fields), 400, words)


def test_post_then_get_the_request(api: TestClient) -> None:
    r = post(
        api,
        description="五星路口的红绿灯坏了三天了",
        media_url="https://example.org/photo.jpg",
        email="a@example.org",
        first_name="Li",
        last_name="Ming",
        phone="13700000000",
        account_id="acc-9",
        address_string="五星路与河西路口",
    )
    assert r.status_code == 200, r.text
    (receipt,) = r.json()
    assert set(receipt) == {"service_request_id", "service_notice", "account_id"}
    assert receipt["account_id"] == "acc-9"
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", receipt["service_notice"])
    assert code is not None
    rid = receipt["service_request_id"]

    response = api.get(f"/open311/v2/requests/{rid}.json")
    assert response.headers["content-type"].startswith("application/json")
    (item,) = response.json()
    assert set(item) == REQUEST_FIELDS
    assert item["service_request_id"] == rid and item["status"] == "open"
    assert item["service_code"] == "transport" and item["service_name"] == "交通运输"
    assert item["description"] == "五星路口的红绿灯坏了三天了"
    # the public sees no exact place and no media; a client with an api_key does
    assert (item["address"], item["lat"], item["long"], item["media_url"]) == (None, None, None, None)
    (full,) = api.get(f"/open311/v2/requests/{rid}.json?api_key={KEY}").json()
    assert full["address"] == "五星路与河西路口"
    assert (full["lat"], full["long"]) == (30.87, 120.09)
    assert full["media_url"] == "https://example.org/photo.jpg"
    assert W3C.match(item["requested_datetime"]) and W3C.match(item["updated_datetime"])
    assert item["expected_datetime"] is None and item["agency_responsible"] is None
    text = response.text
    for private in ("13700000000", "a@example.org", "Ming", code.group(0)):
        assert private not in text

    (ext,) = api.get(f"/open311/v2/requests/{rid}.json?extensions=true").json()
    assert set(ext) == REQUEST_FIELDS | {"extended_attributes"}
    assert ext["extended_attributes"] == {
        "minsheng_status": "received",
        "channel": "open311",
        "satisfaction": None,
    }
    track = api.get(f"/api/v1/track/{code.group(0)}")
    assert track.status_code == 200


def test_resolved_request_maps_to_closed_with_notes_agency_and_expected(
    api: TestClient, staffing: Staffing
) -> None:
    sid, code = routed_suggestion(api, "power")
    key = villager_rating_key(api, sid)
    with staffing.as_(*ADMIN):
        api.post(f"/api/v1/suggestions/{sid}/dispatch", json={})
        (open_item,) = api.get(f"/open311/v2/requests/{sid}.json").json()
        assert open_item["status"] == "open" and open_item["status_notes"] is None
        assert open_item["agency_responsible"] == "供电所"
        assert open_item["expected_datetime"] == "2026-11-09T08:00:00Z"
        for step in ("accept", "start"):
            api.post(f"/api/v1/suggestions/{sid}/{step}")
        api.post(f"/api/v1/suggestions/{sid}/resolve", json={"result_note": "已检修线路"})
    assert api.post(f"/api/v1/track/{code}/satisfaction", json={"score": 4, "key": key}).status_code == 200
    (item,) = api.get(f"/open311/v2/requests/{sid}.json?extensions=true&locale=en").json()
    assert item["status"] == "closed" and item["status_notes"] == "已检修线路"
    assert item["agency_responsible"] == "Power Supply Station" and item["service_name"] == "Power supply"
    assert item["extended_attributes"] == {"minsheng_status": "closed", "channel": "text", "satisfaction": 4}
    assert "张三" not in str(item) and "13800000000" not in str(item)


def test_request_filters(api: TestClient, staffing: Staffing) -> None:
    power, _ = routed_suggestion(api, "power")
    env, _ = routed_suggestion(api, "environment")
    ids = {
        int(i["service_request_id"]) for i in api.get("/open311/v2/requests.json?service_code=power").json()
    }
    assert power in ids and env not in ids
    both = api.get(f"/open311/v2/requests.json?service_request_id={power},{env}&service_code=other").json()
    assert {int(i["service_request_id"]) for i in both} == {power, env}  # ids win over other filters
    closed = api.get("/open311/v2/requests.json?status=closed").json()
    assert all(i["status"] == "closed" for i in closed) and power not in {
        int(i["service_request_id"]) for i in closed
    }
    future = api.get("/open311/v2/requests.json?start_date=2099-01-01T00:00:00Z").json()
    assert future == []
    past = api.get("/open311/v2/requests.json?end_date=2000-01-01T00:00:00%2B08:00").json()
    assert past == []
    page1 = api.get("/open311/v2/requests.json?page_size=1&page=1").json()
    page2 = api.get("/open311/v2/requests.json?page_size=1&page=2").json()
    assert len(page1) == len(page2) == 1 and page1[0]["service_request_id"] != page2[0]["service_request_id"]
    assert_error(api.get("/open311/v2/requests.json?start_date=yesterday"), 400, "start_date")
    assert_error(api.get("/open311/v2/requests.json?start_date=2026-11-01T00:00:00"), 400, "time zone")
    assert_error(api.get("/open311/v2/requests.json?status=pending"), 400, "status")
    assert_error(api.get("/open311/v2/requests.json?page_size=5000"), 400, "page_size")
    assert_error(api.get("/open311/v2/requests/999999.json"), 404, "999999")


def test_default_window_is_the_last_90_days(api: TestClient, staffing: Staffing) -> None:
    sid, _ = routed_suggestion(api, "power")
    staffing.clock.now = T0 + timedelta(days=400)
    try:
        ids = {int(i["service_request_id"]) for i in api.get("/open311/v2/requests.json").json()}
        assert sid not in ids
    finally:
        staffing.clock.now = T0


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("service_request_id=²", "service_request_id"),
        ("service_request_id=1,²", "service_request_id"),
        ("service_request_id=١٢", "service_request_id"),
        (f"service_request_id={2**31}", "2147483647"),
        (f"service_request_id={2**63}", "service_request_id"),
        (f"service_request_id={2**64 + 1}", "service_request_id"),
        ("service_request_id=" + "9" * 5000, "service_request_id"),
        ("service_request_id=0", "service_request_id"),
        ("service_request_id=-1", "service_request_id"),
        ("service_request_id=" + ",".join(["1"] * 1001), "at most 1000"),
        ("page=²", "page"),
        ("page_size=²", "page_size"),
        ("page=１", "page"),
        ("page=0", "page"),
        (f"page={2**63}", "page"),
        ("page=" + "9" * 5000, "page"),
        ("page_size=1e3", "page_size"),
        ("start_date=²", "start_date"),
        ("start_date=yesterday", "start_date"),
        ("start_date=２０２６-11-01T00:00:00Z", "start_date"),
        ("start_date=2026-13-01T00:00:00Z", "start_date"),
        ("end_date=2026-11-01T25:00:00Z", "end_date"),
        ("start_date=9999-12-31T23:59:59-23:59", "start_date"),
        ("end_date=0001-01-01T00:00:00%2B23:59", "end_date"),
        ("start_date=2026-11-01", "time zone"),
        ("end_date=2026-11-01T00:00:00", "time zone"),
        ("start_date=2026-11-02T00:00:00Z&end_date=2026-11-01T00:00:00Z", "after"),
    ],
)
def test_odd_numbers_and_times_are_400_not_500(api: TestClient, query: str, words: str) -> None:
    assert_error(api.get(f"/open311/v2/requests.json?{query}"), 400, words)


@pytest.mark.parametrize(
    "rid", ["²", "١٢", "０", str(2**31), str(2**63), str(2**64 + 1), "9" * 5000, "0", "-1"]
)
def test_odd_request_ids_are_404_not_500(api: TestClient, rid: str) -> None:
    assert_error(api.get(f"/open311/v2/requests/{rid}.json"), 404, "No service request")


@pytest.mark.parametrize(
    "query",
    [
        "start_date=2026-11-01T00:00:00Z&end_date=2026-11-01T08:00:00%2B08:00",  # the same instant
        "start_date=2026-11-01T08:00:00+08:00",  # a literal + arrives as a space
        "end_date=2099-01-01T00:00:00-05:00",
        f"service_request_id={2**31 - 1}&page=1000000&page_size=1000",
    ],
)
def test_aware_times_in_any_zone_and_bounded_numbers_are_accepted(api: TestClient, query: str) -> None:
    response = api.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)

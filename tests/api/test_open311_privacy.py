"""The public Open311 feed publishes no personal data and no internal items, and is rate-limited;
API-key clients and staff see the full record (issue 19, item 3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_client, staffed_client, wait_until_processed
from tests.api.workflow_helpers import ADMIN, T0, Staffing

KEY = "feed-key-7f3a"
SINCE = "start_date=2000-01-01T00:00:00Z"  # every row, whatever day the tests run

NAME, PHONE, ID_NUMBER = "王秀英", "13912345678", "33010219900307123X"
ADDRESS, LAT, LON = "五星路12号3幢502室", "30.871234", "120.093456"
TEXT = (
    f"我叫{NAME}，电话{PHONE}，身份证号{ID_NUMBER}。我家在{ADDRESS}，门口的路灯坏了三天了，晚上很黑，"
    "老人出门不安全。"
)
EN_TEXT = (
    "My name is John Smith, call me on 138 0013 8000 or john.smith@example.org. "
    "The street light outside 12 Wuxing Road, Room 502 has been out for a week."
)
AGENDA_TITLE = "内部议题：青山村变压器更换预算"
# None of this may appear anywhere in an anonymous response.
PRIVATE = [
    NAME,
    PHONE,
    "139 1234",
    ID_NUMBER,
    "12号",
    "502",
    "30.87",
    "120.09",
    "John",
    "Smith",
    "138 0013 8000",
    "john.smith@example.org",
    "12 Wuxing",
    "Li Na",
    "li.na@example.org",
    "13700001111",
    "https://example.org/private-photo.jpg",
    AGENDA_TITLE,
    "变压器",
]


@dataclass
class Rows:
    """The ids of what the feed holds: a villager's text note, an Open311 request, an agenda item."""

    text: int
    open311: int
    agenda: int


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(
        staffing, tmp_path_factory.mktemp("var"), weights_cache, open311_api_keys=f"mapapp={KEY}"
    ) as c:
        yield c


@pytest.fixture(scope="module")
def rows(api: TestClient, staffing: Staffing) -> Rows:
    note = api.post(
        "/api/v1/suggestions",
        data={
            "text": TEXT,
            "name": NAME,
            "phone": PHONE,
            "village": "河西村",
            "address": ADDRESS,
            "latitude": LAT,
            "longitude": LON,
        },
    )
    assert note.status_code == 202, note.text
    text_id = note.json()["id"]
    assert wait_until_processed(api, text_id)["category"] is not None  # so it is in the feed

    posted = api.post(
        "/open311/v2/requests.json",
        data={
            "api_key": KEY,
            "service_code": "urban_construction",
            "description": EN_TEXT,
            "lat": LAT,
            "long": LON,
            "address_string": "12 Wuxing Road, Room 502",
            "first_name": "Li",
            "last_name": "Na",
            "email": "li.na@example.org",
            "phone": "13700001111",
            "media_url": "https://example.org/private-photo.jpg",
        },
    )
    assert posted.status_code == 200, posted.text

    with staffing.as_(*ADMIN):
        (meeting,) = api.post(
            "/api/v1/appointments/sessions/plan", json={"first": "2026-12-01", "count": 1}
        ).json()
        item = api.post(
            f"/api/v1/appointments/sessions/{meeting['id']}/items",
            json={
                "title": AGENDA_TITLE,
                "actions": "供电所下月更换变压器",
                "department_code": "power_station",
                "deadline": (T0 + timedelta(days=30)).isoformat(),
            },
        )
        assert item.status_code == 201, item.text
    return Rows(text_id, int(posted.json()[0]["service_request_id"]), item.json()["suggestion_id"])


def ids_of(response: Any) -> set[int]:
    assert response.status_code == 200, response.text
    return {int(i["service_request_id"]) for i in response.json()}


def assert_nothing_private(response: Any) -> None:
    assert response.status_code == 200, response.text
    for private in PRIVATE:
        assert private not in response.text, f"{private!r} is in {response.text}"


@pytest.mark.parametrize(
    "query",
    [SINCE, f"{SINCE}&extensions=true", f"{SINCE}&locale=en", f"{SINCE}&status=open", "", "page_size=5"],
)
def test_the_anonymous_list_leaks_no_personal_data_and_no_internal_item(
    api: TestClient, rows: Rows, query: str
) -> None:
    response = api.get(f"/open311/v2/requests.json?{query}")
    assert_nothing_private(response)
    listed = ids_of(response)
    assert {rows.text, rows.open311} <= listed and rows.agenda not in listed
    by_ids = api.get(f"/open311/v2/requests.json?service_request_id={rows.text},{rows.open311},{rows.agenda}")
    assert_nothing_private(by_ids)
    assert ids_of(by_ids) == {rows.text, rows.open311}


def test_an_anonymous_single_read_shows_the_public_view(api: TestClient, rows: Rows) -> None:
    response = api.get(f"/open311/v2/requests/{rows.text}.json?extensions=true")
    assert_nothing_private(response)
    (item,) = response.json()
    assert item["address"] == "河西村"  # the village, not the house
    assert (item["lat"], item["long"], item["media_url"]) == (None, None, None)
    description = item["description"]
    assert "门口的路灯坏了三天了，晚上很黑" in description  # still says what the note is about
    assert "[姓名]" in description and "[电话]" in description and "[身份证号]" in description
    assert item["service_code"] and item["requested_datetime"] and item["status"] == "open"

    response = api.get(f"/open311/v2/requests/{rows.open311}.json")
    assert_nothing_private(response)
    (item,) = response.json()
    assert item["description"].startswith("My name is [name], call me on [phone] or [email].")
    assert "has been out for a week" in item["description"]
    assert item["address"] is None and item["lat"] is None


def test_an_internal_item_is_not_found_anonymously_or_by_an_api_key(api: TestClient, rows: Rows) -> None:
    for suffix in ("", f"?api_key={KEY}"):
        response = api.get(f"/open311/v2/requests/{rows.agenda}.json{suffix}")
        assert response.status_code == 404 and AGENDA_TITLE not in response.text
    assert rows.agenda not in ids_of(api.get(f"/open311/v2/requests.json?{SINCE}&api_key={KEY}"))


def test_an_api_key_client_sees_the_full_record(api: TestClient, rows: Rows) -> None:
    items = {
        int(i["service_request_id"]): i
        for i in api.get(f"/open311/v2/requests.json?{SINCE}&api_key={KEY}").json()
    }
    note, posted = items[rows.text], items[rows.open311]
    assert note["description"] == TEXT and note["address"] == ADDRESS
    assert (note["lat"], note["long"]) == (float(LAT), float(LON))
    assert posted["description"] == EN_TEXT
    assert posted["media_url"] == "https://example.org/private-photo.jpg"


def test_staff_see_internal_items_too(api: TestClient, staffing: Staffing, rows: Rows) -> None:
    with staffing.as_(*ADMIN):
        (item,) = api.get(f"/open311/v2/requests/{rows.agenda}.json").json()
        assert AGENDA_TITLE in item["description"]
        listed = ids_of(api.get(f"/open311/v2/requests.json?{SINCE}"))
        assert {rows.text, rows.open311, rows.agenda} <= listed
        (note,) = api.get(f"/open311/v2/requests/{rows.text}.json").json()
        assert note["description"] == TEXT


def test_a_wrong_api_key_is_refused(api: TestClient, rows: Rows) -> None:
    response = api.get(f"/open311/v2/requests.json?api_key=guess-{KEY}")
    assert response.status_code == 403 and "api_key" in response.json()[0]["description"]


def test_public_reads_are_rate_limited_and_location_is_the_operators_choice(
    tmp_path: Path, weights_cache: Path
) -> None:
    with make_client(
        tmp_path,
        weights_cache,
        worker_enabled=False,
        open311_api_keys=f"mapapp={KEY}",
        open311_rate_limit=3,
        open311_public_location=True,
    ) as client:
        posted = client.post(
            "/open311/v2/requests.json",
            data={"api_key": KEY, "service_code": "transport", "description": f"公交站牌倒了，打{PHONE}",
                  "lat": LAT, "long": LON, "address_string": "五星路公交站"},
        )  # fmt: skip
        rid = posted.json()[0]["service_request_id"]
        (item,) = client.get(f"/open311/v2/requests/{rid}.json").json()
        assert (item["lat"], item["long"], item["address"]) == (float(LAT), float(LON), "五星路公交站")
        assert PHONE not in item["description"]  # the location is public now, personal data still not
        assert client.get("/open311/v2/requests.json").status_code == 200
        assert client.get(f"/open311/v2/requests.json?api_key=guess-{KEY}").status_code == 403  # counts
        limited = client.get(f"/open311/v2/requests/{rid}.json")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()[0]["code"] == 429 and "wait" in limited.json()[0]["description"]
        assert client.get(f"/open311/v2/requests.json?api_key={KEY}").status_code == 200  # a client isn't

"""Finding a suggestion: by tracking code, village, words of the text, and phone for the office only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, Staffing, routed_suggestion

HTML = {"accept": "text/html"}
HANDLER = ("li", "handler")


@pytest.fixture(scope="module")
def web(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


def _found(page: str) -> list[str]:
    return re.findall(r'href="/staff/suggestions/\d+">([A-Z0-9]{4}-[A-Z0-9]{4})<', page)


def test_a_clerk_finds_a_note_by_code_village_words_or_phone(web: TestClient, staffing: Staffing) -> None:
    lamp_id, lamp = routed_suggestion(web, "power", village="青山村", text="村口路灯坏了三天")
    _, bins = routed_suggestion(
        web, "environment", village="白水村", text="垃圾桶<script>alert(1)</script>满了"
    )
    with staffing.as_(*ADMIN):
        by_code = web.get("/staff/search", params={"q": lamp.lower().replace("-", "")}, headers=HTML).text
        by_village = web.get("/staff/search", params={"q": "白水"}, headers=HTML).text
        by_words = web.get("/staff/search", params={"q": "路灯"}, headers=HTML).text
        by_phone = web.get("/staff/search", params={"q": "1380000"}, headers=HTML).text
        wildcard = web.get("/staff/search", params={"q": "%"}, headers=HTML).text
        too_long = web.get("/staff/search", params={"q": "路" * 101}, headers=HTML)
        found = web.get(f"/staff/suggestions/{lamp_id}", headers=HTML).text
    assert _found(by_code) == [lamp]
    assert _found(by_village) == [bins] and "<script>alert" not in by_village  # shown, escaped
    assert "&lt;script&gt;" in by_village
    assert lamp in _found(by_words) and bins not in _found(by_words)
    assert {lamp, bins} <= set(_found(by_phone))  # both were sent from 13800000000
    assert _found(wildcard) == []  # a % is a character, not "anything"
    assert too_long.status_code == 422 and "最多 100 个字" in too_long.text
    assert f'id="tracking-code">{lamp}<' in found  # the page it leads to shows the code
    assert "电力" in by_words and "power" not in by_words[by_words.index('id="results"') :]


def test_a_handler_cannot_search_villagers_phone_numbers(web: TestClient, staffing: Staffing) -> None:
    routed_suggestion(web, "power", village="青山村", text="电线杆歪了")
    with staffing.as_(*HANDLER, department="power_station"):
        page = web.get("/staff/search", params={"q": "13800000000"}, headers=HTML).text
        by_village = web.get("/staff/search", params={"q": "青山村"}, headers=HTML).text
    assert _found(page) == [] and "电话号码" not in page
    assert _found(by_village)  # the rest of the search works for them

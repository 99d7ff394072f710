"""Pages and JSON errors in the reader's language: Chinese by default, English when asked for;
a parameter of a translated message is escaped on the page like any other text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_client

HTML = {"accept": "text/html"}
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def plain_client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    """A client that states no language (the test clients of tests.api ask for English)."""
    with make_client(tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        del c.headers["Accept-Language"]
        yield c


@pytest.fixture(autouse=True)
def no_language_cookie(plain_client: TestClient) -> None:
    """Each test starts with no remembered language."""
    plain_client.cookies.clear()


def test_a_page_is_chinese_by_default_and_english_on_request(plain_client: TestClient) -> None:
    zh = plain_client.get("/track", headers=HTML)
    assert zh.status_code == 200 and 'lang="zh-CN"' in zh.text and "查询" in zh.text
    en = plain_client.get("/track?lang=en", headers=HTML)
    assert 'lang="en"' in en.text and "Track" in en.text


def test_a_json_error_is_chinese_by_default(plain_client: TestClient) -> None:
    body = plain_client.get("/api/v1/track/ZZZZ-ZZZZ").json()
    assert body["error"] == "NotFound"
    assert body["detail"] == "没有查询码为“ZZZZ-ZZZZ”的建议。请核对查询码后再试。"
    assert body["message_id"] == (
        "No suggestion has the tracking code '%(code)s'. Please check the code and try again."
    )
    assert body["params"] == {"code": "ZZZZ-ZZZZ"}


@pytest.mark.parametrize(
    "how", [{"params": {"lang": "en"}}, {"headers": {"Accept-Language": "en-US,en;q=0.8"}}]
)
def test_a_json_error_is_english_when_asked_for(
    plain_client: TestClient, how: dict[str, dict[str, str]]
) -> None:
    body = plain_client.get("/api/v1/track/ZZZZ-ZZZZ", **how).json()  # type: ignore[arg-type]
    assert (
        body["detail"]
        == "No suggestion has the tracking code 'ZZZZ-ZZZZ'. Please check the code and try again."
    )


def test_the_page_language_cookie_sets_the_json_language(plain_client: TestClient) -> None:
    plain_client.get("/track?lang=en", headers=HTML)  # the villager chose English on a page
    body = plain_client.get("/api/v1/track/ZZZZ-ZZZZ", headers={"Accept-Language": "zh-CN"}).json()
    assert body["detail"].startswith("No suggestion has the tracking code")


def test_an_error_page_is_in_the_page_language(plain_client: TestClient) -> None:
    zh = plain_client.get("/track/ZZZZ-ZZZZ", headers=HTML)
    assert zh.status_code == 404 and "没有查询码为“ZZZZ-ZZZZ”的建议" in zh.text
    en = plain_client.get("/track/ZZZZ-ZZZZ?lang=en", headers=HTML)
    assert "No suggestion has the tracking code" in en.text


def test_a_hostile_parameter_is_escaped_on_the_page(plain_client: TestClient) -> None:
    page = plain_client.get(f"/track/{quote(HOSTILE, safe='')}", headers=HTML)
    assert page.status_code == 404 and "没有查询码为" in page.text
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text

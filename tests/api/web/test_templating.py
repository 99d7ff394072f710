"""The page scaffolding every web page uses: language choice, stylesheet, errors as pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.web.templating import LANG_COOKIE
from tests.api.conftest import make_client, staff_headers


@pytest.fixture(scope="module")
def quiet_client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


def test_stylesheet_is_served(quiet_client: TestClient) -> None:
    response = quiet_client.get("/static/minsheng.css")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]


def test_browser_gets_an_error_page_in_chinese_by_default(quiet_client: TestClient) -> None:
    response = quiet_client.get("/no-such-page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "出错了" in response.text and 'lang="zh-CN"' in response.text


def test_english_choice_is_remembered(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(tmp_path, weights_cache, worker_enabled=False) as c:
        first = c.get("/no-such-page?lang=en", headers={"accept": "text/html"})
        assert "Something went wrong" in first.text and first.cookies.get(LANG_COOKIE) == "en"
        again = c.get("/another-missing-page", headers={"accept": "text/html"})
        assert "Something went wrong" in again.text and 'lang="en"' in again.text


def test_api_clients_still_get_json(quiet_client: TestClient) -> None:
    headers = {"accept": "text/html", **staff_headers(quiet_client, "reviewer")}
    response = quiet_client.get("/api/v1/suggestions/999999", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"

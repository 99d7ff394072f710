"""Issue 21 through real HTTP: every villager form redirects to a page (post/redirect/get), the receipt
page shows only what the receipt's link does, the language link is always a GET, and the answer to
"问题解决了吗？" goes through the rating key and is taken once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.security_headers import CSP
from models.db import unit_of_work, utcnow
from models.directory import queries as directory
from models.suggestions import lifecycle, queries
from models.suggestions.tables import Suggestion
from models.vocabulary import Status
from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import Staffing, context_of

HTML = {"accept": "text/html"}
RECEIPT = re.compile(r"^/receipt/([A-Z0-9]{4}-[A-Z0-9]{4})/([A-Za-z0-9_-]{22})$")


@pytest.fixture(scope="module")
def web(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


@pytest.fixture(autouse=True)
def fresh(web: TestClient, staffing: Staffing) -> None:
    web.cookies.clear()
    staffing.sign_out()


def count(web: TestClient) -> int:
    with context_of(web).factory() as session:
        return int(session.scalar(select(func.count()).select_from(Suggestion)) or 0)


def post_text(web: TestClient, text: str, **fields: str) -> tuple[str, str]:
    """The form's typed suggestion: the 303 to the receipt, whose (code, key) this returns."""
    r = web.post("/submit", data={"text": text, **fields}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303, r.text
    found = RECEIPT.match(r.headers["location"])
    assert found is not None, r.headers["location"]
    return found.group(1), found.group(2)


def test_the_form_redirects_to_a_receipt_that_reloads_without_storing_again(web: TestClient) -> None:
    before = count(web)
    code, key = post_text(web, "河西村的桥栏杆断了", village="河西村", phone="13800000000")
    for _ in range(3):  # reloads of the receipt
        page = web.get(f"/receipt/{code}/{key}", headers=HTML)
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert count(web) == before + 1
    assert f'id="tracking-code">{code}<' in page.text and 'id="copy-code"' in page.text
    assert "再提一条" in page.text and f'href="/track/{code}/{key}"' in page.text
    assert "13800000000" not in page.text and "河西村" not in page.text
    assert 'href="?lang=en"' in page.text  # the language link: the same receipt, as a GET
    english = web.get(f"/receipt/{code}/{key}?lang=en").text
    assert "Send another" in english and code in english and count(web) == before + 1


def test_the_receipt_needs_the_receipts_key(web: TestClient) -> None:
    code, key = post_text(web, "青山村的路灯坏了")
    for wrong in (key[::-1], "x" * 22, "钥匙", "y" * 500):
        r = web.get(f"/receipt/{code}/{wrong}", headers=HTML)
        assert r.status_code == 404 and key not in r.text, wrong
    assert web.get(f"/receipt/ZZZZ-ZZZZ/{key}", headers=HTML).status_code == 404


def test_a_form_sent_twice_from_one_page_is_stored_once_and_a_new_one_from_it_is_new(
    web: TestClient,
) -> None:
    form_key = re.search(r'name="form_key" value="([^"]+)"', web.get("/").text)
    assert form_key is not None
    before = count(web)
    first = post_text(web, "东山村的垃圾桶满了", form_key=form_key.group(1))
    assert post_text(web, "东山村的垃圾桶满了", form_key=form_key.group(1)) == first  # a double tap
    other = post_text(web, "东山村的路也坏了", form_key=form_key.group(1))  # back, then a new note
    assert other[0] != first[0] and count(web) == before + 2


def test_the_language_link_never_repeats_a_form(web: TestClient) -> None:
    assert web.get("/submit?lang=en", follow_redirects=False).headers["location"] == "/?lang=en"
    assert web.get("/submit", follow_redirects=False).headers["location"] == "/"
    before = count(web)
    blank = web.post("/submit", data={"text": " "}, headers={**HTML, "referer": "http://127.0.0.1/?lang=zh"})
    assert blank.status_code == 422 and 'id="lang-switch" href="/?lang=en"' in blank.text
    elsewhere = web.post("/submit", data={"text": " "}, headers={**HTML, "referer": "https://evil.example/x"})
    assert 'id="lang-switch" href="/?lang=en"' in elsewhere.text
    sneaky = web.post(
        "/submit", data={"text": " "}, headers={**HTML, "referer": "http://127.0.0.1//evil.example"}
    )
    assert 'id="lang-switch" href="/?lang=en"' in sneaky.text
    assert count(web) == before
    kept = web.get("/track?lang=zh&x=%E4%B8%AD").text  # other query values are kept, encoded once
    assert 'href="?x=%E4%B8%AD&amp;lang=en"' in kept


def test_the_tracking_page_says_what_happens_next(web: TestClient) -> None:
    code, _key = post_text(web, "村口路灯坏了")
    page = web.get(f"/track/{code}").text
    assert 'id="next-step"' in page and "这一页会自动刷新" in page and 'data-poll="1"' in page
    api = web.get(f"/api/v1/track/{code}").json()
    assert api["next_zh"].startswith("系统正在") and "updates by itself" in api["next_en"]


def resolved(web: TestClient, code: str) -> int:
    with unit_of_work(context_of(web).factory) as session:
        s = queries.get_by_tracking_code(session, code)
        dept = directory.department_for(session, "power", None)
        assert dept is not None
        s.category, s.department_id, s.status = "power", dept.id, Status.ROUTED
        sid = s.id
    with unit_of_work(context_of(web).factory) as session:
        now = utcnow()
        for step in ("dispatch", "accept", "start"):
            getattr(lifecycle, step)(session, sid, actor="boss", now=now)
        lifecycle.resolve(session, sid, actor="boss", now=now, result_note="已修好")
    return sid


def test_not_fixed_reopens_once_with_the_key_and_a_second_answer_is_409(web: TestClient) -> None:
    code, key = post_text(web, "白水村的路灯又不亮了")
    sid = resolved(web, code)
    no = {"fixed": "no", "key": key}
    early = web.post(f"/track/{code}/fixed", data=no, headers=HTML, follow_redirects=False)
    assert early.status_code == 409 and "现在不需要回答" in early.text  # not rated yet
    rated = web.post(f"/track/{code}/rating", data={"score": "1", "key": key}, follow_redirects=False)
    assert rated.status_code == 303 and rated.headers["location"] == f"/track/{code}/{key}"
    page = web.get(f"/track/{code}/{key}").text
    assert 'id="fixed-form"' in page and "问题解决了吗？" in page
    assert 'id="fixed-form"' not in web.get(f"/track/{code}").text  # the code alone is not asked

    for forged in ({"fixed": "no"}, {"fixed": "no", "key": key[::-1]}):
        r = web.post(f"/track/{code}/fixed", data=forged, headers=HTML, follow_redirects=False)
        assert r.status_code == 403, forged
    assert web.post(f"/track/{code}/fixed", data={"fixed": "maybe", "key": key}).status_code == 422

    ok = web.post(f"/track/{code}/fixed", data=no, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == f"/track/{code}/{key}"
    again = web.post(f"/track/{code}/fixed", data=no, headers=HTML, follow_redirects=False)
    assert again.status_code == 409 and "已经回答过" in again.text
    assert "AlreadyAnswered" in web.post(f"/track/{code}/fixed", data=no).text
    with context_of(web).factory() as session:
        assert queries.get_suggestion(session, sid).status == "dispatched"
        assert [e.kind for e in queries.history(session, sid)].count("reopened") == 1
    page = web.get(f"/track/{code}/{key}").text
    assert 'id="reopened"' in page and 'id="fixed-form"' not in page


def test_the_service_worker_and_the_manifest_are_served_as_what_they_are(web: TestClient) -> None:
    sw = web.get("/sw.js")
    assert sw.headers["content-type"] == "text/javascript; charset=utf-8"
    assert sw.headers["content-security-policy"] == CSP and "addEventListener" in sw.text
    manifest = web.get("/manifest.webmanifest?lang=en")
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.headers["content-security-policy"].startswith("sandbox")  # data, as before
    assert manifest.json()["start_url"] == "/" and manifest.json()["display"] == "standalone"
    assert 'rel="manifest"' in web.get("/").text

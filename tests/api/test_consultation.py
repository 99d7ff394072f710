"""Published consultation topics through the HTTP API and pages, with the real worker (Whisper for
a voice opinion, the stance classifier), from publishing to the outcome a villager tracks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.db import unit_of_work
from models.themes import store as theme_store
from models.themes.store import NewTheme
from tests.api.conftest import staff_login, staffed_client, wait_until_processed
from tests.api.workflow_helpers import Staffing, context_of

REVIEWER = ("zhou", "reviewer")
HANDLER = ("li", "handler")
DATA = Path(__file__).resolve().parents[1] / "data"
DRAFT = "第一条 五星路两侧划定停车位。\n第二条 夜间禁止在人行道停车。"


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache) as c:
        yield c


@pytest.fixture(autouse=True)
def signed_out(staffing: Staffing) -> None:
    staffing.sign_out()
    staffing.clock.now = datetime.now(UTC)


def promoted_topic(api: TestClient, text: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    """A villager's suggestion in a theme that staff promoted: (topic id, the suggestion's receipt)."""
    r = api.post("/api/v1/suggestions", data={"text": text, "village": "五星村"})
    assert r.status_code == 202, r.text
    wait_until_processed(api, r.json()["id"])
    with unit_of_work(context_of(api).factory) as session:
        [theme] = theme_store.replace_automatic_themes(
            session, [NewTheme("transport", "五星路停车", ["停车"], [r.json()["id"]])], datetime.now(UTC)
        )
        topic = theme_store.promote(
            session, theme.id, None, "停车问题集中", actor="zhou", now=datetime.now(UTC)
        )
        return topic.id, r.json()


def test_publish_opinions_by_text_and_voice_meeting_and_outcome_reach_the_villager(
    api: TestClient, staffing: Staffing
) -> None:
    topic_id, raised = promoted_topic(api, "五星路乱停车，人行道被占满")
    body = {"topic_id": topic_id, "draft": DRAFT}
    assert api.post("/api/v1/consultations", json=body).status_code == 401
    with staffing.as_(*HANDLER, department="transport_bureau"):
        assert api.post("/api/v1/consultations", json=body).status_code == 403
    with staffing.as_(*REVIEWER):
        published = api.post("/api/v1/consultations", json=body)
        assert published.status_code == 201, published.text
        c = published.json()
        assert c["title"] == "五星路停车" and c["description"] == "停车问题集中"
        assert [cl["number"] for cl in c["clauses"]] == [1, 2] and c["link"] == f"/t/{c['short_code']}"
        assert api.post("/api/v1/consultations", json=body).status_code == 409
    code = c["short_code"]

    # villagers: the page, a typed opinion on clause 2, a recording on the whole topic
    page = api.get(f"/t/{code.lower()}", headers={"accept": "text/html"})
    assert page.status_code == 200 and 'id="clause-2"' in page.text and "夜间禁止在人行道停车" in page.text
    typed = api.post(
        f"/api/v1/t/{code}/opinions",
        data={"text": "我不同意第二条，我叫王秀英，电话13812345678", "clause": "2"},
        headers={"Idempotency-Key": "opinion-1"},
    )
    assert typed.status_code == 202, typed.text
    again = api.post(
        f"/api/v1/t/{code}/opinions",
        data={"text": "我不同意第二条，我叫王秀英，电话13812345678", "clause": "2"},
        headers={"Idempotency-Key": "opinion-1"},
    )
    assert again.json()["id"] == typed.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    with (DATA / "speech.wav").open("rb") as clip:
        voice = api.post(f"/api/v1/t/{code}/opinions", files={"audio": ("note.wav", clip, "audio/wav")})
    assert voice.status_code == 202, voice.text
    assert api.post(f"/api/v1/t/{code}/opinions", data={"text": "x", "clause": "7"}).status_code == 422
    assert api.post(f"/api/v1/t/{code}/opinions", data={"text": "x", "clause": "二"}).status_code == 422
    assert api.post("/api/v1/t/NOPE99/opinions", data={"text": "x"}).status_code == 404
    for receipt in (typed.json(), voice.json()):
        done = wait_until_processed(api, receipt["id"])
        assert done["channel"] == "consultation" and done["status"] == "recorded"  # stays with the topic
        assert done["department"] is None and done["category"] is None
    assert "broken" in wait_until_processed(api, voice.json()["id"])["transcript"].lower()

    with staffing.as_(*HANDLER, department="transport_bureau"):
        d = api.get(f"/api/v1/consultations/{c['id']}").json()
        stances = {o["suggestion_id"]: o["stance"] for o in d["opinions"]}
        assert stances == {typed.json()["id"]: "oppose", voice.json()["id"]: "suggestion"}
        assert d["counts_by_stance"] == {"oppose": 1, "suggestion": 1}
        assert d["counts_by_clause"] == {"topic": {"suggestion": 1}, "2": {"oppose": 1}}
        [typed_out] = [o for o in d["opinions"] if o["suggestion_id"] == typed.json()["id"]]
        assert "13812345678" not in typed_out["text"] and "王秀英" not in typed_out["text"]  # scrubbed
        denied = api.put(
            f"/api/v1/consultations/opinions/{voice.json()['id']}/stance", json={"stance": "support"}
        )
        assert denied.status_code == 403
        assert api.get(f"/api/v1/track/{raised['tracking_code']}").json()["topic_outcome"] is None
    with staffing.as_(*REVIEWER):
        fixed = api.put(
            f"/api/v1/consultations/opinions/{voice.json()['id']}/stance", json={"stance": "support"}
        )
        assert fixed.status_code == 200 and fixed.json()["counts_by_stance"] == {"oppose": 1, "support": 1}
        meeting = {"kind": "meeting", "held_on": "2026-11-20", "place": "五星村村委会",
                   "deputies": "王代表", "departments": "交通办", "decisions": "划定50个停车位"}  # fmt: skip
        assert api.post(f"/api/v1/consultations/{c['id']}/meetings", json=meeting).status_code == 201
        bad = api.post(f"/api/v1/consultations/{c['id']}/meetings", json={**meeting, "kind": "party"})
        assert bad.status_code == 422 and "Unknown meeting kind" in bad.json()["detail"]
        closed = api.post(
            f"/api/v1/consultations/{c['id']}/outcome",
            json={"outcome": "livelihood_candidate", "note": "明年实施"},
        )
        assert closed.status_code == 200 and closed.json()["outcome"] == "livelihood_candidate"
    assert api.post(f"/api/v1/t/{code}/opinions", data={"text": "还有意见"}).status_code == 409
    seen = api.get(f"/api/v1/track/{raised['tracking_code']}").json()["topic_outcome"]
    assert seen["outcome_zh"] == "列入民生实事候选项目" and seen["decisions"] == ["划定50个停车位"]
    track = api.get(f"/track/{raised['tracking_code']}", headers={"accept": "text/html"})
    assert 'id="topic-outcome"' in track.text and "划定50个停车位" in track.text and "明年实施" in track.text
    assert "已结束" in api.get(f"/t/{code}", headers={"accept": "text/html"}).text


def test_the_staff_pages_publish_show_escaped_opinions_and_print_a_qr_poster(api: TestClient) -> None:
    csrf = staff_login(api, "reviewer")
    try:
        published = api.post(
            "/staff/consultations",
            data={"title": "<b>广场舞</b>时间", "description": "", "draft": "", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert published.status_code == 303, published.text
        for hostile in ("99999999999999999999", "１", "-3"):  # beyond any id, full-width, negative
            refused = api.post(
                "/staff/consultations",
                data={"topic_id": hostile, "title": "x", "csrf_token": csrf},
                follow_redirects=False,
            )
            assert refused.status_code == 422, (hostile, refused.status_code)
        staff_page, _, said = published.headers["location"].partition("?")
        assert said == "done=published"
        page = api.get(staff_page, headers={"accept": "text/html"})
        assert "&lt;b&gt;广场舞&lt;/b&gt;时间" in page.text and "<b>广场舞" not in page.text
        code = page.text.split('id="public-link">')[1].split("/t/")[1].split("<")[0]
        api.cookies.clear()
        sent = api.post(
            f"/t/{code}/opinion",
            data={"text": "<script>alert(1)</script>支持", "form_key": "k-page-1"},
            follow_redirects=False,
        )
        assert sent.status_code == 303 and sent.headers["location"].startswith("/receipt/")
        csrf = staff_login(api, "reviewer")
        page = api.get(staff_page, headers={"accept": "text/html"})
        assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text
        poster = api.get(f"{staff_page}/poster", headers={"accept": "text/html"})
        assert poster.status_code == 200 and "<svg" in poster.text and f"/t/{code}" in poster.text
        assert "script-src 'self'" in poster.headers["content-security-policy"]
        no_date = api.post(
            f"{staff_page}/meeting",
            data={"place": "x", "held_on": "tomorrow", "csrf_token": csrf},
            headers={"accept": "text/html"},
        )
        assert no_date.status_code == 422 and "年-月-日" in no_date.text
    finally:
        api.cookies.clear()


def test_the_same_words_on_two_clauses_are_two_opinions_and_a_resend_of_either_is_one(
    api: TestClient, staffing: Staffing
) -> None:
    with staffing.as_(*REVIEWER):
        c = api.post("/api/v1/consultations", json={"title": "停车管理办法", "draft": DRAFT}).json()
    url = f"/api/v1/t/{c['short_code']}/opinions"
    words = {"text": "完全同意", "village": "五星村"}

    def send(clause: str, key: str) -> dict:  # type: ignore[type-arg]
        r = api.post(url, data={**words, "clause": clause}, headers={"Idempotency-Key": key})
        assert r.status_code == 202, r.text
        return r.json()  # type: ignore[no-any-return]

    first = send("1", "page-key")
    second = send("2", "page-key")  # the villager went back to the page and wrote on clause 2
    assert second["id"] != first["id"]
    assert send("2", "page-key")["id"] == second["id"]  # a resend of the clause-2 opinion
    assert send("1", "page-key")["id"] == first["id"]  # and of the clause-1 one
    third = send("2", "other-key")
    assert third["id"] not in (first["id"], second["id"])  # another submission
    for receipt in (first, second, third):
        assert wait_until_processed(api, receipt["id"])["status"] == "recorded"
    with staffing.as_(*REVIEWER):
        d = api.get(f"/api/v1/consultations/{c['id']}").json()
    assert d["counts_by_clause"] == {"1": {"support": 1}, "2": {"support": 2}}


def test_the_topic_groups_its_opinions_into_themes_counted_by_stance_in_the_api_and_on_the_page(
    api: TestClient, staffing: Staffing
) -> None:
    with staffing.as_(*REVIEWER):
        c = api.post("/api/v1/consultations", json={"title": "五星路整治"}).json()
    said = [
        "支持在五星路两边多划停车位，晚上车子没地方停。",
        "不同意在五星路划停车位，路太窄了。",
        "建议五星路增加停车位，别让车停在人行道上。",
        "广场舞的音乐太吵了，建议晚上九点以后停止。",
        "广场舞音乐声音太大，影响老人小孩晚上睡觉，不同意。",
        "<b>张三</b>，电话13812345678，学校门口的红绿灯坏了。",
    ]
    ids = []
    for text in said:
        r = api.post(f"/api/v1/t/{c['short_code']}/opinions", data={"text": text})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    for i in ids:
        assert wait_until_processed(api, i)["status"] == "recorded"
    with staffing.as_(*HANDLER, department="transport_bureau"):
        themes = api.get(f"/api/v1/consultations/{c['id']}").json()["themes"]
    parking, noise, rest = themes
    assert parking["suggestion_ids"] == ids[:3] and parking["key_phrases"][0] == "停车位"
    assert parking["title"].startswith("停车位 · ") and parking["counts_by_stance"] == {
        "oppose": 1, "suggestion": 1, "support": 1}  # fmt: skip
    assert noise["suggestion_ids"] == ids[3:5] and "音乐" in noise["key_phrases"]
    assert rest == {
        "title": "",
        "key_phrases": [],
        "counts_by_stance": {"suggestion": 1},
        "suggestion_ids": ids[5:],
    }

    staff_login(api, "reviewer")
    try:
        page = api.get(f"/staff/consultations/{c['id']}", headers={"accept": "text/html"}).text
    finally:
        api.cookies.clear()
    groups = page.split('class="opinion-theme"')[1:]
    assert len(groups) == 3 and parking["title"] in groups[0] and "其他意见" in groups[2]
    assert all(f'data-opinion="{i}"' in groups[0] for i in ids[:3])
    assert "13812345678" not in page and "<b>" not in page

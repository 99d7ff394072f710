"""The suggestion paper's facts, text and guard, and its saved drafts, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.errors import InvalidInput, NotFound
from models.papers import compose, facts, store
from models.papers.compose import Draft
from models.suggestions import queries
from models.themes import store as theme_store
from models.vocabulary import Status

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def make_theme(factory: sessionmaker[Session], notes: list[tuple[datetime, str | None, str | None]]) -> int:
    """A theme of notes (submitted at, village, phone), each named 李建国 on its form."""
    with unit_of_work(factory) as session:
        ids = [
            queries.create_suggestion(
                session, status=Status.ROUTED, actor="t", channel="text", text=f"五星路停车乱，第{i}次反映",
                category="transport", village=village, submitter_name="李建国", submitter_phone=phone, now=at,
            ).id
            for i, (at, village, phone) in enumerate(notes)
        ]  # fmt: skip
        [theme] = theme_store.replace_automatic_themes(
            session, [theme_store.NewTheme("transport", "五星路停车", ["停车"], ids)], NOW
        )
        return theme.id


def test_months_without_suggestions_count_zero_and_dates_are_the_townships(
    db_factory: sessionmaker[Session],
) -> None:
    theme_id = make_theme(
        db_factory,
        [
            (datetime(2026, 7, 31, 17, tzinfo=UTC), "五星村", "138 0000 0001"),  # 1 August in Beijing
            (datetime(2026, 10, 2, 2, tzinfo=UTC), "五星村", "13800000001"),  # the same phone number
            (datetime(2026, 10, 3, 2, tzinfo=UTC), None, None),
        ],
    )
    with unit_of_work(db_factory) as session:
        found = facts.paper_facts(session, theme_id, NOW, tz=ZoneInfo("Asia/Shanghai"))
        in_utc = facts.paper_facts(session, theme_id, NOW)
    assert found.months == [("2026-08", 1), ("2026-09", 0), ("2026-10", 2)]
    assert in_utc.months[0] == ("2026-07", 1)
    assert found.villagers == 2  # one phone number (written two ways) and one note without any
    assert found.villages == {"五星村": 2}
    text = compose.background(found, "zh")
    assert "自2026年8月1日以来" in text and "另有 1 件未注明村" in text and "2026年9月 0 件" in text
    assert "较上月增加 2 件" in text
    assert "The latest month (2026-10) had 2, 2 more than the month before." in compose.background(
        found, "en"
    )


def test_the_guard_replaces_known_names_and_any_phone_or_id_number() -> None:
    text = "Li Jianguo: call 0571-87654321 or 13912345678, ID 330102199001011234"
    assert compose.guard_text(text, ["Li Jianguo"]) == "[name]: call [phone] or [phone], ID [ID number]"
    assert compose.guard_text("李建国说：电话 13912345678", ["李建国"]) == "[姓名]说：电话 [电话]"
    guarded = compose.guard(Draft("李建国的建议", "", ["我叫王秀英"], "", "找李建国"), ["李建国"])
    assert (
        guarded.title == "[姓名]的建议"
        and guarded.quotes == ["我叫[姓名]"]
        and guarded.proposal == "找[姓名]"
    )


def test_saved_drafts_are_cleaned_checked_and_forgotten(db_factory: sessionmaker[Session]) -> None:
    theme_id = make_theme(db_factory, [(NOW, "五星村", "13800000001"), (NOW, "红旗村", None)])
    with unit_of_work(db_factory) as session:
        generated = store.current_paper(session, theme_id, NOW)
        assert generated.saved is False and generated.draft.title == "关于五星路停车的建议"
        draft = Draft(" 标题\x00 ", "背景\r\n第二段", ["", "李建国：13800000001"], "办理", "建议")
        store.save_draft(session, theme_id, draft, lang="en", actor="qian", now=NOW)
    with unit_of_work(db_factory) as session:
        saved = store.current_paper(session, theme_id, NOW)
        assert saved.saved and saved.lang == "en" and saved.updated_by == "qian"
        assert saved.draft == Draft("标题", "背景\n第二段", ["[姓名]：[电话]"], "办理", "建议")
        with pytest.raises(InvalidInput, match="too long"):
            store.save_draft(session, theme_id, Draft("t", "x" * 20_001), lang="en", actor="q", now=NOW)
        with pytest.raises(InvalidInput, match="give the paper a title"):
            store.save_draft(session, theme_id, Draft(" ", ""), lang="zh", actor="q", now=NOW)
        with pytest.raises(NotFound):
            store.save_draft(session, 999_999, Draft("t", ""), lang="zh", actor="q", now=NOW)
        assert store.discard_draft(session, theme_id) is True
        assert store.current_paper(session, theme_id, NOW).saved is False

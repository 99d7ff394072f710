"""Themes, their staff actions and duplicate candidates on a real SQLite database with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.directory.tables import AuditEntry
from models.errors import InvalidInput, NotFound
from models.suggestions import queries
from models.themes import store as theme_store
from models.themes.store import NewTheme, ThemeConflict
from models.vocabulary import Status

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday


def add(
    factory: sessionmaker[Session],
    text: str,
    *,
    category: str = "transport",
    village: str | None = "五星村",
    address: str | None = None,
    status: str = Status.ROUTED,
    at: datetime = NOW,
) -> int:
    with unit_of_work(factory) as session:
        s = queries.create_suggestion(
            session, status=status, actor="t", channel="text", text=text, category=category,
            village=village, address=address,
        )  # fmt: skip
        s.submitted_at = at
        return s.id


def themes_of(factory: sessionmaker[Session], *groups: tuple[str, list[int]]) -> list[int]:
    with unit_of_work(factory) as session:
        made = theme_store.replace_automatic_themes(
            session, [NewTheme("transport", title, ["停车"], ids) for title, ids in groups], NOW
        )
        return [t.id for t in made]


def test_summaries_count_villages_and_weeks_in_sql(db_factory: sessionmaker[Session]) -> None:
    a = add(db_factory, "五星路乱停车", at=NOW - timedelta(days=1))
    b = add(db_factory, "五星路停车难", village="红旗村", at=NOW - timedelta(days=8))
    c = add(db_factory, "五星路车停满", village="红旗村", at=NOW - timedelta(days=9))
    other = add(db_factory, "路灯坏了", category="power")
    [tid] = themes_of(db_factory, ("五星路停车", [a, b, c]))
    with db_factory() as session:
        [summary] = theme_store.theme_summaries(session, NOW)
        assert summary.id == tid
        assert summary.count == 3
        assert summary.villages == {"红旗村": 2, "五星村": 1}
        assert summary.weekly[-1] == 1 and summary.weekly[-2] == 2 and sum(summary.weekly) == 3
        assert summary.first_at == NOW - timedelta(days=9)
        assert theme_store.theme_summaries(session, NOW, category="power") == []
        detail = theme_store.theme_detail(session, tid, NOW)
        assert [s.id for s in detail.members] == [c, b, a]
        assert other not in [s.id for s in detail.members]


def test_recompute_replaces_automatic_themes_but_keeps_curated_ones(
    db_factory: sessionmaker[Session],
) -> None:
    ids = [add(db_factory, f"五星路停车{i}") for i in range(4)]
    first, second = themes_of(db_factory, ("一", ids[:2]), ("二", ids[2:]))
    with unit_of_work(db_factory) as session:
        theme_store.rename(session, first, "五星路停车乱", actor="wang", now=NOW)
    with db_factory() as session:
        assert {c.id for c in theme_store.clusterable(session, NOW - timedelta(days=1))} == set(ids[2:])
    themes_of(db_factory, ("新", ids[2:]))
    with db_factory() as session:
        titles = {s.title: s.count for s in theme_store.theme_summaries(session, NOW)}
        assert titles == {"五星路停车乱": 2, "新": 2}
        replaced = session.get(theme_store.Theme, second)
        assert replaced is None or replaced.title == "新"  # SQLite may reuse the id
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.before, entry.after) == (
            "wang",
            {"title": "一"},
            {"title": "五星路停车乱"},
        )


def test_merge_split_and_promote_keep_the_links(db_factory: sessionmaker[Session]) -> None:
    ids = [add(db_factory, f"停车{i}") for i in range(5)]
    t1, t2, t3 = themes_of(db_factory, ("a", ids[:2]), ("b", ids[2:4]), ("c", ids[4:]))
    with unit_of_work(db_factory) as session:
        keeper = theme_store.merge(session, t1, [t2, t3], actor="wang", now=NOW)
        assert keeper.id == t1
    with db_factory() as session:
        assert theme_store.theme_detail(session, t1, NOW).count == 5
        with pytest.raises(NotFound, match="merged into theme"):
            theme_store.theme_detail(session, t2, NOW)
    with unit_of_work(db_factory) as session, pytest.raises(ThemeConflict, match="merged into theme"):
        theme_store.rename(session, t2, "x", actor="wang", now=NOW)
    with unit_of_work(db_factory) as session:
        new = theme_store.split(session, t1, ids[3:], "路口停车", actor="wang", now=NOW)
        new_id = new.id
    with db_factory() as session:
        assert theme_store.theme_detail(session, t1, NOW).count == 3
        assert [s.id for s in theme_store.theme_detail(session, new_id, NOW).members] == ids[3:]
    with unit_of_work(db_factory) as session:
        topic = theme_store.promote(session, new_id, None, "下次协商会议讨论", actor="li", now=NOW)
        topic_id = topic.id
        assert topic.title == "路口停车"
    with db_factory() as session:
        assert [s.id for s in theme_store.topic_suggestions(session, topic_id)] == ids[3:]
        [summary] = theme_store.theme_summaries(session, NOW, theme_ids=[new_id])
        assert summary.topic_id == topic_id and summary.curated
    # a later recompute leaves curated themes and the topic's suggestions alone
    themes_of(db_factory)
    with db_factory() as session:
        assert [s.id for s in theme_store.topic_suggestions(session, topic_id)] == ids[3:]
        assert theme_store.theme_detail(session, t1, NOW).count == 3


def test_staff_actions_refuse_what_makes_no_sense(db_factory: sessionmaker[Session]) -> None:
    ids = [add(db_factory, f"停车{i}") for i in range(3)]
    power = add(db_factory, "路灯", category="power")
    with unit_of_work(db_factory) as session:
        t1, t2 = (
            t.id
            for t in theme_store.replace_automatic_themes(
                session, [NewTheme("transport", "a", [], ids), NewTheme("power", "b", [], [power])], NOW
            )
        )
    with unit_of_work(db_factory) as session:
        with pytest.raises(InvalidInput, match="same category"):
            theme_store.merge(session, t1, [t2], actor="w", now=NOW)
        with pytest.raises(InvalidInput, match="at least one other"):
            theme_store.merge(session, t1, [t1], actor="w", now=NOW)
        with pytest.raises(InvalidInput, match="not in theme"):
            theme_store.split(session, t1, [power], "x", actor="w", now=NOW)
        with pytest.raises(InvalidInput, match="Leave at least one"):
            theme_store.split(session, t1, ids, "x", actor="w", now=NOW)
        with pytest.raises(InvalidInput, match="name"):
            theme_store.rename(session, t1, "   ", actor="w", now=NOW)
        with pytest.raises(NotFound):
            theme_store.rename(session, 999, "x", actor="w", now=NOW)
        theme_store.promote(session, t1, "五星路停车", None, actor="w", now=NOW)
    with unit_of_work(db_factory) as session, pytest.raises(ThemeConflict, match="already"):
        theme_store.promote(session, t1, None, None, actor="w", now=NOW)


def test_duplicate_candidates_are_open_earlier_reports_from_the_same_place(
    db_factory: sessionmaker[Session],
) -> None:
    same_village = add(db_factory, "五星路乱停车", at=NOW - timedelta(days=3))
    same_address = add(
        db_factory, "门口停车", village="红旗村", address="Wuxing Road 5", at=NOW - timedelta(days=2)
    )
    add(db_factory, "五星路乱停车", village="红旗村", at=NOW - timedelta(days=1))  # other village
    add(db_factory, "五星路乱停车", status="closed", at=NOW - timedelta(days=1))  # closed
    add(db_factory, "五星路乱停车", at=NOW - timedelta(days=60))  # too old
    new = add(db_factory, "五星路又乱停车", address=" wuxing road 5 ")
    with unit_of_work(db_factory) as session:
        s = queries.get_suggestion(session, new)
        found = theme_store.duplicate_candidates(session, s, NOW - timedelta(days=30))
        assert {(c.id, c.matched_on) for c in found} == {(same_village, "village"), (same_address, "address")}
        theme_store.link_duplicate(session, s, same_village, 0.81, "village", NOW)
    with db_factory() as session:
        link = theme_store.duplicate_link(session, new)
        assert link is not None and link.duplicate_of_id == same_village
        assert [d.suggestion_id for d in theme_store.duplicates_of(session, same_village)] == [new]
        assert queries.get_suggestion(session, new).status == Status.ROUTED
        assert queries.history(session, new)[-1].kind == "duplicate_suspected"
        # The villager's tracking look-up sees the earlier report's status, by any spelling of the code.
        repeat = queries.get_suggestion(session, new)
        code = repeat.tracking_code.lower().replace("-", "")
        assert theme_store.tracked(session, code) == (
            repeat,
            queries.get_suggestion(session, same_village).status,
        )
        earlier = queries.get_suggestion(session, same_village)
        assert theme_store.tracked(session, earlier.tracking_code) == (earlier, None)
        with pytest.raises(NotFound, match="tracking code"):
            theme_store.tracked(session, "ZZZZ-ZZZZ")

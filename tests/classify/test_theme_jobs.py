"""The themes job (full re-form, incremental pass, nightly re-form) and duplicate flags, on a real DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from classify.theme_jobs import (
    JOIN_THEMES_JOB,
    RECOMPUTE_THEMES_JOB,
    ThemeBuilder,
    ThemeSettings,
    request_join,
    request_nightly,
    request_recompute,
)
from intake.duplicates import DuplicatePolicy, flag_if_duplicate
from intake.jobs import JobRunner
from models.db import unit_of_work
from models.jobs.tables import Job
from models.suggestions import queries
from models.themes import store as theme_store
from models.vocabulary import Status

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

PARKING = [
    "五星路上乱停车太严重了，车都停到人行道上",
    "五星路停车乱，人行道被汽车占满",
    "五星路乱停车，晚上车辆停满人行道",
]
LIGHTS = ["村口路灯坏了，晚上一片漆黑", "村口的路灯坏了好几天，晚上很黑"]


def add(
    factory: sessionmaker[Session],
    text: str,
    category: str,
    village: str | None = "五星村",
    *,
    at: datetime = NOW,
    status: str = Status.ROUTED,
    address: str | None = None,
) -> int:
    with unit_of_work(factory) as session:
        s = queries.create_suggestion(
            session, status=status, actor="t", channel="text", text=text, category=category,
            village=village, address=address,
        )  # fmt: skip
        s.submitted_at = at
        return s.id


def test_the_job_groups_recent_suggestions_per_category(db_factory: sessionmaker[Session]) -> None:
    parking = [
        add(db_factory, t, "transport", v)
        for t, v in zip(PARKING, ["五星村", "红旗村", "五星村"], strict=True)
    ]
    lights = [add(db_factory, t, "power") for t in LIGHTS]
    add(db_factory, "五星路乱停车", "transport", at=NOW - timedelta(days=200))  # outside the window
    add(db_factory, "垃圾桶满了没人清理", "environment")  # alone: no theme
    builder = ThemeBuilder(db_factory, ThemeSettings(window_days=90), clock=lambda: NOW)
    runner = JobRunner(db_factory, {RECOMPUTE_THEMES_JOB: (builder.recompute, builder.give_up)})
    with unit_of_work(db_factory) as session:
        first = request_recompute(session).id
        assert request_recompute(session).id == first  # one waiting recompute is enough
    assert runner.drain() == 1
    with db_factory() as session:
        assert session.scalar(select(Job.state).where(Job.id == first)) == "done"
        summaries = theme_store.theme_summaries(session, NOW)
        by_category = {s.category: s for s in summaries}
        assert set(by_category) == {"transport", "power"}
        transport = theme_store.theme_detail(session, by_category["transport"].id, NOW)
        assert [m.id for m in transport.members] == parking
        assert transport.villages == {"五星村": 2, "红旗村": 1}
        assert any("停车" in p for p in transport.key_phrases)
        assert "停车" in transport.title
        power = theme_store.theme_detail(session, by_category["power"].id, NOW)
        assert [m.id for m in power.members] == lights
    # running it again gives the same grouping, not a second copy
    assert builder.recompute_count() == 2
    with db_factory() as session:
        assert sorted(s.count for s in theme_store.theme_summaries(session, NOW)) == [2, 3]


def test_a_new_suggestion_joins_its_theme_without_regrouping_the_rest(
    db_factory: sessionmaker[Session],
) -> None:
    parking = [add(db_factory, t, "transport") for t in PARKING]
    lights = [add(db_factory, t, "power") for t in LIGHTS]
    builder = ThemeBuilder(db_factory, ThemeSettings(window_days=90), clock=lambda: NOW)
    runner = JobRunner(
        db_factory,
        {
            RECOMPUTE_THEMES_JOB: (builder.recompute, builder.give_up),
            JOIN_THEMES_JOB: (builder.join, builder.give_up),
        },
    )
    with unit_of_work(db_factory) as session:
        request_recompute(session)
    assert runner.drain() == 1  # the full re-form
    with db_factory() as session:
        before = {s.category: s.id for s in theme_store.theme_summaries(session, NOW)}
        theme_store.rename(session, before["power"], "村口路灯", actor="wang", now=NOW)  # curated now
        session.commit()
    repeat = add(db_factory, "五星路又有人乱停车，人行道上全是车", "transport", "红旗村")
    lamp = add(db_factory, "村口路灯又坏了，晚上黑乎乎的", "power")
    water = [add(db_factory, t, "environment") for t in ["河里有死鱼，水很臭", "河里死鱼很多，河水发臭"]]
    alone = add(db_factory, "垃圾桶满了没人清理", "environment")
    with unit_of_work(db_factory) as session:
        first = request_join(session).id
        assert request_join(session).id == first  # one waiting pass places them all
        assert request_recompute(session).id != first  # a full re-form is a job of its own
        session.execute(select(Job).where(Job.id != first, Job.state == "queued")).scalar_one().state = "done"
    assert runner.drain() == 1
    with db_factory() as session:
        summaries = {s.category: s for s in theme_store.theme_summaries(session, NOW)}
        transport = theme_store.theme_detail(session, before["transport"], NOW)
        assert [m.id for m in transport.members] == [*parking, repeat]  # same theme, one more member
        assert transport.title.startswith("五星路") and "停车" in transport.title
        power = theme_store.theme_detail(session, before["power"], NOW)
        assert [m.id for m in power.members] == lights and power.title == "村口路灯"  # curated: untouched
        new = theme_store.theme_detail(session, summaries["environment"].id, NOW)
        assert [m.id for m in new.members] == water and new.key_phrases[0] == "河里"
        held = {
            m.id for s in summaries.values() for m in theme_store.theme_detail(session, s.id, NOW).members
        }
        assert alone not in held and lamp not in held  # alone; or near a theme staff curated
    assert builder.update() == (0, 0)  # nothing left to place


def test_the_nightly_re_form_runs_once_a_day(db_factory: sessionmaker[Session]) -> None:
    for text in PARKING:
        add(db_factory, text, "transport")
    today = datetime.now(UTC)
    with unit_of_work(db_factory) as session:
        job = request_nightly(session, today)
        assert job is not None and job.target_id is None
    builder = ThemeBuilder(db_factory, ThemeSettings(window_days=10_000), clock=lambda: today)
    assert builder.reform_due()
    runner = JobRunner(db_factory, {RECOMPUTE_THEMES_JOB: (builder.recompute, builder.give_up)})
    assert runner.drain() == 1
    with unit_of_work(db_factory) as session:
        assert request_nightly(session, today) is None  # done since last night's hour
        assert request_nightly(session, today + timedelta(days=1)) is not None
    assert not builder.reform_due()
    tomorrow = ThemeBuilder(
        db_factory, ThemeSettings(window_days=10_000), clock=lambda: today + timedelta(days=1)
    )
    assert tomorrow.reform_due()


def test_a_repeat_from_the_same_village_is_flagged_not_closed(db_factory: sessionmaker[Session]) -> None:
    policy = DuplicatePolicy(window_days=30, min_similarity=0.5)
    original = add(db_factory, PARKING[0], "transport", at=NOW - timedelta(days=2))
    add(db_factory, "村口路灯坏了", "power", at=NOW - timedelta(days=1))
    repeat = add(db_factory, "五星路上乱停车太严重，人行道都停满了", "transport", status=Status.CLASSIFIED)
    elsewhere = add(db_factory, PARKING[0], "transport", "红旗村", status=Status.CLASSIFIED)
    different = add(db_factory, "河里有死鱼，水很臭", "environment", status=Status.CLASSIFIED)
    with unit_of_work(db_factory) as session:
        assert flag_if_duplicate(session, queries.get_suggestion(session, repeat), policy) == original
        assert flag_if_duplicate(session, queries.get_suggestion(session, repeat), policy) is None  # once
        assert flag_if_duplicate(session, queries.get_suggestion(session, elsewhere), policy) is None
        assert flag_if_duplicate(session, queries.get_suggestion(session, different), policy) is None
    with db_factory() as session:
        link = theme_store.duplicate_link(session, repeat)
        assert link is not None and link.matched_on == "village" and link.similarity >= 0.5
        assert queries.get_suggestion(session, repeat).status == Status.CLASSIFIED
        assert theme_store.duplicate_link(session, elsewhere) is None


def test_the_window_and_the_original_state_limit_duplicates(db_factory: sessionmaker[Session]) -> None:
    add(db_factory, PARKING[0], "transport", at=NOW - timedelta(days=40))
    add(db_factory, PARKING[0], "transport", at=NOW - timedelta(days=1), status="closed")
    same_address = add(
        db_factory, "门口的路灯坏了", "power", "红旗村", address="五星路5号", at=NOW - timedelta(days=1)
    )
    new = add(db_factory, PARKING[0], "transport", status=Status.CLASSIFIED)
    lamp = add(db_factory, "门口路灯坏了", "power", None, address="五星路5号", status=Status.CLASSIFIED)
    with unit_of_work(db_factory) as session:
        assert (
            flag_if_duplicate(session, queries.get_suggestion(session, new), DuplicatePolicy(30, 0.5)) is None
        )
        found = flag_if_duplicate(session, queries.get_suggestion(session, lamp), DuplicatePolicy(30, 0.5))
        assert found == same_address
        assert theme_store.duplicate_link(session, lamp).matched_on == "address"  # type: ignore[union-attr]

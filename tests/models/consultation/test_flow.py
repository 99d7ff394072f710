"""Publishing a topic, opinions, stance corrections, meetings and the outcome villagers see, on a
real database with a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.consultation import flow, queries
from models.consultation.flow import ConsultationConflict, split_clauses
from models.consultation.tables import Opinion
from models.consultation.words import Outcome, Stance
from models.db import unit_of_work
from models.directory.tables import AuditEntry
from models.errors import InvalidInput, NotFound
from models.suggestions import queries as suggestions
from models.themes import store as theme_store
from models.themes.store import NewTheme
from models.vocabulary import Channel, Status

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
DRAFT = """某某村村规民约（征求意见稿）
第一条 村民应当爱护公共设施。
第二条 垃圾分类投放，
不得乱倒。
第三条 禁止在河道洗车。"""


def _suggestion(session: Session, text: str, channel: str = Channel.TEXT) -> int:
    s = suggestions.create_suggestion(session, status=Status.ROUTED, actor="t", channel=channel, text=text,
                                      category="transport", village="五星村")  # fmt: skip
    return s.id


def _opinion(session: Session, code: str, text: str, clause: int | None = None) -> int:
    attach = flow.opinion_link(session, code, clause)
    sid = _suggestion(session, text, Channel.CONSULTATION)
    attach(session, sid)
    session.flush()
    return sid


def test_a_draft_splits_into_numbered_clauses() -> None:
    assert split_clauses(DRAFT) == [
        "第一条 村民应当爱护公共设施。",
        "第二条 垃圾分类投放，\n不得乱倒。",
        "第三条 禁止在河道洗车。",
    ]
    assert split_clauses("1. 修路\n2、装灯\n(3) 建公园") == ["1. 修路", "2、装灯", "(3) 建公园"]
    assert split_clauses("第一段\n\n第二段") == ["第一段", "第二段"]  # no numbers: paragraphs
    assert split_clauses("2026.5 计划") == ["2026.5 计划"]  # a year is no clause number
    assert split_clauses(None) == []


def test_publish_directly_with_clauses_then_opinions_are_counted(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        c = flow.publish(
            session, title=" 村规民约修订 ", description="请提意见", draft=DRAFT, actor="zhou", now=NOW
        )
        code, cid = c.short_code, c.id
        assert len(code) == flow.CODE_LENGTH and set(code) <= set(flow.CODE_ALPHABET)
    with unit_of_work(db_factory) as session:
        assert queries.by_code(session, code.lower()).title == "村规民约修订"  # the code is case-insensitive
        assert [cl.number for cl in queries.clauses(session, cid)] == [1, 2, 3]
        a = _opinion(session, code, "支持", clause=2)
        b = _opinion(session, code, "反对", clause=2)
        _opinion(session, code, "建议写清楚罚则")
        assert flow.record_machine_stance(session, a, Stance.SUPPORT, NOW)
        assert flow.record_machine_stance(session, b, Stance.OPPOSE, NOW)
        with pytest.raises(InvalidInput, match="no clause 9"):
            flow.opinion_link(session, code, 9)
        with pytest.raises(NotFound):
            flow.opinion_link(session, "NOPE99", None)
    with db_factory() as session:
        counts = queries.counts(session, cid)
        assert counts.total == 3
        assert counts.by_stance == {Stance.SUPPORT: 1, Stance.OPPOSE: 1, None: 1}
        assert counts.by_clause == {2: {Stance.SUPPORT: 1, Stance.OPPOSE: 1}, None: {None: 1}}
        assert [o.clause_number for o, _ in queries.opinions(session, cid)] == [2, 2, None]


def test_a_staff_stance_survives_the_machine(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        code = flow.publish(session, title="公交线路", description=None, actor="zhou", now=NOW).short_code
        sid = _opinion(session, code, "不太好说")
        flow.record_machine_stance(session, sid, Stance.SUGGESTION, NOW)
        flow.correct_stance(session, sid, "oppose", actor="zhou", now=NOW)
        assert not flow.record_machine_stance(session, sid, Stance.SUPPORT, NOW)
        with pytest.raises(InvalidInput, match="Unknown stance"):
            flow.correct_stance(session, sid, "maybe", actor="zhou", now=NOW)
    with db_factory() as session:
        opinion = session.get(Opinion, sid)
        assert opinion is not None and (opinion.stance, opinion.stance_source) == ("oppose", "staff")
        assert session.scalar(select(AuditEntry).where(AuditEntry.entity == "consultation_opinion"))


def test_the_outcome_reaches_the_theme_and_the_opinions_and_closes_the_topic(
    db_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(db_factory) as session:
        raised = _suggestion(session, "五星路乱停车")
        elsewhere = _suggestion(session, "路灯坏了")
        [theme] = theme_store.replace_automatic_themes(
            session, [NewTheme("transport", "五星路停车", ["停车"], [raised])], NOW
        )
        topic = theme_store.promote(session, theme.id, None, "提交协商", actor="zhou", now=NOW)
        c = flow.publish(session, title=None, description=None, topic_id=topic.id, actor="zhou", now=NOW)
        assert (c.title, c.description) == ("五星路停车", "提交协商")  # from the topic
        with pytest.raises(ConsultationConflict, match="published already"):
            flow.publish(session, title=None, description=None, topic_id=topic.id, actor="zhou", now=NOW)
        opinion = _opinion(session, c.short_code, "建议划停车位")
        cid, code = c.id, c.short_code
    with unit_of_work(db_factory) as session:
        assert queries.outcome_for(session, raised) is None  # no outcome yet
        flow.record_meeting(session, cid, kind="meeting", held_on=date(2026, 11, 20), place="村委会",
                            deputies="王代表", departments="交通办", minutes="讨论了停车",
                            decisions="划定50个停车位", actor="zhou", now=NOW)  # fmt: skip
        with pytest.raises(InvalidInput, match="place"):
            flow.record_meeting(session, cid, kind="meeting", held_on=date(2026, 11, 20), place=" ",
                                deputies=None, departments=None, minutes=None, decisions=None,
                                actor="zhou", now=NOW)  # fmt: skip
        with pytest.raises(InvalidInput, match="Unknown outcome"):
            flow.set_outcome(session, cid, "shrug", None, actor="zhou", now=NOW)
        flow.set_outcome(session, cid, Outcome.LIVELIHOOD_CANDIDATE, "明年实施", actor="zhou", now=NOW)
    with unit_of_work(db_factory) as session:
        for sid in (raised, opinion):
            seen = queries.outcome_for(session, sid)
            assert seen is not None and seen.outcome == Outcome.LIVELIHOOD_CANDIDATE
            assert seen.note == "明年实施" and seen.decisions == ["划定50个停车位"]
        assert queries.outcome_for(session, elsewhere) is None
        with pytest.raises(ConsultationConflict, match="closed"):
            flow.opinion_link(session, code, None)
        with pytest.raises(ConsultationConflict, match="already"):
            flow.set_outcome(session, cid, Outcome.DECIDED, None, actor="zhou", now=NOW)


def test_publishing_needs_a_title(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session, pytest.raises(InvalidInput, match="title"):
        flow.publish(session, title="  ", description="x", actor="zhou", now=NOW)

"""The township vocabulary: what a correction teaches, admin edits, directory names and the hint."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work, utcnow
from models.directory import queries as directory
from models.errors import Conflict, InvalidInput, NotFound
from models.township import queries as township
from models.township.tables import MAX_TERM_CHARS, TermSource


def test_a_correction_teaches_the_names_it_fixes_as_whole_words() -> None:
    heard = "本线冷将东路兰波旺酒店外强装修舞人士工"
    corrected = "本县冷江东路蓝波旺酒店外墙装修无人施工。"
    terms = township.correction_terms(heard, corrected)
    assert "本县冷江东路" in terms and "蓝波旺" in terms
    assert all(2 <= len(t) <= 8 for t in terms)
    assert township.correction_terms(
        "咨询系列是农产品运输走高速免费的问题", "咨询西地省农产品运输走高速免费的问题。"
    ) == ["西地省"]


def test_a_correction_without_new_chinese_words_teaches_nothing() -> None:
    assert township.correction_terms("路灯坏了", "路灯坏了") == []
    assert township.correction_terms("路灯坏了,晚上很黑", "路灯坏了，晚上很黑。") == []
    assert township.correction_terms("the light is off", "The light is off!") == []
    # A single changed character inside a known word gives that word, never one character.
    terms = township.correction_terms("今天下雨", "今天下午")
    assert terms and all(len(t) >= 2 and "午" in t for t in terms)


def test_learning_counts_terms_and_keeps_disabled_ones_disabled(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        township.learn_from_correction(session, "咨询系列是农产品", "咨询西地省农产品", utcnow())
        township.learn_from_correction(session, "2020 CD 省城乡", "2020西地省城乡", utcnow())
    with unit_of_work(db_factory) as session:
        (term,) = [t for t in township.terms(session) if t.text == "西地省"]
        assert term.count == 2 and term.source == TermSource.CORRECTION and term.enabled
        township.set_enabled(session, term.id, False, utcnow())
    with unit_of_work(db_factory) as session:
        township.learn_from_correction(session, "系列是", "西地省", utcnow())
        (term,) = [t for t in township.terms(session) if t.text == "西地省"]
        assert term.count == 3 and not term.enabled
        assert "西地省" not in township.recognition_hint(session)


def test_admin_terms_are_cleaned_limited_and_not_duplicated(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        term = township.add_term(session, "  映山岭 ", utcnow())
        assert term.text == "映山岭" and term.source == TermSource.ADMIN
        assert township.add_term(session, "ＡＢ　村", utcnow()).text == "AB 村"  # NFKC, one space
        for bad in ("", "   ", "长" * (MAX_TERM_CHARS + 1), "映山\n岭", "a\x00b", "x\u202ey"):
            with pytest.raises(InvalidInput):
                township.add_term(session, bad, utcnow())
        with pytest.raises(Conflict):
            township.add_term(session, "映山岭", utcnow())
        township.set_enabled(session, term.id, False, utcnow())
        assert township.add_term(session, "映山岭", utcnow()).enabled  # adding again enables it
        with pytest.raises(NotFound):
            township.set_enabled(session, 999_999, True, utcnow())


def test_directory_villages_and_departments_join_once(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        directory.seed_departments(session)
        directory.set_routing_rule(
            session,
            actor="admin",
            now=utcnow(),
            category="power",
            village="牛角冲村",
            department_code="power_station",
        )
        added = township.sync_directory(session, utcnow())
        by_text = {t.text: t for t in added}
        assert by_text["牛角冲村"].source == TermSource.VILLAGE
        assert any(t.source == TermSource.DEPARTMENT for t in added)
        township.set_enabled(session, by_text["牛角冲村"].id, False, utcnow())
        assert township.sync_directory(session, utcnow()) == []  # nothing twice; disabled stays off
        assert "牛角冲村" not in township.recognition_hint(session)


def test_the_hint_puts_frequent_terms_first_within_its_cap(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        township.add_term(session, "甲村", utcnow())
        for _ in range(3):
            township.learn_from_correction(session, "", "映山岭", utcnow())
        township.add_term(session, "长" * MAX_TERM_CHARS, utcnow())
        assert township.recognition_hint(session).startswith("映山岭，")
        assert township.recognition_hint(session, max_chars=8) == "映山岭，甲村"
        assert len(township.recognition_hint(session)) <= township.MAX_HINT_CHARS

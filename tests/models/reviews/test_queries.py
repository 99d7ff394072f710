"""Review decisions and the queue on a real database, for every kind of suggestion state."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work, utcnow
from models.directory import queries as directory
from models.errors import InvalidInput
from models.reviews import queries as rq
from models.suggestions import lifecycle, queries
from models.taxonomy import LABELS


def _suggestion(
    session: Session, status: str, category: str | None = "transport", confidence: float = 0.4
) -> int:
    directory.seed_departments(session)
    s = queries.create_suggestion(
        session, status=status, actor="test", channel="text", text="路口红绿灯坏了", language="zh"
    )
    s.category, s.category_source = category, "model" if category else None
    s.confidence = confidence if category else None
    if category:
        dept = directory.department_for(session, category, None)
        s.department_id = dept.id if dept else None
    session.flush()
    return s.id


@pytest.mark.parametrize("status", ["dispatched", "in_progress", "closed"])
def test_after_dispatch_a_correction_is_recorded_but_does_not_move_the_suggestion(
    db_factory: sessionmaker[Session], status: str
) -> None:
    with unit_of_work(db_factory) as session:
        sid = _suggestion(session, status)
        decision = rq.record_review(
            session, sid, reviewer="li", category="power", transcript=None, labels=LABELS
        )
        assert decision.rerouted is False and decision.department == "transport_bureau"
    with unit_of_work(db_factory) as session:
        s = queries.get_suggestion(session, sid)
        assert s.status == status and s.department is not None and s.department.code == "transport_bureau"
        assert s.category == "power" and s.category_source == "staff"
        last = queries.history(session, sid)[-1]
        assert last.kind == "reviewed" and last.actor == "li" and last.detail["rerouted"] is False


def test_a_returned_suggestion_is_rerouted_by_a_correction(db_factory: sessionmaker[Session]) -> None:
    """A department returns (退单) a wrongly routed suggestion: it goes back to triage as
    needs_review, and the reviewer's correction routes it to the right department."""
    with unit_of_work(db_factory) as session:
        sid = _suggestion(session, "routed")
        lifecycle.dispatch(session, sid, actor="boss", now=utcnow())
        lifecycle.return_to_triage(session, sid, actor="zhao", now=utcnow(), reason="不是交通问题，是停电")
        assert queries.get_suggestion(session, sid).status == "needs_review"
        decision = rq.record_review(
            session, sid, reviewer="li", category="power", transcript=None, labels=LABELS
        )
        assert decision.rerouted and decision.department == "power_station"
        assert queries.get_suggestion(session, sid).status == "routed"


def test_a_suggestion_still_being_processed_cannot_be_reviewed(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        sid = _suggestion(session, "received", category=None)
        with pytest.raises(rq.NotReviewable):
            rq.record_review(session, sid, reviewer="li", category="power", transcript=None, labels=LABELS)


def test_a_failed_note_needs_typed_text_before_it_can_be_routed(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        sid = _suggestion(session, "failed", category=None)
        queries.get_suggestion(session, sid).text = None
        with pytest.raises(InvalidInput):
            rq.record_review(session, sid, reviewer="li", category="power", transcript=None, labels=LABELS)
        decision = rq.record_review(
            session, sid, reviewer="li", category="power", transcript="村里停电三天了", labels=LABELS
        )
        assert decision.review.verdict == "corrected" and decision.review.text == "村里停电三天了"
        assert queries.get_suggestion(session, sid).status == "routed"
        assert rq.reviewed_examples(session) == [("村里停电三天了", "power", sid)]


def test_the_queue_puts_uncategorised_then_least_confident_first(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        sure = _suggestion(session, "needs_review", confidence=0.9)
        unsure = _suggestion(session, "needs_review", confidence=0.2)
        blank = _suggestion(session, "needs_review", category=None)
        _suggestion(session, "routed", confidence=0.1)
        total, page = rq.review_queue(session, rq.QueueFilter())
        assert total == 3 and [s.id for s in page] == [blank, unsure, sure]


def test_only_unreviewed_open_items_with_text_follow_a_new_model(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        open_one = _suggestion(session, "needs_review")
        routed = _suggestion(session, "routed")
        silent = _suggestion(session, "needs_review", category=None)
        queries.get_suggestion(session, silent).text = ""
        dispatched = _suggestion(session, "dispatched")
        reviewed = _suggestion(session, "needs_review")
        rq.record_review(session, reviewed, reviewer="li", category="power", transcript=None, labels=LABELS)
        assert {s.id for s in rq.reclassifiable(session)} == {open_one, routed}
        assert [s.id for s in rq.reclassifiable(session, [routed, dispatched])] == [routed]


def test_unsure_words_in_the_transcript_move_a_note_up_the_queue(db_factory: sessionmaker[Session]) -> None:
    """The category's confidence is lowered by the share of words the speech engine was unsure of:
    0.6 with half the words unsure (0.3) comes before 0.4 with every word heard clearly."""
    with unit_of_work(db_factory) as session:
        clear = _suggestion(session, "needs_review", confidence=0.4)
        misheard = _suggestion(session, "needs_review", confidence=0.6)
        untimed = _suggestion(session, "needs_review", confidence=0.5)
        for sid, share in ((clear, 0.0), (misheard, 0.5), (untimed, None)):
            queries.add_transcript(
                session, sid, engine="faster-whisper", model="whisper-base/int8", language="zh",
                language_probability=1.0, text="路口红绿灯坏了", segments=[], dropped_segments=[],
                confidence=0.8, seconds=1.0, unsure_word_share=share,
            )  # fmt: skip
        total, page = rq.review_queue(session, rq.QueueFilter())
        assert total == 3 and [s.id for s in page] == [misheard, clear, untimed]

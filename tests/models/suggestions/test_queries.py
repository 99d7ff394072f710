"""Suggestions' reads and writes: tracking codes, history, the record with transcript and prediction."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.errors import NotFound
from models.reviews import classifiers
from models.suggestions import queries
from models.vocabulary import Status


def test_tracking_codes_are_unambiguous_and_found_loosely(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        s = queries.create_suggestion(
            session, status=Status.RECEIVED, actor="villager", channel="text", text="x"
        )
        code = s.tracking_code
    assert len(code) == 9 and code[4] == "-"
    assert not set(code.replace("-", "")) & set("01OIL")
    with db_factory() as session:
        assert queries.get_by_tracking_code(session, code.lower().replace("-", " ")).id == s.id
        with pytest.raises(NotFound, match="tracking code"):
            queries.get_by_tracking_code(session, "AAAA-AAAA")


def test_status_changes_append_history(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        s = queries.create_suggestion(
            session, status=Status.RECEIVED, actor="villager", channel="text", text="x"
        )
        queries.set_status(session, s, Status.ROUTED, actor="worker", kind="routed", detail={"d": 1})
    with db_factory() as session:
        events = queries.history(session, s.id)
    assert [(e.kind, e.from_status, e.to_status) for e in events] == [
        ("received", None, "received"),
        ("routed", "received", "routed"),
    ]
    assert events[1].at.tzinfo is not None


def test_a_record_brings_the_transcript_and_the_newest_prediction(db_factory: sessionmaker[Session]) -> None:
    fields = dict(artefact_path="a", sha256="0" * 64, data_fingerprint="f", n_examples=1)
    with unit_of_work(db_factory) as session:
        version = classifiers.add_classifier_version(session, **fields).id
        bare = queries.create_suggestion(session, status=Status.RECEIVED, actor="villager", channel="text")
        voiced = queries.create_suggestion(session, status=Status.RECEIVED, actor="villager", channel="voice")
        other = queries.create_suggestion(session, status=Status.RECEIVED, actor="villager", channel="text")
        queries.add_transcript(
            session, voiced.id, engine="e", model="m", language="zh", language_probability=1.0,
            text="路灯坏了", confidence=0.9, seconds=1.0,
        )  # fmt: skip
        for suggestion, label in ((voiced, "transport"), (other, "environment"), (voiced, "power")):
            queries.add_prediction(
                session, suggestion.id, classifier_version_id=version, label=label, confidence=0.5
            )
    with db_factory() as session:
        record = queries.get_record(session, bare.id)
        assert (record.suggestion.id, record.transcript, record.prediction) == (bare.id, None, None)
        record = queries.get_record(session, voiced.id)
        assert record.transcript is not None and record.transcript.text == "路灯坏了"
        assert record.prediction is not None and record.prediction.label == "power"
        record = queries.get_record(session, other.id)
        assert record.transcript is None
        assert record.prediction is not None and record.prediction.label == "environment"
        with pytest.raises(NotFound):
            queries.get_record(session, 999_999)

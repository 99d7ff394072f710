"""The intake desk stores each suggestion once: Idempotency-Key retries and racing uploads."""

from __future__ import annotations

import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from intake.audio import AudioLimits
from intake.storage import LocalAudioStore
from intake.submission import Desk, Submitter
from models.errors import InvalidInput
from models.jobs.tables import Job
from models.suggestions.idempotency import IdempotencyConflict, IdempotencyKey
from models.suggestions.tables import Audio, Event, Suggestion


@pytest.fixture()
def desk(db_factory: sessionmaker[Session], tmp_path: Path) -> Desk:
    return Desk(db_factory, LocalAudioStore(tmp_path / "audio"), AudioLimits())


def _counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Suggestion, Job, Event, Audio, IdempotencyKey)
        }


def _staged(desk: Desk, source: Path) -> Path:
    """A copy of a test file in the store's staging area, as an upload would leave it."""
    target = desk.store.incoming / f"up-{uuid.uuid4().hex}-{source.name}"
    shutil.copyfile(source, target)
    return target


def test_the_same_text_with_the_same_key_is_stored_once(
    desk: Desk, db_factory: sessionmaker[Session]
) -> None:
    first = desk.submit_text("路灯坏了", Submitter(village="河西村"), "zh", idempotency_key="k-1")
    again = desk.submit_text("路灯坏了", Submitter(village="河西村"), "zh", idempotency_key="k-1")
    assert (again.id, again.tracking_code) == (first.id, first.tracking_code)
    assert not first.replayed and again.replayed
    assert _counts(db_factory) == {
        "suggestions": 1,
        "jobs": 1,
        "events": 1,
        "audio": 0,
        "idempotency_keys": 1,
    }


def test_the_same_key_with_other_content_is_refused_and_stores_nothing(
    desk: Desk, db_factory: sessionmaker[Session]
) -> None:
    desk.submit_text("路灯坏了", Submitter(), idempotency_key="k-2")
    before = _counts(db_factory)
    for text, submitter in (("河水很臭", Submitter()), ("路灯坏了", Submitter(phone="13800000000"))):
        with pytest.raises(IdempotencyConflict, match="already used for a different suggestion"):
            desk.submit_text(text, submitter, idempotency_key="k-2")
    assert _counts(db_factory) == before


def test_what_a_submission_is_about_is_part_of_it(desk: Desk, db_factory: sessionmaker[Session]) -> None:
    """The same words on two clauses of a topic are two opinions; a resend of one is stored once."""
    on = [{"topic": "ABC234", "clause": 1}, {"topic": "ABC234", "clause": 2}]
    first = desk.submit_text("同意", Submitter(), idempotency_key="k-3", about=on[0])
    assert desk.submit_text("同意", Submitter(), idempotency_key="k-3", about=on[0]).id == first.id
    for other in (on[1], {"topic": "XYZ789", "clause": 1}, None):
        with pytest.raises(IdempotencyConflict):
            desk.submit_text("同意", Submitter(), idempotency_key="k-3", about=other)
    second = desk.submit_text("同意", Submitter(), idempotency_key="k-4", about=on[1])
    assert desk.submit_text("同意", Submitter(), idempotency_key="k-4", about=on[1]).replayed
    assert second.id != first.id and _counts(db_factory)["suggestions"] == 2


def test_a_recording_sent_about_another_clause_conflicts(desk: Desk, data_dir: Path) -> None:
    note = data_dir / "voice_power.ogg"
    first = desk.submit_audio(_staged(desk, note), Submitter(), idempotency_key="v-3", about={"clause": 1})
    again = desk.submit_audio(_staged(desk, note), Submitter(), idempotency_key="v-3", about={"clause": 1})
    assert again.id == first.id and again.replayed
    with pytest.raises(IdempotencyConflict):
        desk.submit_audio(_staged(desk, note), Submitter(), idempotency_key="v-3", about={"clause": 2})


def test_without_a_key_every_submission_is_new(desk: Desk) -> None:
    a = desk.submit_text("路灯坏了", Submitter())
    b = desk.submit_text("路灯坏了", Submitter())
    assert a.id != b.id


@pytest.mark.parametrize("key", ["", " ", "x" * 201, "键", "a b"])
def test_a_malformed_key_is_refused(desk: Desk, key: str) -> None:
    with pytest.raises(InvalidInput, match="Idempotency-Key"):
        desk.submit_text("路灯坏了", Submitter(), idempotency_key=key)


def test_racing_requests_with_one_key_store_one_suggestion(
    desk: Desk, db_factory: sessionmaker[Session]
) -> None:
    # Eight threads send the same keyed submission at once; the unique key (not a check before
    # the insert) decides the winner, the others get its receipt.
    with ThreadPoolExecutor(8) as pool:
        receipts = list(
            pool.map(lambda _: desk.submit_text("公交车太少", Submitter(), idempotency_key="race"), range(8))
        )
    assert len({r.id for r in receipts}) == 1
    assert sum(not r.replayed for r in receipts) == 1
    assert _counts(db_factory)["suggestions"] == 1


def test_a_retried_voice_note_is_stored_once_and_another_recording_conflicts(
    desk: Desk, db_factory: sessionmaker[Session], data_dir: Path
) -> None:
    note = data_dir / "voice_power.ogg"
    first = desk.submit_audio(_staged(desk, note), Submitter(), idempotency_key="v-1")
    again = desk.submit_audio(_staged(desk, note), Submitter(), idempotency_key="v-1")
    assert again.id == first.id and again.replayed
    with pytest.raises(IdempotencyConflict):
        desk.submit_audio(_staged(desk, data_dir / "voice_other.ogg"), Submitter(), idempotency_key="v-1")
    counts = _counts(db_factory)
    assert (counts["suggestions"], counts["jobs"], counts["idempotency_keys"]) == (1, 1, 1)
    assert list(desk.store.incoming.iterdir()) == []  # staged copies are moved or deleted


def test_the_same_recording_uploaded_at_once_gets_one_audio_row(
    desk: Desk, db_factory: sessionmaker[Session], data_dir: Path
) -> None:
    staged = [_staged(desk, data_dir / "voice_transport.ogg") for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        receipts = list(pool.map(lambda p: desk.submit_audio(p, Submitter()), staged))
    assert len({r.id for r in receipts}) == 6
    counts = _counts(db_factory)
    assert (counts["audio"], counts["suggestions"]) == (1, 6)
    with db_factory() as session:
        assert set(session.scalars(select(Suggestion.audio_id))) == {session.scalar(select(Audio.id))}

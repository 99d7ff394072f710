"""The OpenAI-compatible API's transcription job on a real database: what it records when a file
fails in the worker, which request it takes, and forgetting requests nobody came back for.
(Successful transcriptions run real Whisper in tests/api/test_openai_audio.py.)"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.audio import AudioLimits, inspect_audio
from intake.pipeline import LazyTranscriber
from intake.transcription_job import (
    TRANSCRIPTION_JOB,
    TranscriptionJob,
    TranscriptionOrder,
    accept,
    check_upload,
    outcome,
    result_of,
)
from models.db import unit_of_work, utcnow
from models.errors import DomainError, InvalidInput, UnsupportedMedia
from models.jobs.tables import Job
from models.transcriptions import queries as transcriptions
from models.transcriptions.tables import TranscriptionRequest
from tests.conftest import DATA


def _never_loaded() -> LazyTranscriber:
    """A transcriber these tests must never reach: every file here fails before transcription."""
    return LazyTranscriber(lambda: pytest.fail("the transcriber was loaded"))


def _staged(tmp_path: Path, name: str) -> Path:
    copy = tmp_path / f"up-{name}"
    shutil.copy(DATA / name, copy)
    return copy


def _damaged_request(factory: sessionmaker[Session], tmp_path: Path) -> int:
    """A request whose stored bytes no longer decode (as a file damaged past its first second would)."""
    info = inspect_audio(DATA / "speech.wav")
    return accept(factory, _staged(tmp_path, "empty.wav"), info, TranscriptionOrder(language="en"))


def test_a_request_is_queued_with_one_job_and_its_staged_file_is_gone(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    staged = _staged(tmp_path, "speech.wav")
    info = check_upload(staged, AudioLimits())
    request_id = accept(db_factory, staged, info, TranscriptionOrder(prompt="p", word_timestamps=True))
    assert not staged.exists()
    with unit_of_work(db_factory) as session:
        row = session.get(TranscriptionRequest, request_id)
        assert row is not None and row.state == "queued" and row.audio == (DATA / "speech.wav").read_bytes()
        assert (row.prompt, row.word_timestamps, row.audio_format) == ("p", True, "wav")
        assert [(j.kind, j.target_id) for j in session.scalars(select(Job))] == [
            (TRANSCRIPTION_JOB, request_id)
        ]


def test_a_file_a_villager_could_not_send_is_refused_and_deleted(tmp_path: Path) -> None:
    staged = _staged(tmp_path, "not_audio.mp3")
    with pytest.raises(UnsupportedMedia):
        check_upload(staged, AudioLimits())
    assert not staged.exists()


def test_a_file_that_fails_in_the_worker_fails_its_request_with_the_same_error(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    first, second = _damaged_request(db_factory, tmp_path), _damaged_request(db_factory, tmp_path)
    job = TranscriptionJob(db_factory, _never_loaded(), AudioLimits(), tmp_path)
    job.run(first)  # takes its own request only
    found = outcome(db_factory, first)
    assert found is not None and found.finished and found.state == "failed"
    assert outcome(db_factory, second).state == "queued"  # type: ignore[union-attr]
    with pytest.raises(InvalidInput) as failed:
        result_of(found)
    assert failed.value.kind == "AudioTooShort" and "empty" in failed.value.detail
    with unit_of_work(db_factory) as session:
        assert session.get(TranscriptionRequest, first).audio is None  # type: ignore[union-attr]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("get-")]  # its scratch copy too


def test_requests_nobody_came_back_for_are_forgotten(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    request_id = _damaged_request(db_factory, tmp_path)
    later = TranscriptionJob(
        db_factory,
        _never_loaded(),
        AudioLimits(),
        tmp_path,
        keep=timedelta(hours=2),
        clock=lambda: utcnow() + timedelta(hours=2, minutes=1),
    )
    later.run(request_id)
    assert outcome(db_factory, request_id) is None


def test_a_request_whose_every_worker_died_fails_instead_of_waiting_out_the_client(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    request_id = _damaged_request(db_factory, tmp_path)
    job = TranscriptionJob(db_factory, _never_loaded(), AudioLimits(), tmp_path)
    with unit_of_work(db_factory) as session:  # the last try's worker took it, then died
        assert transcriptions.claim(session, request_id) is not None
    job.give_up(request_id, "lease expired")
    found = outcome(db_factory, request_id)
    assert found is not None and found.state == "failed"
    with pytest.raises(DomainError, match="failed on the server"):
        result_of(found)
    with unit_of_work(db_factory) as session:
        assert session.get(TranscriptionRequest, request_id).audio is None  # type: ignore[union-attr]

"""Transcription for machine clients (the OpenAI-compatible API): accept a file, transcribe it in
the worker with the same Transcriber as villagers' notes, hand the result back.

The request handler only checks and stores the upload (``check_upload``, ``accept``) and then
waits for the outcome; the job (``TRANSCRIPTION_JOB``) decodes and transcribes. Nothing here becomes a
suggestion. The audio lives in the request's row until the job has read it; the row goes once
its result is read, or after ``keep`` when nobody came back for it. Neither the audio nor the text
is ever logged.

A job does not name its request: each job takes the oldest queued request, and every request is
queued together with one job, so every request is taken by some job (as a retraining job takes
the queued run).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from intake.asr import DetailedSegment, Segment, Word
from intake.audio import AudioInfo, AudioLimits, inspect_audio, load_audio
from intake.pipeline import LazyTranscriber
from intake.storage import FETCHED_PREFIX
from models.db import unit_of_work, utcnow
from models.errors import SEMANTIC_BASES, DomainError
from models.jobs import queue as job_queue
from models.jobs.queue import Handlers
from models.transcriptions import queries as transcriptions
from models.transcriptions.tables import DONE

log = logging.getLogger(__name__)

TRANSCRIPTION_JOB = "api_transcription"
#: Requests nobody came back for are deleted after at least this long.
MIN_KEEP = timedelta(hours=1)


@dataclass(frozen=True)
class TranscriptionOrder:
    """How to transcribe: a forced language (None: detect zh or en), a prompt, a temperature (0:
    the transcriber's own fallback ladder) and whether to time each word."""

    language: str | None = None
    prompt: str | None = None
    temperature: float = 0.0
    word_timestamps: bool = False


@dataclass(frozen=True)
class TranscriptionResult:
    """What was heard: the language code ('' when no speech was found and none was forced), the
    recording's length in seconds, the text and its detailed segments."""

    language: str
    duration: float
    text: str
    segments: list[DetailedSegment]

    @property
    def words(self) -> list[Word]:
        """Every timed word, in order (empty unless word timestamps were asked for)."""
        return [word for segment in self.segments for word in segment.words]

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TranscriptionResult:
        """Read the stored form back."""
        segments = [
            DetailedSegment(
                **{
                    **s,
                    "tokens": tuple(s.get("tokens", ())),
                    "words": tuple(Word(**w) for w in s.get("words", ())),
                }
            )
            for s in data["segments"]
        ]
        return cls(str(data["language"]), float(data["duration"]), str(data["text"]), segments)


class TranscriptionFailed(DomainError):
    """The transcription failed on the server for a reason that is not the file's (logged)."""

    kind = "TranscriptionFailed"


def check_upload(staged: Path, limits: AudioLimits) -> AudioInfo:
    """Check a staged upload as a villager's note is checked (size, format, length: the same limits
    and the same errors); a refused file is deleted. Blocking."""
    try:
        return inspect_audio(staged, limits)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def accept(
    factory: sessionmaker[Session],
    staged: Path,
    info: AudioInfo,
    order: TranscriptionOrder,
    *,
    max_attempts: int = 3,
) -> int:
    """Store a checked upload (``check_upload``) with its job, and delete the staged file. Returns
    the request id. Blocking."""
    try:
        audio = staged.read_bytes()
    finally:
        staged.unlink(missing_ok=True)
    with unit_of_work(factory) as session:
        request_id = transcriptions.add_request(
            session,
            audio=audio,
            audio_format=info.format,
            language=order.language,
            prompt=order.prompt,
            temperature=order.temperature,
            word_timestamps=order.word_timestamps,
        )
        job_queue.enqueue(session, TRANSCRIPTION_JOB, request_id, max_attempts=max_attempts)
    return request_id


def outcome(factory: sessionmaker[Session], request_id: int) -> transcriptions.Outcome | None:
    """Where a request stands (None once forgotten). Blocking."""
    with unit_of_work(factory) as session:
        return transcriptions.outcome(session, request_id)


def forget(factory: sessionmaker[Session], request_id: int) -> None:
    """Delete a request whose result has been read. Blocking."""
    with unit_of_work(factory) as session:
        transcriptions.forget(session, request_id)


def result_of(found: transcriptions.Outcome) -> TranscriptionResult:
    """The transcript of a finished request, or the domain error it failed with."""
    if found.state == DONE and found.result is not None:
        return TranscriptionResult.from_json(found.result)
    base = next((b for b in SEMANTIC_BASES if b.__name__ == found.error_base), None)
    error = (base or TranscriptionFailed)(found.error_detail or "The transcription failed.")
    error.kind = found.error_kind or error.kind
    raise error


def _detailed(segment: Segment) -> DetailedSegment:
    return segment if isinstance(segment, DetailedSegment) else DetailedSegment(**asdict(segment))


def _semantic_base(error: DomainError) -> str:
    return next((b.__name__ for b in SEMANTIC_BASES if isinstance(error, b)), "DomainError")


class TranscriptionJob:
    """The job handler: transcribe the oldest queued request with the shared transcriber."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        transcriber: LazyTranscriber,
        limits: AudioLimits,
        scratch: Path,
        *,
        keep: timedelta = MIN_KEEP,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.factory = factory
        self.transcriber = transcriber
        self.limits = limits
        self.scratch = scratch
        self.keep = max(keep, MIN_KEEP)
        self.clock = clock

    def handlers(self) -> Handlers:
        """The job kind this class runs: one transcription request (the job's target)."""
        return {TRANSCRIPTION_JOB: (self.run, self.give_up)}

    def run(self, request_id: int) -> None:
        """Job handler: forget stale requests, then transcribe this request (a worker that died
        midway left it running: the job's next try takes it again).

        A failure is the request's, not the job's: it is recorded for the waiting client and the
        job ends (a retry could not answer a client who waits now).
        """
        with unit_of_work(self.factory) as session:
            forgotten = transcriptions.forget_older_than(session, self.clock() - self.keep)
            order = transcriptions.claim(session, request_id)
        if forgotten:
            log.info("forgot %d transcription request(s) nobody came back for", forgotten)
        if order is None:
            return
        try:
            result = self._transcribe(order)
        except DomainError as exc:
            self._fail(order.id, exc.kind, _semantic_base(exc), exc.detail)
            return
        except Exception as exc:
            log.exception("transcription request %d failed (%s)", order.id, type(exc).__name__)
            self._fail(
                order.id,
                TranscriptionFailed.kind,
                "DomainError",
                "The transcription failed on the server; it has been logged. Please try again.",
            )
            return
        with unit_of_work(self.factory) as session:
            transcriptions.finish(session, order.id, result.to_json())

    def give_up(self, request_id: int, _error: str) -> None:
        """Every try's worker died: the waiting client is told so instead of waiting it out."""
        self._fail(
            request_id,
            TranscriptionFailed.kind,
            "DomainError",
            "The transcription failed on the server; it has been logged. Please try again.",
        )

    def _fail(self, request_id: int, kind: str, base: str, detail: str) -> None:
        with unit_of_work(self.factory) as session:
            transcriptions.fail(session, request_id, kind=kind, base=base, detail=detail)

    def _transcribe(self, order: transcriptions.Order) -> TranscriptionResult:
        fd, name = tempfile.mkstemp(dir=self.scratch, prefix=FETCHED_PREFIX, suffix=f".{order.audio_format}")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(order.audio)
            audio = load_audio(path, self.limits)
        finally:
            path.unlink(missing_ok=True)
        transcriber = self.transcriber.get()
        base = transcriber.options
        options = replace(
            base,
            detailed=True,
            word_timestamps=order.word_timestamps,
            initial_prompt=order.prompt or base.initial_prompt,
            temperatures=(order.temperature,) if order.temperature > 0 else base.temperatures,
        )
        transcript = transcriber.transcribe(audio.samples, order.language, options)
        return TranscriptionResult(
            language=transcript.language,
            duration=round(audio.duration_s, 3),
            text=transcript.text,
            segments=[_detailed(s) for s in transcript.segments],
        )

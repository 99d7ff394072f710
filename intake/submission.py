"""Accepting a villager's note: validate, store the audio first, then the rows and the job."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from intake.audio import AudioLimits, load_audio
from intake.storage import AudioStore
from models import queries
from models.db import unit_of_work
from models.errors import InvalidInput
from models.tables import Status

LANGUAGES = ("auto", "zh", "en")
MAX_TEXT_CHARS = 5000
PROCESS_JOB = "process_suggestion"


@dataclass(frozen=True)
class Submitter:
    """Optional details a villager may give. Personal data: shown to staff only."""

    name: str | None = None
    phone: str | None = None
    village: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Receipt:
    """What the villager gets back at once."""

    id: int
    tracking_code: str
    status: str


def _clean(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"The {field} is too long ({len(value)} characters; at most {limit}).")
    return value or None


def validate_submitter(submitter: Submitter) -> dict[str, object]:
    """Check optional submitter fields and return them as column values."""
    for name, value, low, high in (
        ("latitude", submitter.latitude, -90.0, 90.0),
        ("longitude", submitter.longitude, -180.0, 180.0),
    ):
        if value is not None and (not math.isfinite(value) or not low <= value <= high):
            raise InvalidInput(f"The {name} {value} is not valid; it must be between {low} and {high}.")
    phone = _clean(submitter.phone, "phone number", 32)
    if phone is not None and not all(ch.isdigit() or ch in "+-() " for ch in phone):
        raise InvalidInput("The phone number may contain only digits, spaces and + - ( ).")
    return {
        "submitter_name": _clean(submitter.name, "name", 100),
        "submitter_phone": phone,
        "village": _clean(submitter.village, "village", 100),
        "address": _clean(submitter.address, "address", 300),
        "latitude": submitter.latitude,
        "longitude": submitter.longitude,
    }


def validate_language(language: str | None) -> str:
    """``auto`` (the default), ``zh`` or ``en``."""
    language = (language or "auto").strip().lower()
    if language not in LANGUAGES:
        raise InvalidInput(f"The language {language!r} is not supported; use auto, zh or en.")
    return language


class Desk:
    """The intake desk: takes suggestions in, stores them durably and queues their processing."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        store: AudioStore,
        limits: AudioLimits,
        *,
        max_attempts: int = 3,
        on_queued: Callable[[int], None] | None = None,
    ) -> None:
        self.factory = factory
        self.store = store
        self.limits = limits
        self.max_attempts = max_attempts
        # Called with the job id once the job row is committed (JobQueue.submitted).
        self.on_queued = on_queued or (lambda job_id: None)

    def submit_text(self, text: str, submitter: Submitter, language: str | None = None) -> Receipt:
        """Store a typed suggestion and queue its classification."""
        text = text.strip()
        if not text:
            raise InvalidInput("The suggestion is empty. Please write what you want to tell the township.")
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidInput(
                f"The suggestion is too long ({len(text)} characters; at most {MAX_TEXT_CHARS})."
            )
        columns = validate_submitter(submitter)
        lang = validate_language(language)
        with unit_of_work(self.factory) as session:
            receipt, job_id = self._store(
                session,
                channel="text",
                requested_language=lang,
                language=None if lang == "auto" else lang,
                text=text,
                **columns,
            )
        self.on_queued(job_id)
        return receipt

    def submit_audio(
        self,
        staged: Path,
        submitter: Submitter,
        *,
        language: str | None = None,
        original_name: str | None = None,
        content_type: str | None = None,
    ) -> Receipt:
        """Validate a staged upload, move it to the audio store, then store the rows and the job.

        Decoding here is quick (well under a second) and tells the villager at once when a file
        is not a usable recording; transcription happens later in a worker. A bad file is deleted
        and nothing is stored; a good one is on disk before any row refers to it.
        """
        try:
            columns = validate_submitter(submitter)
            lang = validate_language(language)
            name = _clean(original_name, "file name", 500)
            mime = _clean(content_type, "content type", 200)
            audio = load_audio(staged, self.limits)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        sha, relative, size = self.store.commit(staged, audio.format)
        with unit_of_work(self.factory) as session:
            stored = queries.find_audio(session, sha) or queries.add_audio(
                session,
                sha256=sha,
                path=str(relative),
                original_name=name,
                content_type=mime,
                format=audio.format,
                size_bytes=size,
                duration_s=round(audio.duration_s, 3),
                sample_rate=audio.original_sample_rate,
                channels=audio.original_channels,
            )
            receipt, job_id = self._store(
                session, channel="voice", requested_language=lang, audio_id=stored.id, **columns
            )
        self.on_queued(job_id)
        return receipt

    def _store(self, session: Session, **fields: Any) -> tuple[Receipt, int]:
        """Insert the suggestion and its processing job in the caller's unit of work."""
        suggestion = queries.create_suggestion(session, status=Status.RECEIVED, actor="villager", **fields)
        job = queries.enqueue_job(session, PROCESS_JOB, suggestion.id, max_attempts=self.max_attempts)
        return Receipt(suggestion.id, suggestion.tracking_code, suggestion.status), job.id

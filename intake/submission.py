"""Accepting a villager's note: validate, store the audio first, then the rows and the job."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from intake.audio import AudioLimits, inspect_audio
from intake.media import media_type_of
from intake.storage import AudioStore
from models.db import unit_of_work
from models.errors import N_, InvalidInput
from models.jobs import queue as job_queue
from models.suggestions import queries
from models.suggestions.idempotency import MAX_KEY_LENGTH, check_reuse, find_key, record_key
from models.suggestions.rating import new_rating_key, rating_key_hash
from models.vocabulary import Status

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
    """What the villager gets back at once. ``replayed``: an earlier request with the same
    Idempotency-Key already stored this suggestion, nothing new was written.

    ``rating_key`` lets the villager rate the result (models.rating); only its hash is stored, so
    this receipt is the one place it is shown. A replay returns the key the first receipt showed
    (None for keys stored before rating keys existed).
    """

    id: int
    tracking_code: str
    status: str
    rating_key: str | None
    replayed: bool = False


class _KeyTaken(Exception):
    """A concurrent request stored the same Idempotency-Key first; this transaction is undone."""


def validate_idempotency_key(key: str | None) -> str | None:
    """A client's Idempotency-Key: 1–200 visible ASCII characters (a UUID is typical), or None."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all(33 <= ord(ch) <= 126 for ch in key):
        raise InvalidInput(
            "The Idempotency-Key must be 1 to %(max_key_length)s visible ASCII characters "
            "(for example a UUID).",
            max_key_length=MAX_KEY_LENGTH,
        )
    return key


def fingerprint(**parts: object) -> str:
    """A stable hash of what was submitted, to tell a retry from a different suggestion."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _about(about: Mapping[str, str | int | None] | None) -> dict[str, object]:
    """The fingerprint part naming what a submission is about (none for a plain suggestion, so the
    fingerprints of keys stored before this part existed stay the same)."""
    return {} if about is None else {"about": dict(about)}


def _clean(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(
            "The %(field)s is too long (%(value)s characters; at most %(limit)s).",
            field=field,
            value=len(value),
            limit=limit,
        )
    return value or None


def validate_submitter(submitter: Submitter) -> dict[str, object]:
    """Check optional submitter fields and return them as column values."""
    for name, value, low, high in (
        ("latitude", submitter.latitude, -90.0, 90.0),
        ("longitude", submitter.longitude, -180.0, 180.0),
    ):
        if value is not None and (not math.isfinite(value) or not low <= value <= high):
            raise InvalidInput(
                "The %(name)s %(value)s is not valid; it must be between %(low)s and %(high)s.",
                name=name,
                value=value,
                low=low,
                high=high,
            )
    phone = _clean(submitter.phone, N_("phone number"), 32)
    if phone is not None and not all(ch.isdigit() or ch in "+-() " for ch in phone):
        raise InvalidInput("The phone number may contain only digits, spaces and + - ( ).")
    return {
        "submitter_name": _clean(submitter.name, N_("name"), 100),
        "submitter_phone": phone,
        "village": _clean(submitter.village, N_("village"), 100),
        "address": _clean(submitter.address, N_("address"), 300),
        "latitude": submitter.latitude,
        "longitude": submitter.longitude,
    }


def validate_language(language: str | None) -> str:
    """``auto`` (the default), ``zh`` or ``en``."""
    language = (language or "auto").strip().lower()
    if language not in LANGUAGES:
        raise InvalidInput(
            "The language '%(language)s' is not supported; use auto, zh or en.", language=language
        )
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
    ) -> None:
        self.factory = factory
        self.store = store
        self.limits = limits
        self.max_attempts = max_attempts

    def submit_text(
        self,
        text: str,
        submitter: Submitter,
        language: str | None = None,
        *,
        idempotency_key: str | None = None,
        channel: str = "text",
        attach: Callable[[Session, int], None] | None = None,
        about: Mapping[str, str | int | None] | None = None,
    ) -> Receipt:
        """Store a typed suggestion and queue its classification.

        ``channel`` says where it came from (``text`` or ``open311``); ``attach`` may add rows that
        belong to the new suggestion (given its id) in the same transaction, and ``about`` names what
        they link it to (a consultation topic and clause): part of the submission, so the same words
        about two clauses are two opinions while a retry of one is not stored twice. With an
        ``idempotency_key``, repeating the same submission returns the first receipt
        (``replayed=True``) and stores nothing; the same key with other content raises
        IdempotencyConflict.
        """
        text = text.strip()
        if not text:
            raise InvalidInput("The suggestion is empty. Please write what you want to tell the township.")
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidInput(
                "The suggestion is too long (%(text)s characters; at most %(max_text_chars)s).",
                text=len(text),
                max_text_chars=MAX_TEXT_CHARS,
            )
        columns = validate_submitter(submitter)
        lang = validate_language(language)
        key = validate_idempotency_key(idempotency_key)
        print_ = fingerprint(channel=channel, text=text, language=lang, **columns, **_about(about))
        return self._store_once(
            key,
            print_,
            dict(
                channel=channel,
                requested_language=lang,
                language=None if lang == "auto" else lang,
                text=text,
                **columns,
            ),
            attach=attach,
        )

    def submit_audio(
        self,
        staged: Path,
        submitter: Submitter,
        *,
        language: str | None = None,
        original_name: str | None = None,
        idempotency_key: str | None = None,
        channel: str = "voice",
        attach: Callable[[Session, int], None] | None = None,
        about: Mapping[str, str | int | None] | None = None,
    ) -> Receipt:
        """Validate a staged upload, move it to the audio store, then store the rows and the job.

        Inspecting the file here takes milliseconds (see intake.audio.inspect_audio) and tells the
        villager at once when it is not a usable recording; the full decode and the transcription
        happen later in a worker. A bad file is deleted and nothing is stored; a good one is on
        disk before any row refers to it. If the process dies between the two, the file is left
        unreferenced under its content hash and a retry of the upload reuses it.
        ``idempotency_key``, ``channel`` (``voice`` unless a consultation opinion), ``attach`` and
        ``about`` work as in :meth:`submit_text`.
        """
        try:
            columns = validate_submitter(submitter)
            lang = validate_language(language)
            key = validate_idempotency_key(idempotency_key)
            name = _clean(original_name, N_("file name"), 500)
            audio = inspect_audio(staged, self.limits)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        sha, relative, size = self.store.commit(staged, audio.format)
        audio_row = dict(
            sha256=sha,
            path=str(relative),
            original_name=name,
            content_type=media_type_of(audio.format),
            format=audio.format,
            size_bytes=size,
            duration_s=round(audio.duration_s, 3),
            sample_rate=audio.sample_rate,
            channels=audio.channels,
        )
        print_ = fingerprint(channel=channel, audio_sha256=sha, language=lang, **columns, **_about(about))
        return self._store_once(
            key, print_, dict(channel=channel, requested_language=lang, **columns), audio_row, attach
        )

    def _replay(self, key: str, print_: str) -> Receipt | None:
        """The receipt of the suggestion this key already stored, if any (conflict if it differs)."""
        with unit_of_work(self.factory) as session:
            use = find_key(session, key)
            if use is None:
                return None
            suggestion = queries.get_suggestion(session, check_reuse(use, print_, key))
            return Receipt(
                suggestion.id, suggestion.tracking_code, suggestion.status, use.rating_key, replayed=True
            )

    def _store_once(
        self,
        key: str | None,
        print_: str,
        fields: dict[str, Any],
        audio_row: dict[str, Any] | None = None,
        attach: Callable[[Session, int], None] | None = None,
    ) -> Receipt:
        """Store audio row, suggestion, job, attached rows and key in one transaction: all or none."""
        if key is not None and (earlier := self._replay(key, print_)) is not None:
            return earlier
        try:
            with unit_of_work(self.factory) as session:
                if audio_row is not None:
                    fields["audio_id"] = queries.ensure_audio(session, **audio_row).id
                receipt = self._store(session, **fields)
                if attach is not None:
                    attach(session, receipt.id)
                if key is not None and not record_key(session, key, print_, receipt.id, receipt.rating_key):
                    raise _KeyTaken
        except _KeyTaken:
            # A request with the same key committed while this one ran: answer with its result.
            earlier = self._replay(key or "", print_)
            assert earlier is not None
            return earlier
        return receipt

    def _store(self, session: Session, **fields: Any) -> Receipt:
        """Insert the suggestion (with a fresh rating key's hash) and its processing job in the
        caller's unit of work."""
        rating_key = new_rating_key()
        suggestion = queries.create_suggestion(
            session,
            status=Status.RECEIVED,
            actor="villager",
            rating_key_hash=rating_key_hash(rating_key),
            **fields,
        )
        job_queue.enqueue(session, PROCESS_JOB, suggestion.id, max_attempts=self.max_attempts)
        return Receipt(suggestion.id, suggestion.tracking_code, suggestion.status, rating_key)

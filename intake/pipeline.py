"""One suggestion through every stage: transcribe → classify → duplicate check → route; an opinion on
a consultation topic: transcribe → stance, and it stays with its topic.

Each stage runs in its own unit of work and checks what is already stored, so a job that is
retried after a crash picks up where it stopped and never stores anything twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from classify.registry import ClassifierRegistry
from intake.asr import Transcriber, segment_record, unsure_word_share
from intake.audio import AudioLimits, load_audio
from intake.duplicates import DuplicatePolicy, flag_if_duplicate
from intake.opinions import is_opinion, record_opinion
from intake.storage import AudioStore
from intake.submission import PROCESS_JOB
from intake.understanding import UnderstandingPolicy, doubts
from models.db import unit_of_work
from models.directory import queries as directory
from models.errors import N_
from models.jobs.queue import Handlers
from models.suggestions import queries
from models.suggestions import reasons as reasons_store
from models.suggestions.reasons import Reason
from models.suggestions.tables import Suggestion
from models.township import queries as township
from models.vocabulary import IN_PROCESSING, Status

WORKER = "worker"
NO_SPEECH = Reason(
    N_("No speech was heard in the recording. Please listen to it and type what the villager said.")
)


@dataclass(frozen=True)
class RoutingPolicy:
    """When the machine may route on its own, and when a person must look first."""

    min_transcript_confidence: float = 0.4
    min_classifier_confidence: float = 0.5
    # Hint Mandarin recognition with the township's vocabulary (a setting; off by default).
    township_vocabulary: bool = False

    @property
    def understanding(self) -> UnderstandingPolicy:
        """When a transcript is trusted (intake.understanding), with this policy's confidence floor."""
        return UnderstandingPolicy(min_confidence=self.min_transcript_confidence)


class LazyTranscriber:
    """Loads the speech model on first use, once, for every worker thread."""

    def __init__(self, build: Callable[[], Transcriber]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._transcriber: Transcriber | None = None

    def get(self) -> Transcriber:
        """The loaded transcriber (loading it now if needed)."""
        with self._lock:
            if self._transcriber is None:
                self._transcriber = self._build()
            return self._transcriber

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._transcriber is not None


def _send_to_review(
    session: Session, suggestion: Suggestion, reasons: list[Reason], detail: dict[str, Any]
) -> None:
    reason = reasons_store.dump(reasons)
    suggestion.review_reason = reason
    queries.set_status(
        session,
        suggestion,
        Status.NEEDS_REVIEW,
        actor=WORKER,
        kind="needs_review",
        detail={**detail, "reason": reason},
    )


class Pipeline:
    """Runs the stages for one suggestion id. Safe to call again for the same id."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        store: AudioStore,
        transcriber: LazyTranscriber,
        classifiers: ClassifierRegistry,
        *,
        limits: AudioLimits,
        policy: RoutingPolicy,
        duplicates: DuplicatePolicy | None = None,
    ) -> None:
        self.factory = factory
        self.store = store
        self.transcriber = transcriber
        self.classifiers = classifiers
        self.limits = limits
        self.policy = policy
        self.duplicates = duplicates or DuplicatePolicy()

    def handlers(self) -> Handlers:
        """The job kind this class runs: taking a submitted suggestion through every stage."""
        return {PROCESS_JOB: (self.process, self.give_up)}

    def process(self, suggestion_id: int) -> None:
        """Take the suggestion as far as it can go without a person."""
        self.transcribe(suggestion_id)
        with self.factory() as session:
            opinion = is_opinion(session, suggestion_id)
        if opinion:
            self.record_opinion(suggestion_id)
            return
        self.classify(suggestion_id)
        self.check_duplicate(suggestion_id)
        self.route(suggestion_id)

    def transcribe(self, suggestion_id: int) -> None:
        """Turn the stored recording into a transcript (skipped for text or if already done)."""
        with unit_of_work(self.factory) as session:
            suggestion = queries.get_suggestion(session, suggestion_id)
            if suggestion.audio is None or suggestion.status != Status.RECEIVED:
                return
            if queries.transcript_for(session, suggestion_id) is not None:
                return
            stored_at = suggestion.audio.path
            requested = suggestion.requested_language
            # The township's own words, for Mandarin (the Transcriber ignores them for English).
            hinted = self.policy.township_vocabulary and requested in ("auto", "zh")
            vocabulary = township.recognition_hint(session) if hinted else ""
        with self.store.local_copy(stored_at) as audio_path:
            audio = load_audio(audio_path, self.limits)
        transcriber = self.transcriber.get()
        # Timed words with their probabilities: the review page marks the unsure ones.
        timed = replace(transcriber.options, detailed=True, word_timestamps=True)
        result = transcriber.transcribe(
            audio.samples, None if requested == "auto" else requested, timed, vocabulary=vocabulary
        )
        with unit_of_work(self.factory) as session:
            suggestion = queries.get_suggestion(session, suggestion_id)
            if queries.transcript_for(session, suggestion_id) is not None:
                return
            queries.add_transcript(
                session,
                suggestion_id,
                engine=result.engine,
                model=result.model,
                language=result.language,
                language_probability=result.language_probability,
                text=result.text,
                segments=[segment_record(s) for s in result.segments],
                dropped_segments=[segment_record(s) for s in result.dropped],
                confidence=result.confidence,
                unsure_word_share=unsure_word_share(result.segments),
                seconds=result.seconds,
            )
            suggestion.text = result.text
            suggestion.language = result.language or None
            detail = {"engine": result.engine, "confidence": result.confidence, "seconds": result.seconds}
            queries.set_status(
                session, suggestion, Status.TRANSCRIBED, actor=WORKER, kind="transcribed", detail=detail
            )
            if not result.text:
                _send_to_review(session, suggestion, [NO_SPEECH], {})

    def classify(self, suggestion_id: int) -> None:
        """Predict the category of the suggestion's text (once per text)."""
        with unit_of_work(self.factory) as session:
            suggestion = queries.get_suggestion(session, suggestion_id)
            if (
                suggestion.status not in IN_PROCESSING
                or not suggestion.text
                or is_opinion(session, suggestion_id)
            ):
                return
            version_id, classifier = self.classifiers.active()
            prediction = classifier.predict([suggestion.text])[0]
            queries.add_prediction(
                session,
                suggestion_id,
                classifier_version_id=version_id,
                label=prediction.label,
                confidence=prediction.confidence,
                probabilities=dict(prediction.probabilities),
            )
            suggestion.category = prediction.label
            suggestion.category_source = "model"
            suggestion.confidence = prediction.confidence
            queries.set_status(
                session,
                suggestion,
                Status.CLASSIFIED,
                actor=WORKER,
                kind="classified",
                detail={
                    "category": prediction.label,
                    "confidence": prediction.confidence,
                    "classifier_version": version_id,
                },
            )

    def record_opinion(self, suggestion_id: int) -> None:
        """An opinion on a consultation topic: where it stands (support / oppose / suggestion), kept
        on the topic instead of classified, checked for duplicates and routed."""
        with unit_of_work(self.factory) as session:
            record_opinion(session, suggestion_id, WORKER)

    def check_duplicate(self, suggestion_id: int) -> None:
        """Flag a classified suggestion that repeats an open one from its village or address."""
        with unit_of_work(self.factory) as session:
            suggestion = queries.get_suggestion(session, suggestion_id)
            if suggestion.status != Status.CLASSIFIED:
                return
            flag_if_duplicate(session, suggestion, self.duplicates)

    def route(self, suggestion_id: int) -> None:
        """Send a classified suggestion to its department, or to review when unsure."""
        with unit_of_work(self.factory) as session:
            suggestion = queries.get_suggestion(session, suggestion_id)
            if suggestion.status != Status.CLASSIFIED or suggestion.category is None:
                return
            department = directory.department_for(session, suggestion.category, suggestion.village)
            suggestion.department_id = department.id if department is not None else None
            reasons = self._review_reasons(session, suggestion, department is not None)
            detail = {"department": department.code if department else None}
            if reasons:
                _send_to_review(session, suggestion, reasons, detail)
            else:
                queries.set_status(
                    session, suggestion, Status.ROUTED, actor=WORKER, kind="routed", detail=detail
                )

    def _review_reasons(self, session: Session, suggestion: Suggestion, has_department: bool) -> list[Reason]:
        reasons = []
        transcript = queries.transcript_for(session, suggestion.id)
        if transcript is not None:
            reasons += doubts(
                self.policy.understanding,
                text=transcript.text,
                language=transcript.language,
                language_probability=transcript.language_probability,
                confidence=transcript.confidence,
                segments=transcript.segments or [],
            )
        if (suggestion.confidence or 0.0) < self.policy.min_classifier_confidence:
            reasons.append(
                Reason(
                    N_("The category is uncertain (confidence %(confidence)s)."),
                    {"confidence": f"{suggestion.confidence or 0.0:.2f}"},
                )
            )
        if not has_department:
            reasons.append(reasons_store.no_department(suggestion.category))
        return reasons

    def give_up(self, suggestion_id: int, error: str) -> None:
        """After the last failed attempt: mark the suggestion failed; its audio stays stored."""
        with unit_of_work(self.factory) as session:
            suggestion = queries.get_suggestion(session, suggestion_id)
            suggestion.review_reason = reasons_store.dump(
                [
                    Reason(
                        N_(
                            "Automatic processing failed; the recording is kept. Please listen and type "
                            "the text. (%(error)s)"
                        ),
                        {"error": error[:300]},
                    )
                ]
            )
            queries.set_status(
                session,
                suggestion,
                Status.FAILED,
                actor=WORKER,
                kind="failed",
                detail={"error": error[:1000]},
            )

"""Staff decisions and what the classifier learns from them: review, retrain job, promotion, rollback.

Retraining and re-classification run only as durable jobs (kinds ``RETRAIN_JOB`` and
``RECLASSIFY_JOB``, registered with the job runner); request handlers only record and enqueue.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from classify.learning import (
    IMPORTED,
    REVIEWED,
    REVIEWED_WEIGHT,
    SEED,
    SourcedExample,
    TrainingData,
    assemble,
    gate,
    score,
    train_candidate,
)
from classify.meaning import kept_vectors
from classify.registry import ClassifierRegistry, register_artefact
from classify.train import Example, read_labelled_csv, seed_paths
from models.db import unit_of_work, utcnow
from models.directory import queries as directory
from models.errors import DomainError, InvalidInput
from models.jobs import queue as job_queue
from models.jobs.queue import Handlers
from models.reviews import artefacts, classifiers
from models.reviews import queries as rq
from models.reviews.tables import RunState, TrainingRun
from models.suggestions import queries
from models.taxonomy import LABELS
from models.vocabulary import Status

log = logging.getLogger(__name__)

RETRAIN_JOB = "retrain_classifier"
RECLASSIFY_JOB = "reclassify_open"
WORKER = "worker"
#: The trigger of a run queued because the taxonomy has categories the active model was not trained on.
CATEGORIES_TRIGGER = "categories"
# A worker that dies in a run (killed, out of memory) gets one more try, which resumes a run that had
# already promoted its candidate; after that the run is closed (retrain_given_up), never left open.
RETRAIN_ATTEMPTS = 2
RECLASSIFY_ATTEMPTS = 3
_BATCH = 200


@dataclass(frozen=True)
class LearningPolicy:
    """How the classifier learns: auto-retrain cadence, promotion margin, when to cross-validate, and
    how much more a staff-reviewed example weighs in training than a seed or imported one."""

    retrain_after_reviews: int = 50  # 0 turns automatic retraining off
    promotion_margin: float = 0.01
    reviewed_weight: float = REVIEWED_WEIGHT
    cv_max_examples: int = 3000
    random_state: int = 0


@dataclass(frozen=True)
class ReviewOutcome:
    """The stored decision and what followed from it."""

    review_id: int
    verdict: str
    category: str
    status: str
    department: str | None
    rerouted: bool
    retrain_run_id: int | None


@dataclass(frozen=True)
class RunOutcome:
    """The end of a retraining run."""

    run_id: int
    state: str
    candidate_version_id: int | None
    reason: str | None
    candidate_metrics: dict[str, Any]
    baseline_metrics: dict[str, Any]
    reclassified: int


def run_outcome(run: TrainingRun) -> RunOutcome:
    """A run row as an outcome."""
    return RunOutcome(
        run.id,
        run.state,
        run.candidate_version_id,
        run.reason,
        dict(run.candidate_metrics or {}),
        dict(run.baseline_metrics or {}),
        run.reclassified,
    )


def _no_give_up(_target: int, _error: str) -> None:
    """Re-classification has nothing to close: the next pass (or model change) does the rest."""


class Learner:
    """Records reviews, queues retraining, runs it (in a worker), and moves the active pointer."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        registry: ClassifierRegistry,
        policy: LearningPolicy,
        *,
        seed_files: Sequence[Path] | None = None,
    ) -> None:
        self.factory = factory
        self.registry = registry
        self.policy = policy
        self.seed_files = list(seed_files) if seed_files is not None else seed_paths()
        self._seed_cache: list[Example] | None = None

    # --- decisions ---------------------------------------------------------------------------------

    def review(
        self, session: Session, suggestion_id: int, *, reviewer: str, category: str, transcript: str | None
    ) -> ReviewOutcome:
        """Record a staff decision in ``session`` (the caller's unit of work commits it).

        Queues an automatic retraining when enough reviews have gathered since the last run.
        """
        decision = rq.record_review(
            session, suggestion_id, reviewer=reviewer, category=category, transcript=transcript, labels=LABELS
        )
        run = self._maybe_auto_retrain(session)
        suggestion = queries.get_suggestion(session, suggestion_id)
        return ReviewOutcome(
            review_id=decision.review.id,
            verdict=decision.review.verdict,
            category=decision.review.label,
            status=suggestion.status,
            department=decision.department,
            rerouted=decision.rerouted,
            retrain_run_id=run.id if run is not None else None,
        )

    def _maybe_auto_retrain(self, session: Session) -> TrainingRun | None:
        every = self.policy.retrain_after_reviews
        if every <= 0 or rq.open_run(session) is not None:
            return None
        last = rq.last_run(session)
        if rq.count_reviews(session, after_id=last.reviews_upto if last else 0) < every:
            return None
        run, _ = self.request_retrain(session, trigger="auto", requested_by=WORKER)
        return run

    # --- retraining ----------------------------------------------------------------------------------

    def request_retrain(
        self, session: Session, *, trigger: str, requested_by: str
    ) -> tuple[TrainingRun, bool]:
        """Queue a retraining run and its job; joins the open run if there is one. (run, created)."""
        existing = rq.open_run(session)
        if existing is not None:
            return existing, False
        run = rq.create_run(session, trigger=trigger, requested_by=requested_by)
        job_queue.enqueue(session, RETRAIN_JOB, None, max_attempts=RETRAIN_ATTEMPTS)
        return run, True

    def retrain_if_categories_changed(self) -> TrainingRun | None:
        """Queue a retraining run when the active model was trained on another list of categories
        than the taxonomy's (a category was added since), once per active version."""
        with unit_of_work(self.factory) as session:
            active = classifiers.active_classifier(session)
            stored = artefacts.load_artefact(session, active.id) if active is not None else None
            if active is None or stored is None:
                return None
            if tuple(json.loads(stored.metadata_json).get("labels", ())) == LABELS:
                return None
            if rq.has_run_since(session, trigger=CATEGORIES_TRIGGER, since=active.created_at):
                return None  # tried for this version already; staff see that run's outcome
            run, _ = self.request_retrain(session, trigger=CATEGORIES_TRIGGER, requested_by=WORKER)
            return run

    def handlers(self) -> Handlers:
        """The job kinds this class runs: retraining, and re-classifying open suggestions."""
        return {
            RETRAIN_JOB: (self.retrain_job, self.retrain_given_up),
            RECLASSIFY_JOB: (self.reclassify_job, _no_give_up),
        }

    def retrain_job(self, _target: int = 0) -> None:
        """Job handler: run the queued retraining run, if any (safe to call when there is none).

        A run cut off while training starts again; one cut off while re-classifying (its candidate
        already active) resumes the re-classification.
        """
        with unit_of_work(self.factory) as session:
            # One job exists per open run, and the job runner hands a job to one worker at a time, so
            # a run still marked running was cut off (crash, restart): take it over.
            run = rq.claim_run(session, stale_before=utcnow() + timedelta(seconds=1))
            if run is None:
                return
            run_id = run.id
        try:
            self.execute(run_id)
        except Exception as exc:
            error = exc.detail if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
            log.exception("retraining run %d failed", run_id)
            with unit_of_work(self.factory) as session:
                self._close_unfinished(session, rq.get_run(session, run_id), error)

    def retrain_given_up(self, _target: int, error: str) -> None:
        """Job give-up handler: the worker died in every try; close the open run instead of leaving
        it open (every later request would join it and wait for a job that no longer exists)."""
        with unit_of_work(self.factory) as session:
            run = rq.open_run(session)
            if run is not None:
                self._close_unfinished(session, run, error)

    def _close_unfinished(self, session: Session, run: TrainingRun, error: str) -> None:
        """End a run that stopped: failed if it had not decided; promoted (the candidate is active)
        with a follow-up re-classification job if it stopped while re-classifying."""
        run.finished_at = utcnow()
        if run.state != RunState.RECLASSIFYING:
            run.state = RunState.FAILED
            run.reason = error[:4000]
            return
        run.state = RunState.PROMOTED
        note = f" Re-classifying the open suggestions stopped ({error}); a follow-up job does it."
        run.reason = ((run.reason or "") + note)[:4000]
        job_queue.enqueue(session, RECLASSIFY_JOB, None, max_attempts=RECLASSIFY_ATTEMPTS)

    def seed_examples(self) -> list[Example]:
        """The shipped seed set (read once)."""
        if self._seed_cache is None:
            self._seed_cache = read_labelled_csv(self.seed_files)
        return self._seed_cache

    def training_data(self, session: Session) -> TrainingData:
        """Seed set + imported texts + every reviewed suggestion (staff labels win), split for evaluation."""
        examples = [SourcedExample(e.text, e.label, SEED) for e in self.seed_examples()]
        examples += [SourcedExample(t, lbl, IMPORTED) for t, lbl in rq.imported_examples(session)]
        examples += [SourcedExample(t, lbl, REVIEWED) for t, lbl, _ in rq.reviewed_examples(session)]
        return assemble(examples)

    def execute(self, run_id: int) -> RunOutcome:
        """Train a candidate, compare it with the active model on the fixed evaluation set, decide;
        a promoted candidate then re-classifies the unreviewed open suggestions before the run ends.

        A run found ``reclassifying`` (cut off after its decision) only resumes the re-classification.
        """
        with unit_of_work(self.factory) as session:
            resuming = rq.get_run(session, run_id).state == RunState.RECLASSIFYING
        if not resuming and not self._train_and_decide(run_id):
            with unit_of_work(self.factory) as session:
                return run_outcome(rq.get_run(session, run_id))
        self.reclassify_open(run_id=run_id)
        with unit_of_work(self.factory) as session:
            run = rq.get_run(session, run_id)
            run.state = RunState.PROMOTED
            run.finished_at = utcnow()
            return run_outcome(run)

    def _train_and_decide(self, run_id: int) -> bool:
        """Train, evaluate and record the decision (pointer moved on promotion). True if promoted."""
        with unit_of_work(self.factory) as session:
            data = self.training_data(session)
            baseline = classifiers.active_classifier(session)
            baseline_id = baseline.id if baseline is not None else None
        out_dir = self.registry.root / f"run-{run_id}"
        if out_dir.exists():  # a cut-off earlier attempt of this run
            shutil.rmtree(out_dir)
        # Sentence vectors come from the database's cache and the new ones go there: a text is
        # embedded once, whichever run or node meets it first.
        with kept_vectors(self.registry.vectors):
            info = train_candidate(
                data,
                out_dir,
                random_state=self.policy.random_state,
                cv_max_examples=self.policy.cv_max_examples,
                reviewed_weight=self.policy.reviewed_weight,
                note=f"training run {run_id}",
            )
            candidate_metrics: dict[str, Any] = info.metadata["metrics"]
            baseline_metrics: dict[str, Any] = {}
            if baseline_id is not None and data.eval:
                _, active = self.registry.active()
                baseline_metrics = score(active, data.eval, data.eval_sources)
                baseline_metrics["eval_set"] = data.eval_descriptor()
        decision = gate(
            float(candidate_metrics.get("macro_f1", 0.0)),
            float(baseline_metrics["macro_f1"]) if baseline_metrics else None,
            self.policy.promotion_margin,
        )
        with unit_of_work(self.factory) as session:
            run = rq.get_run(session, run_id)
            version = register_artefact(
                session, out_dir, self.registry.root, state="candidate", note=f"training run {run_id}"
            )
            run.candidate_version_id = version.id
            run.baseline_version_id = baseline_id
            run.eval_set = data.eval_descriptor()
            run.candidate_metrics = candidate_metrics
            run.baseline_metrics = baseline_metrics
            run.reason = decision.reason
            if decision.promote:
                classifiers.activate_classifier(session, version.id)
                version.note = f"promoted by training run {run_id}: {decision.reason}"
                run.state = RunState.RECLASSIFYING
            else:
                version.state = "rejected"
                version.note = f"rejected by training run {run_id}: {decision.reason}"
                run.state = RunState.REJECTED
                run.finished_at = utcnow()
        return decision.promote

    # --- versions ------------------------------------------------------------------------------------

    def activate(self, session: Session, version_id: int, *, actor: str) -> None:
        """Point the active pointer at a stored version (rollback or forward); re-classify in a job."""
        version = rq.get_classifier_version(session, version_id)
        try:
            self.registry.load_version(version_id)
        except DomainError as exc:
            raise InvalidInput(
                "Version %(version_id)s cannot be activated: %(detail)s",
                version_id=version_id,
                detail=exc.detail,
            ) from None
        previous = classifiers.active_classifier(session)
        classifiers.activate_classifier(session, version_id)
        version.note = (version.note or "") + f" | activated by {actor} at {utcnow():%Y-%m-%d %H:%M} UTC"
        if previous is None or previous.id != version_id:
            job_queue.enqueue(session, RECLASSIFY_JOB, None, max_attempts=RECLASSIFY_ATTEMPTS)

    def reclassify_job(self, _target: int = 0) -> None:
        """Job handler: re-classify unreviewed open suggestions with the active model."""
        self.reclassify_open()

    def reclassify_open(self, run_id: int | None = None) -> int:
        """Give every unreviewed open suggestion the active model's category. Returns how many changed.

        Reviewed suggestions never change. A routed suggestion whose category changes is re-routed.
        Items that already carry the active model's prediction are skipped, so a cut-off pass can
        simply run again. With ``run_id``, each batch adds its changes to that run's ``reclassified``
        in the same commit (the count stays exact across a resumed pass).
        """
        version_id, classifier = self.registry.active()
        with unit_of_work(self.factory) as session:
            ids = [s.id for s in rq.reclassifiable(session)]
        changed = 0
        for start in range(0, len(ids), _BATCH):
            with unit_of_work(self.factory) as session:
                batch_changed = 0
                batch = [s for s in rq.reclassifiable(session, ids[start : start + _BATCH])]
                predictions = classifier.predict([s.text or "" for s in batch])
                for suggestion, prediction in zip(batch, predictions, strict=True):
                    latest = queries.latest_prediction(session, suggestion.id)
                    if latest is not None and latest.classifier_version_id == version_id:
                        continue
                    queries.add_prediction(
                        session,
                        suggestion.id,
                        classifier_version_id=version_id,
                        label=prediction.label,
                        confidence=prediction.confidence,
                        probabilities=dict(prediction.probabilities),
                    )
                    previous = suggestion.category
                    suggestion.confidence = prediction.confidence
                    suggestion.category_source = "model"
                    if prediction.label == previous:
                        continue
                    batch_changed += 1
                    suggestion.category = prediction.label
                    detail: dict[str, Any] = {
                        "category": prediction.label,
                        "previous_category": previous,
                        "confidence": prediction.confidence,
                        "classifier_version": version_id,
                    }
                    if suggestion.status in (Status.ROUTED, Status.NEEDS_REVIEW):
                        department = directory.department_for(session, prediction.label, suggestion.village)
                        if department is not None:
                            suggestion.department_id = department.id
                            detail["department"] = department.code
                    suggestion.updated_at = utcnow()
                    queries.add_event(session, suggestion, actor=WORKER, kind="reclassified", detail=detail)
                if run_id is not None:
                    rq.get_run(session, run_id).reclassified += batch_changed
                changed += batch_changed
        return changed

    # --- import ------------------------------------------------------------------------------------

    def import_csv(self, paths: Sequence[Path]) -> dict[str, int]:
        """Store the labelled texts of ``text,label`` CSV files as training data."""
        examples = read_labelled_csv(paths)
        with unit_of_work(self.factory) as session:
            added, relabelled = rq.import_examples(
                session, [(e.text, e.label) for e in examples], ", ".join(Path(p).name for p in paths)[:500]
            )
        return {"read": len(examples), "added": added, "relabelled": relabelled}

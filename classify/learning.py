"""Learning from staff corrections: assemble training data, hold out a fixed evaluation set, gate promotion.

Pure functions over examples; reading reviews from the database and running the job is the
caller's business (classify.retraining).

The evaluation set is fixed by construction: a text belongs to it when the hash of its normalised
form falls in the lowest ``EVAL_PERCENT`` of the hash range. So each text keeps its side forever
(the set only grows as staff review more), the same text can never be on both sides, and each
category gets about the same share held out (stratified in expectation). No model the learning
loop trains, the seed model included, ever sees an evaluation text, so comparing the active model
and a candidate on it is fair. Its version is the fingerprint of its examples.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classify.meaning import kept_vectors
from classify.model import ArtefactInfo, Classifier
from classify.text import normalise
from classify.train import Example, cross_validate, evaluate, fingerprint, train

EVAL_PERCENT = 20
# Staff-reviewed examples weigh this much more than seed and imported ones when a candidate is fitted.
REVIEWED_WEIGHT = 3.0
# Cross-validated metrics are added to a candidate's record while its training data is this small.
CV_MAX_EXAMPLES = 3000
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

SEED, IMPORTED, REVIEWED = "seed", "imported", "reviewed"
_PRIORITY = {SEED: 0, IMPORTED: 1, REVIEWED: 2}


def text_key(text: str) -> str:
    """The identity of a text for de-duplication: its normalised form."""
    return normalise(text).strip()


def in_eval_split(text: str) -> bool:
    """Whether ``text`` belongs to the fixed evaluation set (a stable hash of its normalised form)."""
    digest = hashlib.sha256(text_key(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < EVAL_PERCENT


def language_of(text: str) -> str:
    """``zh`` when the text holds Chinese characters, else ``en`` (for per-language metrics)."""
    return "zh" if _CJK.search(text) else "en"


@dataclass(frozen=True)
class SourcedExample:
    """A labelled text and where the label came from (seed, imported, reviewed)."""

    text: str
    label: str
    source: str


@dataclass(frozen=True)
class TrainingData:
    """The merged data, split into the part models learn from and the fixed evaluation set."""

    train: list[Example]
    eval: list[Example]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    eval_sources: list[str] = field(default_factory=list)  # where each evaluation example came from
    train_sources: list[str] = field(default_factory=list)  # where each training example came from

    def eval_descriptor(self) -> dict[str, Any]:
        """What identifies the evaluation set: version (fingerprint), size and where it came from."""
        digest = fingerprint(self.eval)
        return {"version": f"eval-{digest[:12]}", "fingerprint": digest, "n": len(self.eval), **self.counts}


def assemble(examples: Iterable[SourcedExample]) -> TrainingData:
    """Merge labelled texts; for the same text staff labels win over imported ones, and both over seed.

    Among labels of equal standing the later one wins (a second review overrides the first).
    """
    chosen: dict[str, SourcedExample] = {}
    for example in examples:
        key = text_key(example.text)
        if not key:
            continue
        held = chosen.get(key)
        if held is None or _PRIORITY[example.source] >= _PRIORITY[held.source]:
            chosen[key] = example
    train_part: list[Example] = []
    eval_part: list[Example] = []
    eval_sources: list[str] = []
    train_sources: list[str] = []
    counts: dict[str, dict[str, int]] = {"train": {}, "eval": {}}
    for example in chosen.values():
        side = "eval" if in_eval_split(example.text) else "train"
        if side == "eval":
            eval_part.append(Example(example.text, example.label))
            eval_sources.append(example.source)
        else:
            train_part.append(Example(example.text, example.label))
            train_sources.append(example.source)
        counts[side][example.source] = counts[side].get(example.source, 0) + 1
    return TrainingData(train_part, eval_part, counts, eval_sources, train_sources)


def score(
    classifier: Classifier, examples: Sequence[Example], sources: Sequence[str] | None = None
) -> dict[str, Any]:
    """Metrics (as ``classify.train.evaluate``) plus the same per language (``by_language``) and,
    given each example's source, per source (``by_source``)."""
    metrics = evaluate(classifier, examples)
    groups: dict[str, dict[str, list[Example]]] = {"by_language": {}, "by_source": {}}
    for i, example in enumerate(examples):
        groups["by_language"].setdefault(language_of(example.text), []).append(example)
        if sources is not None:
            groups["by_source"].setdefault(sources[i], []).append(example)
    for name, parts in groups.items():
        metrics[name] = {}
        for key in sorted(parts):
            sub = evaluate(classifier, parts[key])
            metrics[name][key] = {"n": sub["n"], "accuracy": sub["accuracy"], "macro_f1": sub["macro_f1"]}
    if sources is None:
        del metrics["by_source"]
    return metrics


@dataclass(frozen=True)
class GateDecision:
    """Whether a candidate replaces the active model, and why."""

    promote: bool
    reason: str


def gate(candidate_f1: float, active_f1: float | None, margin: float) -> GateDecision:
    """Promote unless the candidate's macro-F1 is lower than the active model's by more than ``margin``."""
    if active_f1 is None:
        return GateDecision(True, "no active model to compare with")
    drop = active_f1 - candidate_f1
    if drop > margin + 1e-12:
        return GateDecision(
            False,
            f"macro-F1 {candidate_f1:.4f} is {drop:.4f} below the active model's {active_f1:.4f} "
            f"on the same evaluation set (allowed margin {margin:.4f})",
        )
    return GateDecision(
        True, f"macro-F1 {candidate_f1:.4f} vs active {active_f1:.4f} (allowed margin {margin:.4f})"
    )


def train_candidate(
    data: TrainingData,
    out_dir: Path,
    *,
    random_state: int = 0,
    cv_max_examples: int = CV_MAX_EXAMPLES,
    reviewed_weight: float = REVIEWED_WEIGHT,
    note: str = "",
) -> ArtefactInfo:
    """Train on ``data.train``, score on ``data.eval`` (and cross-validate while data is small), save.

    Staff-reviewed training examples weigh ``reviewed_weight`` times as much as seed and imported
    ones: they are the deployment's own reports, and a few hundred of them would otherwise be
    swamped by the thousand seed texts written for the product. The stored ``metrics`` are those on
    the evaluation set, with ``eval_set`` naming it; ``cv`` holds the (unweighted) cross-validated
    metrics on the training part when there are at most ``cv_max_examples``.
    """
    if reviewed_weight <= 0:
        raise ValueError(f"reviewed_weight must be positive, not {reviewed_weight}")
    weights = None
    if data.train_sources and reviewed_weight != 1.0:
        weights = [reviewed_weight if source == REVIEWED else 1.0 for source in data.train_sources]
    with kept_vectors():  # each text embedded once for all the fits below (or the caller's store)
        classifier = train(data.train, random_state, weights)
        metrics: dict[str, Any] = score(classifier, data.eval, data.eval_sources) if data.eval else {"n": 0}
        metrics["eval_set"] = data.eval_descriptor()
        method = "held-out fixed evaluation set"
        if len(data.train) <= cv_max_examples and len(data.train) >= 10:
            metrics["cv"] = {
                k: v for k, v in cross_validate(data.train, folds=5, random_state=random_state).items()
            }
            method += "; 5-fold cross-validation on the training part under 'cv'"
    return classifier.save(
        out_dir,
        {
            "metrics": metrics,
            "metrics_method": method,
            "random_state": random_state,
            "reviewed_weight": reviewed_weight,
            "note": note,
        },
    )

"""Training data in, stored model out: read labelled CSVs, train, evaluate, cross-validate, save."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, train_test_split

from classify.meaning import VectorStore, kept_vectors
from classify.model import ArtefactInfo, Classifier, fit_pipeline, out_of_fold_proba
from classify.text import normalise
from models.errors import InvalidInput
from models.taxonomy import LABELS

# Up to this many examples the stored metrics come from cross-validation; above it, from a hold-out.
CV_MAX_EXAMPLES = 5000
HOLDOUT_FRACTION = 0.2


@dataclass(frozen=True)
class Example:
    """One labelled text."""

    text: str
    label: str


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput("%(path)s: file not found", path=path) from None
    except OSError as exc:
        raise InvalidInput(
            "%(path)s: cannot be read (%(value)s)", path=path, value=exc.strerror or exc
        ) from None
    try:
        return data.decode("utf-8-sig")  # tolerates the BOM Excel writes
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "%(path)s: not UTF-8 text (byte %(start)s); save the CSV as UTF-8", path=path, start=exc.start
        ) from None


def _read_one(path: Path) -> list[Example]:
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(
            "%(path)s: the file is empty; expected a header row with columns text,label", path=path
        ) from None
    except csv.Error as exc:
        raise InvalidInput("%(path)s, line 1: malformed CSV (%(exc)s)", path=path, exc=exc) from None
    columns = [h.strip().lower() for h in header]
    missing = [c for c in ("text", "label") if c not in columns]
    if missing:
        found = ", ".join(repr(h) for h in header) or "none"
        raise InvalidInput(
            "%(path)s, line 1: missing column(s) %(missing)s; the header must name text and "
            "label (found: %(found)s)",
            path=path,
            missing=", ".join(missing),
            found=found,
        )
    text_at, label_at = columns.index("text"), columns.index("label")
    examples: list[Example] = []
    rows = 0
    while True:
        line = reader.line_num + 1  # where the next record starts (records may span lines)
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InvalidInput(
                "%(path)s, line %(line)s: malformed CSV (%(exc)s)", path=path, line=line, exc=exc
            ) from None
        if not any(cell.strip() for cell in row):
            continue  # blank line
        rows += 1
        text = row[text_at].strip() if text_at < len(row) else ""
        if not text:
            continue
        label = row[label_at].strip() if label_at < len(row) else ""
        if label not in LABELS:
            what = f"unknown label {label!r}" if label else "no label"
            raise InvalidInput(
                "%(path)s, line %(line)s: %(what)s; expected one of %(labels)s",
                path=path,
                line=line,
                what=what,
                labels=", ".join(LABELS),
            )
        examples.append(Example(text, label))
    if not examples:
        detail = "only empty texts" if rows else "no data rows"
        raise InvalidInput(
            "%(path)s: %(detail)s after the header; nothing to train on", path=path, detail=detail
        )
    return examples


def read_labelled_csv(paths: Sequence[Path]) -> list[Example]:
    """Read ``text,label`` CSV files (UTF-8, BOM optional; other columns ignored; empty texts skipped).

    Raises InvalidInput, naming the file and line, for a missing file or column, an unknown label,
    malformed CSV, or a file without any labelled rows.
    """
    if not paths:
        raise InvalidInput("no training data files were given")
    examples: list[Example] = []
    for path in paths:
        examples.extend(_read_one(Path(path)))
    return examples


def fingerprint(examples: Iterable[Example]) -> str:
    """sha256 over the sorted (text, label) pairs: the same data in any order has the same fingerprint."""
    digest = hashlib.sha256()
    for text, label in sorted((e.text, e.label) for e in examples):
        digest.update(json.dumps([text, label], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _check_trainable(examples: Sequence[Example]) -> None:
    if not examples:
        raise InvalidInput("no training examples")
    labels = {e.label for e in examples}
    if len(labels) < 2:
        raise InvalidInput(
            "training needs at least two categories; the data only has %(labels)s", labels=sorted(labels)
        )


def train(
    examples: Sequence[Example], random_state: int = 0, weights: Sequence[float] | None = None
) -> Classifier:
    """Fit a classifier on ``examples``; the same examples (in any order) and seed give the same model.

    ``weights`` (one per example, default all 1) is each example's weight in the fit. Examples with
    blank text are left out, as read_labelled_csv leaves them out.
    """
    return _train_ordered(examples, random_state, weights)[0]


def _train_ordered(
    examples: Sequence[Example], random_state: int, weights: Sequence[float] | None
) -> tuple[Classifier, list[Example]]:
    """train(), and the examples in the order the model was fitted on them."""
    if weights is not None and len(weights) != len(examples):
        raise ValueError(f"{len(weights)} weights for {len(examples)} examples")
    given = [1.0] * len(examples) if weights is None else [float(w) for w in weights]
    pairs = [(e, w) for e, w in zip(examples, given, strict=True) if e.text.strip()]
    _check_trainable([e for e, _ in pairs])
    pairs.sort(key=lambda p: (p[0].text, p[0].label, p[1]))
    ordered = [e for e, _ in pairs]
    pipeline = fit_pipeline(
        [e.text for e in ordered],
        [e.label for e in ordered],
        random_state,
        None if weights is None else [w for _, w in pairs],
    )
    return Classifier(pipeline, n_examples=len(ordered), data_fingerprint=fingerprint(ordered)), ordered


def _metrics(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    present = [label for label in LABELS if label in set(y_true) | set(y_pred)]
    if labels is not None:
        present = [label for label in LABELS if label in labels]
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=present, zero_division=0
    )
    correct = sum(t == p for t, p in zip(y_true, y_pred, strict=True))
    return {
        "n": len(y_true),
        "accuracy": round(correct / len(y_true), 4),
        "macro_f1": round(float(sum(f1)) / len(present), 4),
        "per_class": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(present)
        },
    }


def evaluate(
    classifier: Classifier, examples: Sequence[Example], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Score ``classifier`` on ``examples``: ``{"n","accuracy","macro_f1","per_class"}``.

    ``per_class`` covers the labels found in the data or in the predictions; ``macro_f1`` averages
    over the same labels. With ``labels``, both cover exactly those labels instead (say, leaving out
    a category with too few test examples to score); accuracy still counts every example.
    """
    if not examples:
        raise InvalidInput("no evaluation examples")
    if labels is not None:
        unknown = [label for label in labels if label not in LABELS]
        if unknown or not labels:
            raise InvalidInput(
                "unknown label(s) %(value)s; expected some of %(labels)s",
                value=", ".join(map(repr, unknown)) or "(none given)",
                labels=", ".join(LABELS),
            )
    predictions = classifier.predict([e.text for e in examples])
    return _metrics([e.label for e in examples], [p.label for p in predictions], labels)


def cross_validate(examples: Sequence[Example], folds: int = 5, random_state: int = 0) -> dict[str, Any]:
    """Stratified k-fold cross-validation; metrics (as evaluate) over the out-of-fold predictions.

    ``folds`` is reduced to the size of the smallest category (never below 2).
    """
    _check_trainable(examples)
    if folds < 2:
        raise InvalidInput("cross-validation needs at least 2 folds, not %(folds)s", folds=folds)
    if len(examples) < 4:
        raise InvalidInput(
            "cross-validation needs at least 4 examples, not %(examples)s", examples=len(examples)
        )
    ordered = sorted(examples, key=lambda e: (e.text, e.label))
    labels = [e.label for e in ordered]
    smallest = min(labels.count(label) for label in set(labels))
    k = max(2, min(folds, smallest))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
    y_pred: list[str] = [""] * len(ordered)
    with warnings.catch_warnings():
        # A category with a single example cannot be in every fold; that is expected here.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        splits = list(splitter.split(labels, labels))
    for train_idx, test_idx in splits:
        fold_train = [ordered[i] for i in train_idx]
        if len({e.label for e in fold_train}) < 2:
            raise InvalidInput("a cross-validation fold has a single category; add more examples")
        model = train(fold_train, random_state)
        for i, p in zip(test_idx, model.predict([ordered[i].text for i in test_idx]), strict=True):
            y_pred[i] = p.label
    return _metrics(labels, y_pred)


def holdout_evaluate(
    examples: Sequence[Example], fraction: float = HOLDOUT_FRACTION, random_state: int = 0
) -> dict[str, Any]:
    """Train on a stratified (1 - fraction) of ``examples`` and score on the rest."""
    _check_trainable(examples)
    ordered = sorted(examples, key=lambda e: (e.text, e.label))
    labels = [e.label for e in ordered]
    # Stratify only when every category has at least 2 examples (train_test_split's requirement).
    stratify = labels if min(labels.count(label) for label in set(labels)) >= 2 else None
    fit_part, test_part = train_test_split(
        ordered, test_size=fraction, stratify=stratify, random_state=random_state
    )
    return evaluate(train(fit_part, random_state), test_part)


def seed_paths() -> list[Path]:
    """The seed CSVs shipped with the package (classify/seed/*.csv), sorted by name."""
    return sorted((Path(__file__).resolve().parent / "seed").glob("*.csv"))


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def out_of_fold_metrics(classifier: Classifier, ordered: Sequence[Example]) -> dict[str, Any] | None:
    """Metrics (as evaluate) of the out-of-fold predictions a model just trained on ``ordered`` made
    while calibrating (every text scored by an SVM and neighbours fitted without it), or None when
    it has none (a category with a single example is fitted by logistic regression instead)."""
    proba = out_of_fold_proba(classifier.pipeline, [normalise(e.text) for e in ordered])
    if proba is None:
        return None
    classes = np.asarray([str(c) for c in classifier.pipeline.classes_])
    return _metrics([e.label for e in ordered], list(classes[proba.argmax(axis=1)]))


def train_to_dir(
    paths: Sequence[Path], out_dir: Path, random_state: int = 0, vector_store: VectorStore | None = None
) -> ArtefactInfo:
    """Read ``paths``, measure, train on all of it, and save the model with its metrics in ``out_dir``.

    Metrics: stratified 5-fold cross-validation when there are at most 5,000 examples; above that,
    the out-of-fold predictions the model made while calibrating on its 5 folds (out_of_fold_metrics:
    a 5-fold cross-validation whose two calibration numbers are fitted on all folds together), so no
    second model is trained; a stratified 20 % hold-out if there are none. The saved model is always
    trained on every example. Each distinct text is embedded once per run, and with ``vector_store``
    once for every run that uses the same store (classify.meaning.kept_vectors).
    """
    examples = read_labelled_csv(paths)
    _check_trainable(examples)
    with kept_vectors(vector_store):
        if len(examples) <= CV_MAX_EXAMPLES:
            metrics = cross_validate(examples, folds=5, random_state=random_state)
            method = "stratified 5-fold cross-validation on the training data"
            classifier = train(examples, random_state)
        else:
            classifier, ordered = _train_ordered(examples, random_state, None)
            oof = out_of_fold_metrics(classifier, ordered)
            if oof is not None:
                metrics = oof
                method = (
                    "5-fold out-of-fold predictions of the model's own calibration (each text scored by "
                    "an SVM and neighbours fitted without it)"
                )
            else:
                metrics = holdout_evaluate(examples, HOLDOUT_FRACTION, random_state)
                method = f"stratified {HOLDOUT_FRACTION:.0%} hold-out of the training data"
    metadata = {
        "metrics": metrics,
        "metrics_method": method,
        "random_state": random_state,
        "training_files": [{"path": str(p), "sha256": _file_sha256(Path(p))} for p in paths],
    }
    return classifier.save(Path(out_dir), metadata)

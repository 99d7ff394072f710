"""evaluate(), cross_validate() and train_to_dir() keep the CLI's metrics contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from classify import train as train_module
from classify.model import METADATA_FILE, Classifier
from classify.train import Example, cross_validate, evaluate, fingerprint, train_to_dir
from models.errors import InvalidInput
from models.taxonomy import LABELS
from tests.classify.conftest import OBVIOUS

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


def check_contract(metrics: dict[str, Any], n: int) -> None:
    assert set(metrics) == {"n", "accuracy", "macro_f1", "per_class"}
    assert metrics["n"] == n
    for key in ("accuracy", "macro_f1"):
        assert type(metrics[key]) is float and 0.0 <= metrics[key] <= 1.0
        assert metrics[key] == round(metrics[key], 4)
    assert list(metrics["per_class"]) == [label for label in LABELS if label in metrics["per_class"]]
    for scores in metrics["per_class"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
        assert type(scores["support"]) is int
        assert all(
            type(scores[k]) is float and scores[k] == round(scores[k], 4)
            for k in ("precision", "recall", "f1")
        )
    assert sum(s["support"] for s in metrics["per_class"].values()) == n
    f1s = [s["f1"] for s in metrics["per_class"].values()]
    assert metrics["macro_f1"] == pytest.approx(sum(f1s) / len(f1s), abs=1e-3)
    json.dumps(metrics)  # plain JSON types only


def test_evaluate_shape_and_values(small_classifier: Classifier) -> None:
    examples = [Example(t, label) for t, label in OBVIOUS]
    metrics = evaluate(small_classifier, examples)
    check_contract(metrics, len(examples))
    assert metrics["accuracy"] == 1.0
    # Only labels in the data or in the predictions are reported.
    assert set(metrics["per_class"]) == {"power", "environment", "transport"}
    assert metrics["per_class"]["power"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}


def test_evaluate_counts_a_predicted_label_absent_from_the_data(small_classifier: Classifier) -> None:
    metrics = evaluate(
        small_classifier, [Example("村里又停电了", "other"), Example("河水很臭", "environment")]
    )
    check_contract(metrics, 2)
    assert metrics["per_class"]["power"]["support"] == 0
    assert metrics["per_class"]["other"]["recall"] == 0.0


def test_evaluate_over_chosen_labels(small_classifier: Classifier) -> None:
    examples = [Example(t, label) for t, label in OBVIOUS] + [Example("村里又停电了", "other")]
    full = evaluate(small_classifier, examples)
    four = evaluate(small_classifier, examples, labels=["transport", "environment", "other"])
    assert list(four["per_class"]) == ["transport", "environment", "other"]
    assert four["accuracy"] == full["accuracy"]  # still over every example
    assert four["per_class"]["other"] == full["per_class"]["other"]
    f1s = [s["f1"] for s in four["per_class"].values()]
    assert four["macro_f1"] == pytest.approx(sum(f1s) / 3, abs=1e-3)
    assert four["macro_f1"] != full["macro_f1"]
    with pytest.raises(InvalidInput, match="electricity"):
        evaluate(small_classifier, examples, labels=["transport", "electricity"])


def test_evaluate_needs_examples(small_classifier: Classifier) -> None:
    with pytest.raises(InvalidInput):
        evaluate(small_classifier, [])


def test_cross_validate_shape_and_determinism(small_examples: list[Example]) -> None:
    a = cross_validate(small_examples, folds=3)
    check_contract(a, len(small_examples))
    assert set(a["per_class"]) == set(LABELS)
    assert a["macro_f1"] > 0.3  # chance is 0.2; 40 training texts per fold is little
    assert cross_validate(list(reversed(small_examples)), folds=3) == a


def test_cross_validate_reduces_folds_for_a_tiny_class(small_examples: list[Example]) -> None:
    examples = [e for e in small_examples if e.label != "power"] + [Example("村里停电了", "power")]
    metrics = cross_validate(examples, folds=5)
    check_contract(metrics, len(examples))
    assert metrics["per_class"]["power"]["support"] == 1


def test_train_to_dir_stores_metrics_and_provenance(tmp_path: Path, small_examples: list[Example]) -> None:
    csv_path = tmp_path / "train.csv"
    lines = ["text,label,source"] + [f'"{e.text}",{e.label},hand' for e in small_examples]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    info = train_to_dir([csv_path], tmp_path / "model")
    meta = json.loads((tmp_path / "model" / METADATA_FILE).read_text(encoding="utf-8"))
    assert meta == info.metadata
    check_contract(meta["metrics"], len(small_examples))
    assert "cross-validation" in meta["metrics_method"]
    assert meta["n_examples"] == len(small_examples)
    assert meta["data_fingerprint"] == fingerprint(small_examples)
    assert meta["training_files"][0]["path"] == str(csv_path)
    loaded = Classifier.load(tmp_path / "model")
    assert loaded.predict(["又停电了"])[0].label == "power"


def test_a_large_training_set_is_scored_by_its_own_out_of_fold_predictions(
    tmp_path: Path, seed_examples: list[Example], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Above CV_MAX_EXAMPLES no second model is trained for the metrics: the 5 calibration folds
    # already scored every text with an SVM and neighbours that did not see it. The seed set has
    # both scripts, so the two per-script models' predictions are put back in the texts' order.
    monkeypatch.setattr(train_module, "CV_MAX_EXAMPLES", 100)
    csv_path = tmp_path / "seed.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows((e.text, e.label) for e in seed_examples)
    info = train_to_dir([csv_path], tmp_path / "model")
    metrics = info.metadata["metrics"]
    check_contract(metrics, len(seed_examples))
    assert "out-of-fold" in info.metadata["metrics_method"]
    cv = cross_validate(seed_examples, folds=5)
    # The same kind of estimate as 5-fold cross-validation (another split, and the two calibration
    # numbers fitted over all folds): close to it, and well above chance.
    assert metrics["macro_f1"] > 0.8 and abs(metrics["macro_f1"] - cv["macro_f1"]) < 0.03

"""Learning from corrections, the pure part: the fixed evaluation split, merging labels, the gate."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from classify.learning import (
    IMPORTED,
    REVIEWED,
    SEED,
    SourcedExample,
    assemble,
    gate,
    in_eval_split,
    train_candidate,
)
from classify.model import Classifier
from classify.train import read_labelled_csv, seed_paths


def test_the_evaluation_split_is_stable_and_about_a_fifth_of_each_category() -> None:
    seed = read_labelled_csv(seed_paths())
    assert in_eval_split("路灯坏了") == in_eval_split("  路燈壞了 ")  # the normalised text decides
    per_label = Counter(e.label for e in seed)
    held = Counter(e.label for e in seed if in_eval_split(e.text))
    for label, n in per_label.items():
        assert 0.1 < held[label] / n < 0.3, (label, held[label], n)


def test_staff_labels_win_over_imported_and_seed_labels_and_the_latest_review_wins() -> None:
    data = assemble(
        [
            SourcedExample("Broken street light on Elm Road", "other", SEED),
            SourcedExample("Broken street light on Elm Road", "transport", REVIEWED),
            SourcedExample("broken street light on elm road ", "power", REVIEWED),
            SourcedExample("Broken street light on Elm Road", "environment", IMPORTED),
            SourcedExample("河水发臭", "other", IMPORTED),
            SourcedExample("河水发臭", "environment", SEED),
            SourcedExample("   ", "other", REVIEWED),
        ]
    )
    labels = {e.text.lower().strip(): e.label for e in data.train + data.eval}
    assert labels == {"broken street light on elm road": "power", "河水发臭": "other"}
    descriptor = data.eval_descriptor()
    assert descriptor["n"] == len(data.eval) and descriptor["version"].startswith("eval-")


def test_the_gate_allows_the_margin_and_no_more() -> None:
    assert gate(0.80, 0.80, 0.01).promote
    assert gate(0.791, 0.80, 0.01).promote
    refused = gate(0.78, 0.80, 0.01)
    assert not refused.promote and "below the active model" in refused.reason
    assert gate(0.10, None, 0.01).promote  # nothing to compare with


def test_a_candidate_is_scored_on_the_held_out_part_only(tmp_path: Path) -> None:
    seed = [SourcedExample(e.text, e.label, SEED) for e in read_labelled_csv(seed_paths())]
    data = assemble(seed)
    info = train_candidate(data, tmp_path / "m")
    metrics = info.metadata["metrics"]
    assert metrics["n"] == len(data.eval) and metrics["eval_set"]["n"] == len(data.eval)
    assert info.metadata["n_examples"] == len(data.train)
    assert set(metrics["by_language"]) == {"zh", "en"} and metrics["macro_f1"] > 0.6
    assert metrics["cv"]["n"] == len(data.train)  # cross-validated while the data is small
    assert Classifier.load(tmp_path / "m").predict(["停电了"])[0].label == "power"

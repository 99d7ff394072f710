"""Learning from corrections, the pure part: the fixed evaluation split, merging labels, the gate."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

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

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


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


def test_reviewed_examples_outweigh_seed_examples_in_a_candidate(tmp_path: Path) -> None:
    # Staff relabel a handful of seed texts' paraphrases; with the default weight their label wins
    # where the seed set says otherwise, and the weight is recorded with the model.
    seed = [SourcedExample(e.text, e.label, SEED) for e in read_labelled_csv(seed_paths())]
    probe = "The street light outside the school has been broken for a week"
    reviewed = [
        SourcedExample(probe, "urban_construction", REVIEWED),
        SourcedExample(probe + " now", "urban_construction", REVIEWED),
        SourcedExample("The street lights on the high street are broken", "urban_construction", REVIEWED),
    ]
    data = assemble(seed + reviewed)
    assert data.train_sources.count(REVIEWED) == sum(not in_eval_split(r.text) for r in reviewed) >= 2
    weighted = train_candidate(data, tmp_path / "w", reviewed_weight=10.0, cv_max_examples=0)
    plain = train_candidate(data, tmp_path / "p", reviewed_weight=1.0, cv_max_examples=0)
    assert weighted.metadata["reviewed_weight"] == 10.0 and plain.metadata["reviewed_weight"] == 1.0
    p_weighted = Classifier.load(tmp_path / "w").predict([probe])[0].probabilities["urban_construction"]
    p_plain = Classifier.load(tmp_path / "p").predict([probe])[0].probabilities["urban_construction"]
    assert p_weighted > p_plain

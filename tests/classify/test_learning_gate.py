"""The promotion gate at its margin, the evaluation split that never moves, and assembling data.

Edges tests/classify/test_learning.py leaves open (issue 25's surviving mutants): a candidate
exactly at the allowed margin is promoted (floats included), the same texts stay in the
evaluation set when more data arrives (pinned to the hash the module promises, so an existing
deployment's evaluation set never shifts under it), and a blank text is skipped without losing
the examples after it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from classify.learning import (
    EVAL_PERCENT,
    IMPORTED,
    REVIEWED,
    REVIEWED_WEIGHT,
    SEED,
    SourcedExample,
    TrainingData,
    assemble,
    gate,
    in_eval_split,
    language_of,
    score,
    text_key,
    train_candidate,
)
from classify.model import ArtefactInfo, Classifier
from classify.train import Example, cross_validate, fingerprint, read_labelled_csv, seed_paths, train

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

# Texts whose place is pinned: the first 4 bytes of sha256(normalised text), mod 100, against EVAL_PERCENT.
PINNED = {
    "路灯坏了79": True,  # bucket 0, the first held out
    "路灯坏了69": True,  # bucket 19, the last held out
    "路灯坏了115": False,  # bucket 20, the first trained on
    "路灯坏了24": False,  # bucket 99
    "Broken street light on Elm Road": True,  # bucket 17
    "The bus never comes": False,  # bucket 43
    "路灯坏了": False,  # bucket 37
}


# --- the gate --------------------------------------------------------------------------------------


def test_a_candidate_exactly_at_the_margin_is_promoted() -> None:
    decision = gate(0.79, 0.80, 0.01)
    assert decision.promote is True
    assert decision.reason == "macro-F1 0.7900 vs active 0.8000 (allowed margin 0.0100)"


@pytest.mark.parametrize("margin", [0.01, 0.02, 0.005, 0.0])
def test_exactly_at_the_margin_holds_for_any_score_despite_float_rounding(margin: float) -> None:
    for hundredths in range(1, 101):
        active = hundredths / 100
        candidate = round(active - margin, 6)
        assert gate(candidate, active, margin).promote, (candidate, active, margin)


def test_a_hair_below_the_margin_is_refused_with_the_reason() -> None:
    refused = gate(0.7899, 0.80, 0.01)
    assert refused.promote is False
    assert refused.reason == (
        "macro-F1 0.7899 is 0.0101 below the active model's 0.8000 on the same evaluation set "
        "(allowed margin 0.0100)"
    )
    assert not gate(0.80, 0.80001, 0.0).promote


def test_a_better_candidate_or_no_active_model_is_promoted() -> None:
    assert gate(0.95, 0.80, 0.01).promote is True
    first = gate(0.10, None, 0.01)
    assert first.promote is True and first.reason == "no active model to compare with"


# --- the fixed evaluation split --------------------------------------------------------------------


def test_the_split_of_each_text_is_pinned_forever() -> None:
    assert EVAL_PERCENT == 20
    for text, held_out in PINNED.items():
        assert in_eval_split(text) is held_out, text
    assert in_eval_split(" 路燈壞了79 ") is True  # Traditional, padded: the same normalised text


def test_the_same_texts_stay_in_the_evaluation_set_when_more_data_arrives() -> None:
    seed = [SourcedExample(e.text, e.label, SEED) for e in read_labelled_csv(seed_paths())]
    rng = random.Random(7)
    rng.shuffle(seed)
    first = assemble(seed[:300])
    grown = assemble(seed[:300] + seed[300:] + [SourcedExample(t, "power", REVIEWED) for t in PINNED])
    first_eval = {e.text for e in first.eval}
    grown_eval = {e.text for e in grown.eval}
    assert first_eval and first_eval <= grown_eval
    assert {e.text for e in first.train}.isdisjoint(grown_eval)  # nothing trained on moves to evaluation
    assert {t for t, held in PINNED.items() if held} <= grown_eval
    reordered = assemble(list(reversed(seed[:300])))
    assert {e.text for e in reordered.eval} == first_eval


def test_held_out_texts_are_about_the_promised_share() -> None:
    texts = [f"第{i}条建议：村口的路灯又坏了" for i in range(2000)]
    held = sum(in_eval_split(t) for t in texts) / len(texts)
    assert held == pytest.approx(EVAL_PERCENT / 100, abs=0.03)


# --- assembling ------------------------------------------------------------------------------------


def test_a_blank_text_is_skipped_without_dropping_the_examples_after_it() -> None:
    texts = ["停电了", "", "   ", "路灯坏了69", "The bus never comes", "河水发臭"]
    data = assemble([SourcedExample(t, "power", SEED) for t in texts])
    kept = sorted(e.text for e in data.train + data.eval)
    assert kept == sorted(["停电了", "路灯坏了69", "The bus never comes", "河水发臭"])


def test_sides_sources_and_counts_line_up() -> None:
    examples = [
        SourcedExample("路灯坏了79", "power", SEED),  # held out
        SourcedExample("路灯坏了69", "power", REVIEWED),  # held out
        SourcedExample("路灯坏了115", "transport", IMPORTED),
        SourcedExample("路灯坏了24", "power", REVIEWED),
        SourcedExample("The bus never comes", "transport", SEED),
        SourcedExample("停电了", "power", SEED),
    ]
    data = assemble(examples)
    assert data.eval == [Example("路灯坏了79", "power"), Example("路灯坏了69", "power")]
    assert data.eval_sources == [SEED, REVIEWED]
    assert [e.text for e in data.train] == ["路灯坏了115", "路灯坏了24", "The bus never comes", "停电了"]
    assert data.train_sources == [IMPORTED, REVIEWED, SEED, SEED]
    assert data.counts == {"train": {IMPORTED: 1, REVIEWED: 1, SEED: 2}, "eval": {SEED: 1, REVIEWED: 1}}
    digest = fingerprint(data.eval)
    assert data.eval_descriptor() == {
        "version": f"eval-{digest[:12]}",
        "fingerprint": digest,
        "n": 2,
        "train": {IMPORTED: 1, REVIEWED: 1, SEED: 2},
        "eval": {SEED: 1, REVIEWED: 1},
    }


def test_a_lower_standing_label_never_overrides_and_an_equal_one_does() -> None:
    data = assemble(
        [
            SourcedExample("停电了", "power", REVIEWED),
            SourcedExample("停电了", "other", IMPORTED),
            SourcedExample("停电了", "transport", SEED),
            SourcedExample("河水发臭", "other", SEED),
            SourcedExample("河水发臭 ", "environment", SEED),
            SourcedExample("The bus never comes", "other", IMPORTED),
            SourcedExample("the bus  never comes", "transport", IMPORTED),
        ]
    )
    labels = {text_key(e.text): e.label for e in data.train + data.eval}
    assert labels == {"停电了": "power", "河水发臭": "environment", "the bus never comes": "transport"}


def test_languages_are_told_by_chinese_characters() -> None:
    assert language_of("路灯坏了") == "zh" and language_of("the 路 light") == "zh"
    assert language_of("\u3400") == "zh" and language_of("\u9fff") == "zh"  # CJK extension A .. unified
    assert language_of("\uf900") == "zh" and language_of("\ufaff") == "zh"  # compatibility ideographs
    assert language_of("\u33ff") == "en" and language_of("\ua000") == "en" and language_of("\ufb00") == "en"
    assert language_of("street light 42") == "en" and language_of("") == "en"


# --- candidates ------------------------------------------------------------------------------------


def _small_data() -> TrainingData:
    seed = read_labelled_csv(seed_paths())
    picked = random.Random(0).sample(seed, 80)
    sources = [REVIEWED if i % 4 == 0 else SEED for i in range(len(picked))]
    return assemble(SourcedExample(e.text, e.label, s) for e, s in zip(picked, sources, strict=True))


@pytest.fixture()
def candidate(tmp_path: Path) -> Iterator[tuple[TrainingData, ArtefactInfo]]:
    """A small candidate, trained afresh for each test (so each test exercises train_candidate)."""
    data = _small_data()
    yield data, train_candidate(data, tmp_path / "m", random_state=3, note="small")


def test_a_candidate_records_how_it_was_scored(candidate: tuple[TrainingData, ArtefactInfo]) -> None:
    data, info = candidate
    meta = info.metadata
    assert (meta["random_state"], meta["reviewed_weight"], meta["note"]) == (3, 3.0, "small")
    assert meta["metrics_method"] == (
        "held-out fixed evaluation set; 5-fold cross-validation on the training part under 'cv'"
    )
    metrics = meta["metrics"]
    assert metrics["n"] == len(data.eval) and metrics["eval_set"] == data.eval_descriptor()
    assert metrics["cv"]["n"] == len(data.train)
    assert set(metrics["by_source"]) == set(data.eval_sources)
    for source, part in metrics["by_source"].items():
        assert part["n"] == data.eval_sources.count(source)
        assert set(part) == {"n", "accuracy", "macro_f1"}
    for language, part in metrics["by_language"].items():
        assert part["n"] == sum(language_of(e.text) == language for e in data.eval)


PROBES = ["停电了", "the bus never comes", "路灯坏了", "河水发臭"]


def _probabilities(classifier: Classifier) -> list[dict[str, float]]:
    return [p.probabilities for p in classifier.predict(PROBES)]


def test_a_candidate_is_the_model_its_seed_and_weights_give(
    candidate: tuple[TrainingData, ArtefactInfo],
) -> None:
    data, info = candidate
    weights = [REVIEWED_WEIGHT if source == REVIEWED else 1.0 for source in data.train_sources]
    assert _probabilities(Classifier.load(info.directory)) == _probabilities(train(data.train, 3, weights))
    assert info.metadata["metrics"]["cv"] == cross_validate(data.train, folds=5, random_state=3)


def test_scores_split_by_language_and_by_source_only_when_sources_are_given(
    candidate: tuple[TrainingData, ArtefactInfo],
) -> None:
    _data, info = candidate
    classifier = Classifier.load(info.directory)
    examples = [
        Example("停电了", "power"),
        Example("the bus never comes", "transport"),
        Example("路灯坏了", "power"),
    ]
    plain = score(classifier, examples)
    assert "by_source" not in plain and plain["n"] == 3
    assert {k: v["n"] for k, v in plain["by_language"].items()} == {"en": 1, "zh": 2}
    assert list(plain["by_language"]) == ["en", "zh"]
    sourced = score(classifier, examples, [SEED, REVIEWED, REVIEWED])
    assert {k: v["n"] for k, v in sourced["by_source"].items()} == {REVIEWED: 2, SEED: 1}


def test_small_training_data_is_not_cross_validated_below_ten_or_above_the_cap(tmp_path: Path) -> None:
    data = _small_data()
    at_cap = train_candidate(data, tmp_path / "at-cap", cv_max_examples=len(data.train))
    assert at_cap.metadata["metrics"]["cv"]["n"] == len(data.train)
    capped = train_candidate(data, tmp_path / "capped", cv_max_examples=len(data.train) - 1)
    assert (capped.metadata["random_state"], capped.metadata["note"]) == (0, "")  # the defaults
    assert capped.metadata["reviewed_weight"] == REVIEWED_WEIGHT
    assert "cv" not in capped.metadata["metrics"]
    assert capped.metadata["metrics_method"] == "held-out fixed evaluation set"
    tiny = TrainingData(
        data.train[:9], data.eval, eval_sources=data.eval_sources, train_sources=data.train_sources[:9]
    )
    assert "cv" not in train_candidate(tiny, tmp_path / "tiny").metadata["metrics"]
    ten = TrainingData(data.train[:10], [], train_sources=data.train_sources[:10])
    assert len({e.label for e in ten.train}) >= 2
    metrics = train_candidate(ten, tmp_path / "ten").metadata["metrics"]
    assert metrics["n"] == 0 and metrics["cv"]["n"] == 10


def test_only_reviewed_examples_get_the_reviewed_weight(tmp_path: Path) -> None:
    data = _small_data()
    probes = ["停电了", "the bus never comes", "路灯坏了", "河水发臭"]

    def probabilities(classifier: Classifier) -> list[dict[str, float]]:
        return [p.probabilities for p in classifier.predict(probes)]

    def candidate(training: TrainingData, name: str, weight: float) -> list[dict[str, float]]:
        info = train_candidate(training, tmp_path / name, reviewed_weight=weight, cv_max_examples=0)
        return probabilities(Classifier.load(info.directory))

    weighted = probabilities(
        train(data.train, 0, [2.0 if s == REVIEWED else 1.0 for s in data.train_sources])
    )
    plain = probabilities(train(data.train, 0))
    assert weighted != plain
    assert candidate(data, "two", 2.0) == weighted
    assert candidate(data, "one", 1.0) == plain
    unsourced = TrainingData(data.train, data.eval, eval_sources=data.eval_sources)
    assert candidate(unsourced, "unsourced", 2.0) == plain  # no sources known: nothing is reweighted


def test_the_reviewed_weight_must_be_positive(tmp_path: Path) -> None:
    for weight in (0.0, -1.0):
        with pytest.raises(ValueError, match="reviewed_weight must be positive"):
            train_candidate(_small_data(), tmp_path / "w", reviewed_weight=weight)

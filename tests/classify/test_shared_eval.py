"""The classifier on real citizens' messages (../shared/eval/text), trained on a stratified subsample.

Measured 2026-12-04 with NeighbourSVM (classify.model; this subsample, sampling seeds 0-3, the test
uses 0): English macro-F1 0.682-0.715 (seed 0: 0.715) on later months; Chinese 0.802-0.824 (0.818)
on the raw messages over all five categories and 0.841-0.865 (0.865) over the four with enough
examples. The five-category figure is the jumpy one: the raw messages hold 7 power items, and one
of them more or less moves it by about 0.02 (the same code scored above 0.82 on the seed-0 sample
on another machine, whose sentence vectors may differ in the last bits). Measured 2026-11-23 with
the calibrated SVM before it: 0.671-0.692, 0.829-0.838, 0.844-0.855. The bounds sit below the
lowest of these, so a broken pipeline, routing or normalisation fails while sampling noise does
not. Since the classifier reads sentence meaning (classify.meaning) the test spends about 4 minutes
embedding its 4,600 texts.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from classify.train import Example, evaluate, train

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

TRAIN_PER_LABEL = 300  # per language (Chinese power has fewer: all of them are taken)
EN_TEST_PER_LABEL = 200
EN_BOUND = 0.66
ZH_BOUND = 0.79
ZH4_BOUND = 0.83


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def stratified_sample(rows: list[Example], per_label: int, rng: random.Random) -> list[Example]:
    by_label: dict[str, list[Example]] = {}
    for e in rows:
        by_label.setdefault(e.label, []).append(e)
    out: list[Example] = []
    for label in sorted(by_label):
        pool = by_label[label]
        out += rng.sample(pool, min(per_label, len(pool)))
    return out


def twins_of(raw: list[str], candidates: list[str]) -> list[bool]:
    """For each candidate, whether at least half of its opening's character bigrams occur in one raw text.

    Only the first 60 characters are compared, to keep this fast: that finds 816 of the 818 twins
    the full comparison finds (bench/classifier_variants.py), and 13 more near-duplicates.
    """
    vec = HashingVectorizer(
        analyzer="char", ngram_range=(2, 2), binary=True, norm=None, alternate_sign=False, lowercase=False
    )
    r = vec.transform([t.replace(" ", "") for t in raw])
    c = vec.transform([t.replace(" ", "")[:60] for t in candidates])
    n = np.asarray(c.sum(axis=1)).ravel()
    overlap = (c @ r.T).max(axis=1).toarray().ravel()
    return list((n > 0) & (overlap >= 0.5 * n))


def test_macro_f1_on_real_messages(shared_eval: Path) -> None:
    rng = random.Random(0)
    text_dir = shared_eval / "text"

    # English: train on earlier months, test on later ones (as the real held-out set is).
    en = read_rows(text_dir / "en_fixmystreet_train.csv")
    en_train = [Example(r["text"], r["label"]) for r in en if r["month"] <= "2026-03"]
    en_test = [Example(r["text"], r["label"]) for r in en if r["month"] > "2026-03"]

    # Chinese: train on the segmented rows as the file has them (words separated by spaces, which
    # normalise() removes), test on the raw messages. Most raw messages also appear, segmented, in the
    # other file: those twins are left out of training.
    raw = read_rows(text_dir / "zh_teddycup_train_raw.csv")
    segmented = read_rows(text_dir / "zh_teddycup_train_segmented.csv")
    twins = twins_of([r["text"] for r in raw], [r["text"] for r in segmented])
    zh_train = [Example(r["text"], r["label"]) for r, twin in zip(segmented, twins, strict=True) if not twin]
    zh_test = [Example(r["text"], r["label"]) for r in raw]

    model = train(
        stratified_sample(en_train, TRAIN_PER_LABEL, rng) + stratified_sample(zh_train, TRAIN_PER_LABEL, rng)
    )
    en_metrics = evaluate(model, stratified_sample(en_test, EN_TEST_PER_LABEL, rng))
    zh_metrics = evaluate(model, zh_test)
    # As the README scores Chinese: macro-F1 over the four categories with enough examples (7 power).
    zh_four = evaluate(model, zh_test, labels=["transport", "urban_construction", "environment", "other"])
    assert en_metrics["macro_f1"] >= EN_BOUND, en_metrics
    assert zh_metrics["macro_f1"] >= ZH_BOUND, zh_metrics
    assert zh_four["macro_f1"] >= ZH4_BOUND, zh_four

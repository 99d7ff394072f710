"""bench/learning.py's review-and-retrain replay without the database and job runner: a fast proxy.

The same stream (bench.learning.load_stream), the same seed examples, the same training data
(classify.learning.assemble: fixed evaluation split, staff labels over seed), reviewed examples
weighted as the product weighs them, the same promotion gate on the same evaluation set, and the
same order of review: ``queue`` takes the active model's least confident unreviewed items (ties in
submission order), ``random`` a seeded sample. What it leaves out is everything around the
classifier (HTTP-free desk, database, jobs), so one language's 200 decisions take about 30 s
instead of minutes. Prints one JSON line per batch: the active model's macro-F1 on the fixed test
split, the candidate's (promoted or not) and the gate's scores.

    nice -n 19 .venv-test/bin/python -m bench.learning_offline --lang en --decisions 200

Checked 2026-11-23 against bench/learning.py's recorded run (seed 0, defaults; 64 s for all four
curves on 2 shared cores): macro-F1 at 0 / 100 / 200 decisions EN queue 0.431 / 0.431 / 0.606
(candidates at 50 and 100 rejected), EN random 0.431 / 0.542 / 0.614 (rejected at 100), ZH queue
0.640 / 0.767 / 0.784, ZH random 0.640 / 0.625 / 0.789 (rejected at 100): the same numbers and the
same gate decisions. ``--seed`` draws other streams (pool and test split): at 200 the EN numbers
swing by several points between seeds, mostly by which candidates the gate rejects, so compare
variants over several seeds and look at ``candidate_test_f1`` too.

``--gate paired_cv`` tries a gate the product does not have (yet): instead of scoring the two
models on the fixed evaluation set, it compares their recipes by paired 5-fold cross-validation on
all current training data. For each fold one model is fitted on the candidate's data and one on
the active model's data (seed and the reviews it was trained on), both without the fold; the score
is the mean of the macro-F1 over all out-of-fold items and over the reviewed ones, and the same
margin applies. Measured 2026-12-04, English, mean over stream seeds 0-3 at 200 / 500 decisions
(the product's gate in brackets): queue 0.629 / 0.656 (0.630 / 0.663), random 0.617 / 0.645
(0.586 / 0.647); queue beat random at 500 on seeds 0, 1 and 3 (the product's gate: 2 and 3).
Chinese, seed 0: queue 0.781 / 0.863 (0.782 / 0.830), random 0.770 / 0.790 (0.760 / 0.790). So on
English it is no better on average (either gate's close calls decide queue against random there),
and it costs 10 more fits per retraining run.

``--spot-check F`` and ``--uncertainty margin`` try two other review orders the product does not
use. Spot-checking draws a share F of each queue batch at random from the rest, so that the
held-out reviews in the gate's evaluation set are not all of the hardest kind; margin orders by
the gap between the two likeliest categories instead of the likeliest one's probability. Measured
2026-12-06, English, mean over stream seeds 0-3 at 200 / 500 decisions: least confident first (the
product) 0.630 / 0.661, spot-check 0.2 0.623 / 0.654, margin 0.621 / 0.667. Neither is clearly
better (one seed's gate decisions swing a curve by more than these differences), so the product
keeps least-confident order.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from api.settings import Settings
from bench.learning import SHARED_TEXT, load_stream, mean_curve
from classify.learning import (
    REVIEWED,
    SEED,
    SourcedExample,
    TrainingData,
    assemble,
    gate,
    score,
    text_key,
)
from classify.model import Classifier
from classify.train import read_labelled_csv, seed_paths, train


def _weights(sources: Sequence[str], reviewed_weight: float) -> list[float]:
    """Each training example's weight, as the retraining job gives them."""
    return [reviewed_weight if source == REVIEWED else 1.0 for source in sources]


def _fit(
    seed: Sequence[SourcedExample], reviewed: Sequence[SourcedExample], reviewed_weight: float
) -> tuple[TrainingData, Classifier]:
    """(the merged data, a classifier trained on its training part), as the retraining job makes them."""
    data = assemble([*seed, *reviewed])
    return data, train(data.train, 0, _weights(data.train_sources, reviewed_weight))


def paired_cv(
    data: TrainingData, active_reviewed: Sequence[SourcedExample], reviewed_weight: float
) -> tuple[float, float]:
    """(candidate, active) scores of ``--gate paired_cv``: both recipes cross-validated on the same folds.

    The candidate's recipe learns from every training row of ``data``; the active model's from its
    seed rows and the reviews in ``active_reviewed`` (those it was trained on).
    """
    labels = [e.label for e in data.train]
    known = {text_key(e.text) for e in active_reviewed}
    candidate_pred: list[str] = [""] * len(labels)
    active_pred: list[str] = [""] * len(labels)

    def fit_and_predict(rows: Sequence[int], test_rows: Sequence[int], out: list[str]) -> None:
        weights = _weights([data.train_sources[i] for i in rows], reviewed_weight)
        model = train([data.train[i] for i in rows], 0, weights)
        predictions = model.predict([data.train[i].text for i in test_rows])
        for i, prediction in zip(test_rows, predictions, strict=True):
            out[i] = prediction.label

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for train_rows, test_rows in folds.split(labels, labels):
        active_rows = [
            i
            for i in train_rows
            if data.train_sources[i] != REVIEWED or text_key(data.train[i].text) in known
        ]
        fit_and_predict(list(train_rows), list(test_rows), candidate_pred)
        fit_and_predict(active_rows, list(test_rows), active_pred)
    reviewed_rows = [i for i, source in enumerate(data.train_sources) if source == REVIEWED]

    def mean_f1(predictions: list[str]) -> float:
        every = f1_score(labels, predictions, average="macro", zero_division=0)
        if not reviewed_rows:
            return float(every)
        staff = f1_score(
            [labels[i] for i in reviewed_rows],
            [predictions[i] for i in reviewed_rows],
            average="macro",
            zero_division=0,
        )
        return float((every + staff) / 2)

    return mean_f1(candidate_pred), mean_f1(active_pred)


def replay(
    lang: str,
    order: str,
    *,
    decisions: int,
    batch: int,
    seed: int,
    margin: float,
    reviewed_weight: float,
    gate_kind: str = "eval_set",
    spot_check: float = 0.0,
    uncertainty: str = "least_confident",
    pool_size: int = 2000,
    test_size: int = 1000,
) -> dict[int, float]:
    """Review ``decisions`` pool items in ``order``, retraining after every ``batch``; F1 by decisions."""
    pool, test = load_stream(lang, pool_size, test_size, seed)
    seed_examples = [SourcedExample(e.text, e.label, SEED) for e in read_labelled_csv(seed_paths())]
    _, active = _fit(seed_examples, [], reviewed_weight)
    rng = random.Random(seed)
    remaining = list(range(len(pool)))
    reviewed: list[SourcedExample] = []
    active_reviewed: list[SourcedExample] = []  # the reviews the active model was trained on
    curve = {0: float(score(active, test)["macro_f1"])}
    emit({"lang": lang, "order": order, "seed": seed, "decisions": 0, "macro_f1": round(curve[0], 4)})
    started = time.perf_counter()
    while len(reviewed) < decisions and remaining:
        want = min(batch, decisions - len(reviewed))
        if order == "queue":
            proba = np.sort(active.predict_proba([pool[i].text for i in remaining]), axis=1)
            confidence = proba[:, -1] - proba[:, -2] if uncertainty == "margin" else proba[:, -1]
            spots = round(want * spot_check)
            picked = [remaining[j] for j in np.argsort(confidence, kind="stable")[: want - spots]]
            if spots:
                taken = set(picked)
                picked += rng.sample([i for i in remaining if i not in taken], spots)
        else:
            picked = rng.sample(remaining, min(want, len(remaining)))
        chosen = set(picked)
        remaining = [i for i in remaining if i not in chosen]
        reviewed += [SourcedExample(pool[i].text, pool[i].label, REVIEWED) for i in picked]
        data, candidate = _fit(seed_examples, reviewed, reviewed_weight)
        if gate_kind == "paired_cv":
            candidate_f1, active_f1 = paired_cv(data, active_reviewed, reviewed_weight)
        else:
            candidate_f1 = float(score(candidate, data.eval)["macro_f1"])
            active_f1 = float(score(active, data.eval)["macro_f1"])
        decision = gate(candidate_f1, active_f1, margin)
        if decision.promote:
            active = candidate
            active_reviewed = list(reviewed)
        curve[len(reviewed)] = float(score(active, test)["macro_f1"])
        emit(
            {
                "lang": lang,
                "order": order,
                "seed": seed,
                "decisions": len(reviewed),
                "macro_f1": round(curve[len(reviewed)], 4),
                "promoted": decision.promote,
                "candidate_test_f1": round(float(score(candidate, test)["macro_f1"]), 4),
                "gate_candidate_f1": round(candidate_f1, 4),
                "gate_active_f1": round(active_f1, 4),
                "eval_set_n": len(data.eval),
                "elapsed_s": round(time.perf_counter() - started, 1),
            }
        )
    return curve


def emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout."""
    print(json.dumps({"bench": "learning_offline", **record}, ensure_ascii=False), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Replay each language and order for each seed; print JSON lines and a mean at each step."""
    defaults = Settings()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lang", action="append", choices=["en", "zh"], help="default: both")
    parser.add_argument("--order", action="append", choices=["queue", "random"], help="default: both")
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--seed", type=int, action="append", help="stream seeds (default: 0)")
    parser.add_argument("--margin", type=float, default=defaults.promotion_margin)
    parser.add_argument("--reviewed-weight", type=float, default=defaults.reviewed_weight)
    parser.add_argument(
        "--gate",
        choices=["eval_set", "paired_cv"],
        default="eval_set",
        help="eval_set: the product's gate; paired_cv: see above",
    )
    parser.add_argument(
        "--spot-check", type=float, default=0.0, help="share of each queue batch drawn at random"
    )
    parser.add_argument(
        "--uncertainty",
        choices=["least_confident", "margin"],
        default="least_confident",
        help="what the queue orders by: the top probability, or the gap between the top two",
    )
    args = parser.parse_args(argv)
    if not SHARED_TEXT.is_dir():
        print(f"evaluation data {SHARED_TEXT} is missing", file=sys.stderr)
        return 2
    seeds = args.seed or [0]
    for lang in args.lang or ["en", "zh"]:
        for order in args.order or ["queue", "random"]:
            curves = [
                replay(
                    lang,
                    order,
                    decisions=args.decisions,
                    batch=args.batch,
                    seed=seed,
                    margin=args.margin,
                    reviewed_weight=args.reviewed_weight,
                    gate_kind=args.gate,
                    spot_check=args.spot_check,
                    uncertainty=args.uncertainty,
                )
                for seed in seeds
            ]
            emit({"summary": lang, "order": order, "seeds": seeds, "mean_macro_f1": mean_curve(curves)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

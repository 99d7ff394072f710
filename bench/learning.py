"""Replay a real labelled stream through the product's review-and-retrain code; prints JSON lines.

For each language: a fixed stratified test split and a pool are drawn from ../shared/eval/text. The
pool is submitted as typed suggestions and classified by the shipped seed model through the real
pipeline and job runner. Then a simulated clerk takes items in the order the review queue proposes
(least confident first) or in random order, gives each the true label through the same code the
review API uses, and the product retrains on its own after every ``--batch`` reviews (the automatic
retraining job, with its promotion gate and re-classification of unreviewed items). After each batch
the active model's macro-F1 on the fixed test split is printed.

    nice -n 10 .venv-test/bin/python -m bench.learning --lang en --lang zh --decisions 500

Targets (issue 3): after 200 corrections macro-F1 EN >= 0.62 and ZH >= 0.55; queue order beats
random order at 500. ``--seed`` may be given several times (other pools and test splits from the
same files); the summary line then judges the targets on the mean over those streams and lists
each stream's value, because one stream's curve swings by a few hundredths with the gate's close
calls.

Measured 2026-12-06 over stream seeds 0-3, same settings as below (sentence vectors
preloaded as below; about 4 minutes a seed for both orders, seeds 0-1 and 2-3 in two
processes side by side on 2 shared cores):

    nice -n 5 .venv-test/bin/python -m bench.learning --lang en --seed 0 --seed 1 --seed 2 --seed 3
    # and the same with --lang zh

mean macro-F1 at 0 / 100 / 200 / 300 / 500 decisions
  EN queue  0.517 / 0.591 / 0.630 / 0.648 / 0.661   (at 200 by seed 0.628 0.617 0.649 0.626;
                                                     at 500 0.639 0.645 0.695 0.666)
  EN random 0.517 / 0.577 / 0.586 / 0.602 / 0.647   (at 500 by seed 0.643 0.648 0.673 0.624)
  ZH queue  0.734 / 0.769 / 0.831 / 0.857 / 0.862   (at 200 by seed 0.782 0.831 0.854 0.856;
                                                     at 500 0.830 0.864 0.864 0.891)
  ZH random 0.734 / 0.761 / 0.773 / 0.809 / 0.837   (at 500 by seed 0.790 0.881 0.838 0.841)
All targets hold on the mean: EN 0.630 and ZH 0.831 at 200; at 500 queue ahead of random by 0.014
in English (ahead on seeds 2 and 3 by 0.02-0.04, behind on seeds 0 and 1 by 0.004 and 0.003) and
by 0.025 in Chinese (behind on seed 1 by 0.016). Seed 0's figures are those of the single-stream
runs below, and bench/learning_offline.py gives each English seed the same figures as this replay.

Measured 2026-12-04 with the NeighbourSVM classifier (classify.model), same settings (pool 2000,
test EN 1000 / ZH 243, batch 50, margin 0.01, reviewed weight 3). The stream's sentence vectors
were embedded beforehand by the product's own encoder and preloaded into it (the encoder is
deterministic, so the figures are those of a plain run, which spends 4 + 12 minutes embedding):

    nice -n 5 .venv-test/bin/python -m bench.learning --lang en --decisions 500   # and --lang zh

macro-F1 at 0 / 100 / 200 / 300 / 500 decisions
  EN queue  0.502 / 0.590 / 0.628 / 0.628 / 0.639   (rejected at 250-300 and 450-500)
  EN random 0.502 / 0.578 / 0.615 / 0.634 / 0.643   (rejected at 350-400)
  ZH queue  0.727 / 0.752 / 0.782 / 0.825 / 0.830   (rejected at 400-500)
  ZH random 0.727 / 0.746 / 0.760 / 0.760 / 0.790   (rejected at 50 and 200-300)
EN 0.628 and ZH 0.782 at 200 meet their targets; at 500 queue beats random in Chinese, not in
English on this stream (0.639 vs 0.643): the gate rejected the queue's candidates at 450 and 500,
which scored 0.641 and 0.654 on the test split. On this stream the whole difference sat in the
held-out reviews (about 90, the hardest items, since the queue picked them): the seed part scored
0.924 for both models, the reviews 0.378 vs 0.417. Over stream seeds 1-3 (bench/learning_offline.py,
which gives seed 0 the very same figures) English averages queue 0.630 / 0.671 and random
0.576 / 0.649 at 200 / 500 (queue ahead at 500 on seeds 2 and 3, behind by 0.003 on seed 1).
The same code gave EN queue 0.601 at 200 on the previous session's machine: the gate's close
calls turn on the last bits of the sentence vectors and float sums, which can differ between CPUs, so
expect these figures to move by a few hundredths from one machine to another.

Measured 2026-12-03 with the classifier before NeighbourSVM (calibrated SVM on the same features):
macro-F1 at 0 / 100 / 200 / 300 / 500 decisions
  EN queue  0.504 / 0.568 / 0.636 / 0.631 / 0.658
  EN random 0.504 / 0.580 / 0.605 / 0.624 / 0.629
  ZH queue  0.722 / 0.748 / 0.793 / 0.797 / 0.846
  ZH random 0.722 / 0.735 / 0.760 / 0.771 / 0.791
All three targets are met: EN 0.636 and ZH 0.793 at 200, queue over random at 500 in both
languages. The offline replica (bench/learning_offline.py) over stream seeds 0-3 gives EN queue
0.518 / 0.584 / 0.626 at 0 / 100 / 200 on average (0.580 at 200 before), so seed 0 is no longer
the lucky draw it was.

Before that, measured 2026-11-23 on 2 shared cores (same settings, n-grams only):

    nice -n 10 /work/main/.venv-test/bin/python -m bench.learning --decisions 500

macro-F1 at 0 / 100 / 200 / 300 / 500 decisions
  EN queue  0.431 / 0.431 / 0.606 / 0.636 / 0.654   (candidates at 50-100 and 400-500 rejected)
  EN random 0.431 / 0.542 / 0.614 / 0.614 / 0.637   (rejected at 100 and 250-400)
  ZH queue  0.640 / 0.767 / 0.784 / 0.817 / 0.850
  ZH random 0.640 / 0.625 / 0.789 / 0.807 / 0.791
The same with --reviewed-weight 1 (every example weighs the same, the behaviour before):
  EN queue  0.431 / 0.529 / 0.578 / 0.615 / 0.640   (every candidate promoted)
  EN random 0.431 / 0.549 / 0.595 / 0.599 / 0.627   (rejected at 50 and 350-400)
  ZH queue  0.640 / 0.743 / 0.777 / 0.795 / 0.821
  ZH random 0.640 / 0.700 / 0.778 / 0.780 / 0.785
ZH at 200 and queue > random at 500 (both languages) are met; EN at 200 (0.606) misses 0.62. Each
rejection is the gate doing its job on its evaluation set, which is mostly held-out seed texts: a
candidate that learned the London reports scores 0.01-0.04 lower on those. Gates tried instead
(macro-F1 averaged over seed and reviewed held-out parts; held-out reviews weighted like training)
were worse: the 20-50 held-out reviews are the hardest items, their macro-F1 swings by 0.1 between
models, and those gates rejected more candidates (EN queue 0.52-0.59 at 200 in an offline replica).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.model_selection import train_test_split

from api.context import AppContext, build_context
from api.settings import Settings
from classify.learning import score
from classify.train import Example
from intake.submission import MAX_TEXT_CHARS, Submitter
from models.db import unit_of_work
from models.reviews import queries as rq
from models.vocabulary import Status

REPO = Path(__file__).resolve().parent.parent
SHARED_TEXT = Path(os.environ.get("MINSHENG_SHARED_EVAL", REPO.parent / "shared" / "eval")) / "text"
OPEN = (Status.NEEDS_REVIEW, Status.ROUTED)


def emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout."""
    print(json.dumps(record, ensure_ascii=False), flush=True)


def _read(path: Path, join_words: bool = False) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        text = (row.get("text") or "").strip()
        if join_words:
            text = "".join(text.split())
        if text:
            out.append(Example(text[:MAX_TEXT_CHARS], row["label"]))
    return out


def _stratified(examples: list[Example], n: int, seed: int) -> tuple[list[Example], list[Example]]:
    """(n examples, the rest), stratified by label."""
    if n >= len(examples):
        return examples, []
    labels = [e.label for e in examples]
    chosen, rest = train_test_split(examples, train_size=n, stratify=labels, random_state=seed)
    return list(chosen), list(rest)


def load_stream(lang: str, pool_size: int, test_size: int, seed: int) -> tuple[list[Example], list[Example]]:
    """(pool, fixed test split) for one language."""
    if lang == "en":
        data = _read(SHARED_TEXT / "en_fixmystreet_train.csv")
        test, rest = _stratified(data, test_size, seed)
        pool, _ = _stratified(rest, pool_size, seed)
        return pool, test
    raw = _read(SHARED_TEXT / "zh_teddycup_train_raw.csv")
    test, raw_rest = _stratified(raw, min(test_size, len(raw) // 3), seed)
    segmented = _read(SHARED_TEXT / "zh_teddycup_train_segmented.csv", join_words=True)
    extra, _ = _stratified(segmented, max(0, pool_size - len(raw_rest)), seed)
    pool = raw_rest + extra
    random.Random(seed).shuffle(pool)
    return pool[:pool_size], test


MARGIN: float | None = None  # --margin: override the promotion margin (to measure what the gate costs)
REVIEWED_WEIGHT: float | None = None  # --reviewed-weight: override the product's weight of reviewed examples


def _settings(data_dir: Path, batch: int) -> Settings:
    settings = Settings(data_dir=data_dir, worker_enabled=False, retrain_after_reviews=batch)
    if MARGIN is not None:
        settings.promotion_margin = MARGIN
    if REVIEWED_WEIGHT is not None:
        settings.reviewed_weight = REVIEWED_WEIGHT
    return settings


def prepare(lang: str, pool: Sequence[Example], base: Path, batch: int) -> tuple[Path, dict[int, str], float]:
    """A data folder whose database holds the pool as classified suggestions; (folder, truth, seconds)."""
    started = time.perf_counter()
    context = build_context(_settings(base, batch))
    truth: dict[int, str] = {}
    try:
        for example in pool:
            receipt = context.desk.submit_text(example.text, Submitter(), lang)
            truth[receipt.id] = example.label
        context.runner.drain(max_jobs=len(pool) + 10)
    finally:
        context.engine.dispose()
    return base, truth, time.perf_counter() - started


def _evaluate(context: AppContext, test: Sequence[Example]) -> dict[str, Any]:
    version_id, classifier = context.classifiers.active()
    metrics = score(classifier, test)
    return {
        "version": version_id,
        "macro_f1": metrics["macro_f1"],
        "accuracy": metrics["accuracy"],
        "per_class_f1": {k: v["f1"] for k, v in metrics["per_class"].items()},
    }


def _next_items(context: AppContext, order: str, want: int, rng: random.Random) -> list[int]:
    with unit_of_work(context.factory) as session:
        if order == "queue":
            _, page = rq.review_queue(session, rq.QueueFilter(statuses=OPEN), limit=want)
            return [s.id for s in page]
        _, everything = rq.review_queue(session, rq.QueueFilter(statuses=OPEN), limit=1_000_000)
        ids = sorted(s.id for s in everything)
    return rng.sample(ids, min(want, len(ids)))


def replay(
    lang: str,
    order: str,
    data_dir: Path,
    truth: dict[int, str],
    test: Sequence[Example],
    *,
    decisions: int,
    batch: int,
    seed: int,
    deadline: float,
) -> list[dict[str, Any]]:
    """Review ``decisions`` pool items in ``order``; the product retrains itself every ``batch``."""
    context = build_context(_settings(data_dir, batch))
    rng = random.Random(seed)
    records = []
    try:
        first = {
            "bench": "learning",
            "lang": lang,
            "order": order,
            "seed": seed,
            "decisions": 0,
            **_evaluate(context, test),
        }
        emit(first)
        records.append(first)
        done = 0
        while done < decisions and time.monotonic() < deadline:
            started = time.perf_counter()
            items = _next_items(context, order, min(batch, decisions - done), rng)
            if not items:
                break
            corrected = 0
            for suggestion_id in items:
                with unit_of_work(context.factory) as session:
                    outcome = context.learner.review(
                        session,
                        suggestion_id,
                        reviewer="bench",
                        category=truth[suggestion_id],
                        transcript=None,
                    )
                corrected += outcome.verdict == "corrected"
            done += len(items)
            review_s = time.perf_counter() - started
            context.runner.drain()  # the automatic retraining job queued by the 50th review, if any
            with unit_of_work(context.factory) as session:
                run = rq.last_run(session)
                run_info = (
                    {
                        "run": run.id,
                        "run_state": run.state,
                        "gate_candidate_f1": run.candidate_metrics.get("macro_f1"),
                        "gate_active_f1": run.baseline_metrics.get("macro_f1"),
                        "eval_set_n": run.eval_set.get("n"),
                        "gate_by_source": {
                            src: [
                                run.candidate_metrics.get("by_source", {}).get(src, {}).get("macro_f1"),
                                run.baseline_metrics.get("by_source", {}).get(src, {}).get("macro_f1"),
                            ]
                            for src in ("seed", "reviewed")
                        },
                        "reclassified": run.reclassified,
                    }
                    if run
                    else {}
                )
            record = {
                "bench": "learning",
                "lang": lang,
                "order": order,
                "seed": seed,
                "decisions": done,
                "corrected_in_batch": corrected,
                **_evaluate(context, test),
                **run_info,
                "review_s": round(review_s, 2),
                "batch_s": round(time.perf_counter() - started, 2),
            }
            emit(record)
            records.append(record)
    finally:
        context.engine.dispose()
    return records


TARGETS_AT_200 = {"en": 0.62, "zh": 0.55}


def mean_curve(curves: Sequence[dict[int, float]]) -> dict[int, float]:
    """The mean of several macro-F1 curves at each number of decisions that all of them reached."""
    if not curves:
        return {}
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    return {n: round(sum(c[n] for c in curves) / len(curves), 4) for n in steps}


def summarise(
    lang: str, orders: dict[str, dict[int, dict[int, float]]], seeds: Sequence[int]
) -> dict[str, Any]:
    """One language's summary line: each order's mean curve over the stream seeds, and the targets.

    A single stream's curve swings by a few hundredths with the gate's close calls, so the targets are
    judged on the mean over the seeds that were run (each seed's value is listed beside it).
    """

    # An order that did not run on every seed (the time limit) has no mean.
    means = {
        order: mean_curve(list(runs.values())) if len(runs) == len(seeds) else {}
        for order, runs in orders.items()
    }

    def mean_at(order: str, decisions: int) -> float | None:
        return means.get(order, {}).get(decisions)

    def by_seed(order: str, decisions: int) -> dict[int, float | None]:
        return {seed: orders.get(order, {}).get(seed, {}).get(decisions) for seed in seeds}

    queue_200, queue_500, random_500 = mean_at("queue", 200), mean_at("queue", 500), mean_at("random", 500)
    return {
        "bench": "learning",
        "summary": lang,
        "seeds": list(seeds),
        "queue_at_200": queue_200,
        "queue_at_200_by_seed": by_seed("queue", 200),
        "target_at_200": TARGETS_AT_200[lang],
        "meets_200": queue_200 is not None and queue_200 >= TARGETS_AT_200[lang],
        "queue_at_500": queue_500,
        "queue_at_500_by_seed": by_seed("queue", 500),
        "random_at_500": random_500,
        "random_at_500_by_seed": by_seed("random", 500),
        "queue_beats_random_at_500": None
        if queue_500 is None or random_500 is None
        else queue_500 > random_500,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the replay for each language and order; print JSON lines and a summary line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lang", action="append", choices=["en", "zh"], help="default: both")
    parser.add_argument("--order", action="append", choices=["queue", "random"], help="default: both")
    parser.add_argument("--decisions", type=int, default=500)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--test", type=int, default=1000, help="test split size (zh: at most a third of raw)")
    parser.add_argument("--seed", type=int, action="append", help="stream seeds (default: 0)")
    parser.add_argument("--max-minutes", type=float, default=60.0, help="stop replaying after this long")
    parser.add_argument("--keep", type=Path, default=None, help="keep the data folders here")
    parser.add_argument("--margin", type=float, default=None, help="promotion margin (default: product's)")
    parser.add_argument(
        "--reviewed-weight", type=float, default=None, help="weight of reviewed examples (default: product's)"
    )
    args = parser.parse_args(argv)
    global MARGIN, REVIEWED_WEIGHT
    MARGIN = args.margin
    REVIEWED_WEIGHT = args.reviewed_weight
    if not SHARED_TEXT.is_dir():
        print(f"evaluation data {SHARED_TEXT} is missing", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.max_minutes * 60
    seeds = args.seed or [0]
    # curves[lang][order][seed] = {decisions: macro-F1}
    curves: dict[str, dict[str, dict[int, dict[int, float]]]] = defaultdict(lambda: defaultdict(dict))
    root = args.keep or Path(tempfile.mkdtemp(prefix="minsheng-learning-"))
    try:
        for lang in args.lang or ["en", "zh"]:
            for seed in seeds:
                pool, test = load_stream(lang, args.pool, args.test, seed)
                stream = root / f"{lang}-{seed}"
                base, truth, seconds = prepare(lang, pool, stream / "base", args.batch)
                emit(
                    {
                        "bench": "learning",
                        "lang": lang,
                        "seed": seed,
                        "pool": len(pool),
                        "test": len(test),
                        "prepare_s": round(seconds, 1),
                    }
                )
                for order in args.order or ["queue", "random"]:
                    run_dir = stream / order
                    shutil.copytree(base, run_dir)
                    records = replay(
                        lang,
                        order,
                        run_dir,
                        truth,
                        test,
                        decisions=args.decisions,
                        batch=args.batch,
                        seed=seed,
                        deadline=deadline,
                    )
                    curves[lang][order][seed] = {r["decisions"]: r["macro_f1"] for r in records}
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    for lang, orders in curves.items():
        emit(summarise(lang, orders, seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

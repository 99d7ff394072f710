"""Compare text-classifier variants on the shared evaluation data; prints one JSON line per result.

Run from the repository root:

    .venv/bin/python bench/classifier_variants.py                   # default variants and protocols
    .venv/bin/python bench/classifier_variants.py --variants chosen baseline --protocols zh_cv seed_cv

Reads ../shared/eval/text by path (or $MINSHENG_SHARED_EVAL/text) and never copies it. Protocols:

- ``en_time``: English FixMyStreet, train on months up to 2026-03 (18,098 rows), test on 2026-04 …
  2026-06 (2,917 rows): the real held-out set is later months, so a time split is the closer
  stand-in than a random one.
- ``en_holdout``: English, stratified random 80/20 hold-out.
- ``zh_cv``: Chinese, stratified 5-fold cross-validation over raw + segmented rows (segmented words
  joined back together, since real input is unsegmented); scored on all out-of-fold rows and on
  the raw rows alone. ``macro_f1_4`` leaves out ``power`` (56 examples in all), as the README's
  baseline does. ``zh_keep`` is the same with the segmented rows' spaces kept.
- ``zh_holdout``: Chinese, train on the segmented rows that are not twins of a raw message, test
  on the 731 raw messages (the ``--write-splits`` stand-in; ``macro_f1_4`` is the README's score).
- ``zh_twins``: the same test with every segmented row in training, twins included (the other
  extreme: a held-out message that was posted again in the training data).
- ``joint``: one model on English + Chinese together (what the product trains), stratified 80/20
  hold-out, scored per language.
- ``small``: stratified 5-fold CV on a seed-sized sample of the evaluation data (100 per class and
  language; Chinese power has only 56): where probabilities are hardest to calibrate.
- ``seed_cv``: stratified 5-fold CV on the shipped seed CSVs (classify/seed/*.csv).

Variant names are ``<features>_<classifier>`` (``--list`` shows them all). ``chosen`` is
classify.model.build_pipeline: ``wb14_jn_letters`` features (char_wb 1-4 + letter-word 1-2 TF-IDF,
sublinear, min_df 2, one L2 norm over both) capped at 100k/50k features, then a LinearSVC (balanced,
C from classify.model.svm_c: 0.5 up to 2,000 training examples, 0.1 from 10,000) with temperature
scaling on 5-fold CV (one SVM on all data predicts; ``ensemble=False``). ``chosen_<classifier>`` puts
other classifiers on the chosen features; ``jn_letters_<classifier>`` on the same features uncapped;
``baseline`` is the README's plain baseline. ``product`` is classify.model.fit_pipeline itself: the
chosen pipeline, once per script (Chinese / the rest) when both have at least 50 training examples.

The README's numbers come from held-out sets that are not in ../shared. ``--write-splits DIR`` writes
stand-ins as CSV (train.csv = English up to 2026-03 + the Chinese segmented rows that are not twins
of a raw message, spaces kept; test_en.csv = English 2026-04 … 06; test_zh.csv = the 731 raw
messages), so the product's own command line can be scored the README's way:

    minsheng train --data DIR/train.csv --out MODEL
    minsheng evaluate --model MODEL --data DIR/test_en.csv
    minsheng evaluate --model MODEL --data DIR/test_zh.csv \\
        --labels transport,urban_construction,environment,other

Each row: accuracy, macro-F1 (over labels present), log-loss, multiclass Brier score, expected
calibration error (top label, 15 equal-width bins), mean confidence, and mean seconds per fit
(features + classifier). Features are computed once per split and shared by the classifiers that
use them; the result equals fitting each pipeline separately. Timings are wall-clock on whatever
else the machine is doing: compare them within one run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.preprocessing import Normalizer
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from classify.model import build_pipeline, fit_pipeline  # noqa: E402
from classify.text import normalise  # noqa: E402
from classify.train import read_labelled_csv, seed_paths  # noqa: E402
from models.taxonomy import LABELS  # noqa: E402

EVAL_TEXT = Path(os.environ.get("MINSHENG_SHARED_EVAL", REPO.parent / "shared" / "eval")) / "text"
LATIN_WORDS = r"[^\W_\u2e80-\u9fff\uf900-\ufaff]{2,}"  # word tokens that are not CJK runs
LETTER_WORDS = r"[^\W\d_\u2e80-\u9fff\uf900-\ufaff]{2,}"  # ... and not digits either

Rows = list[tuple[str, str]]

# --------------------------------------------------------------------------- variants


def features(
    char: str = "char_wb",
    char_range: tuple[int, int] = (1, 4),
    word_range: tuple[int, int] | None = (1, 2),
    sublinear: bool = True,
    min_df: int = 2,
    latin_words: bool | str = True,
    joint_norm: bool = False,
    max_features: tuple[int | None, int | None] = (None, None),
) -> Any:
    """Char n-grams (all languages) plus optional word n-grams (languages written with spaces).

    ``joint_norm``: L2-normalise the concatenated vector once instead of each block separately
    (with per-block norms, a Chinese text with one Latin token gets that token weighted like all
    its characters together). ``latin_words="letters"``: word tokens of letters only, no digits.
    """
    norm = None if joint_norm else "l2"
    patterns = {"letters": LETTER_WORDS, True: LATIN_WORDS, False: r"(?u)\b\w\w+\b"}
    pattern = patterns[latin_words]
    parts: list[tuple[str, Any]] = [
        (
            "char",
            TfidfVectorizer(
                analyzer=char,
                ngram_range=char_range,
                sublinear_tf=sublinear,
                min_df=min_df,
                lowercase=False,
                norm=norm,
                max_features=max_features[0],
                dtype=np.float32,
            ),
        )
    ]
    if word_range is not None:
        parts.append(
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=word_range,
                    sublinear_tf=sublinear,
                    min_df=min_df,
                    lowercase=False,
                    token_pattern=pattern,
                    norm=norm,
                    max_features=max_features[1],
                    dtype=np.float32,
                ),
            )
        )
    if joint_norm:
        return SkPipeline([("union", FeatureUnion(parts)), ("norm", Normalizer())])
    return FeatureUnion(parts)


def baseline_features() -> FeatureUnion:
    """The README's baseline: default TF-IDF char 1-3 + word 1-2."""
    return FeatureUnion(
        [
            ("char", TfidfVectorizer(analyzer="char", ngram_range=(1, 3))),
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2))),
        ]
    )


FEATURES: dict[str, Callable[[], Any]] = {
    "chosen": lambda: build_pipeline(0)[:-1],  # every step but the classifier
    "base": baseline_features,
    "wb14": features,
    "char14": lambda: features(char="char"),
    "wb13": lambda: features(char_range=(1, 3)),
    "wb25": lambda: features(char_range=(2, 5)),
    "wb15": lambda: features(char_range=(1, 5)),
    "wb14_noword": lambda: features(word_range=None),
    "wb14_allwords": lambda: features(latin_words=False),
    "wb14_rawtf": lambda: features(sublinear=False),
    "wb14_mindf1": lambda: features(min_df=1),
    "wb14_letters": lambda: features(latin_words="letters"),
    "wb14_jn": lambda: features(joint_norm=True),
    "wb14_jn_letters": lambda: features(joint_norm=True, latin_words="letters"),
    "wb14_jn_allwords": lambda: features(joint_norm=True, latin_words=False),
    "wb15_jn_letters": lambda: features(char_range=(1, 5), joint_norm=True, latin_words="letters"),
    "wb13_jn_letters": lambda: features(char_range=(1, 3), joint_norm=True, latin_words="letters"),
    "char14_jn_letters": lambda: features(char="char", joint_norm=True, latin_words="letters"),
    "jn_letters_cap200k": lambda: features(
        joint_norm=True, latin_words="letters", max_features=(200_000, 50_000)
    ),
    "jn_letters_cap100k": lambda: features(
        joint_norm=True, latin_words="letters", max_features=(100_000, 50_000)
    ),
    "jn_letters_cap50k": lambda: features(
        joint_norm=True, latin_words="letters", max_features=(50_000, 30_000)
    ),
    "jn_letters_mindf3": lambda: features(joint_norm=True, latin_words="letters", min_df=3),
}


def lr(c: float = 1.0, balanced: bool = True, **kw: Any) -> LogisticRegression:
    """Multinomial logistic regression."""
    return LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000, **kw)


def svc(c: float = 0.5) -> LinearSVC:
    """Linear SVM (liblinear, one-vs-rest)."""
    return LinearSVC(C=c, class_weight="balanced", random_state=0)


def svc_temp(c: float, ensemble: bool = True) -> CalibratedClassifierCV:
    """Linear SVM with temperature scaling on 5-fold CV."""
    return CalibratedClassifierCV(svc(c), method="temperature", cv=5, ensemble=ensemble)


CLASSIFIERS: dict[str, Callable[[], BaseEstimator]] = {
    "chosen": lambda: build_pipeline(0).named_steps["clf"],
    "lr_c1": lambda: lr(1.0),
    "lr_c4": lambda: lr(4.0),
    "lr_c10": lambda: lr(10.0),
    "lr_c30": lambda: lr(30.0),
    "lr_c10_unbal": lambda: lr(10.0, balanced=False),
    "lr_c10_tol1e-3": lambda: lr(10.0, tol=1e-3),
    "lr_c10_temp": lambda: CalibratedClassifierCV(lr(10.0), method="temperature", cv=5),
    "svc_sigmoid": lambda: CalibratedClassifierCV(svc(), method="sigmoid", cv=5),
    "svc_temp": lambda: CalibratedClassifierCV(svc(), method="temperature", cv=5),
    "svc_isotonic": lambda: CalibratedClassifierCV(svc(), method="isotonic", cv=5),
    "svc_temp_noens": lambda: CalibratedClassifierCV(svc(), method="temperature", cv=5, ensemble=False),
    **{f"svc_c{c}_temp_noens": partial(svc_temp, c, ensemble=False) for c in (0.05, 0.1, 0.2, 1.0)},
    "svc_c0.1_temp": lambda: CalibratedClassifierCV(svc(0.1), method="temperature", cv=5),
    "svc_c0.1_sigmoid_noens": lambda: CalibratedClassifierCV(
        svc(0.1), method="sigmoid", cv=5, ensemble=False
    ),
    "svc_c0.1_isotonic_noens": lambda: CalibratedClassifierCV(
        svc(0.1), method="isotonic", cv=5, ensemble=False
    ),
    "svc_temp_cv3": lambda: CalibratedClassifierCV(svc(), method="temperature", cv=3),
    "svc_c0.2_temp": lambda: CalibratedClassifierCV(svc(0.2), method="temperature", cv=5),
    "svc_c1_temp": lambda: CalibratedClassifierCV(svc(1.0), method="temperature", cv=5),
    "sgd_log": lambda: SGDClassifier(
        loss="log_loss", alpha=1e-5, class_weight="balanced", max_iter=50, random_state=0
    ),
    "sgd_huber": lambda: SGDClassifier(
        loss="modified_huber", alpha=1e-4, class_weight="balanced", max_iter=50, random_state=0
    ),
    "cnb": lambda: ComplementNB(alpha=0.3),
}

# name → (features, classifier); "baseline" is the README's plain baseline.
VARIANTS: dict[str, tuple[str, str]] = {
    "chosen": ("chosen", "chosen"),
    "baseline": ("base", "lr_c1"),
    "base_svc_temp": ("base", "svc_temp"),
    **{f"wb14_{c}": ("wb14", c) for c in CLASSIFIERS if c != "chosen"},
    **{f"{f}_svc_temp": (f, "svc_temp") for f in FEATURES if f not in ("chosen", "base", "wb14")},
    **{f"{f}_lr_c10": (f, "lr_c10") for f in FEATURES if f not in ("chosen", "base", "wb14")},
    **{f"jn_letters_{c}": ("wb14_jn_letters", c) for c in CLASSIFIERS if c != "chosen"},
    # The chosen features (capped) with other classifiers.
    **{f"chosen_{c}": ("chosen", c) for c in CLASSIFIERS if c != "chosen"},
}

# --------------------------------------------------------------------------- data


def read(name: str) -> list[dict[str, str]]:
    """Rows of one evaluation CSV."""
    with (EVAL_TEXT / name).open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def english() -> list[dict[str, str]]:
    """FixMyStreet rows with normalised text."""
    rows = read("en_fixmystreet_train.csv")
    for r in rows:
        r["text"] = normalise(r["text"])
    return rows


def _bigrams(text: str) -> set[str]:
    text = text.replace(" ", "")
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _twin_indices(raw: Sequence[str], segmented: Sequence[str]) -> list[int]:
    """Indices of segmented rows whose character bigrams are at least half found in one raw message."""
    index: dict[str, set[int]] = {}
    for i, text in enumerate(raw):
        for b in _bigrams(text):
            index.setdefault(b, set()).add(i)
    twins = []
    for j, text in enumerate(segmented):
        grams = _bigrams(text)
        hits: dict[int, int] = {}
        for b in grams:
            for i in index.get(b, ()):
                hits[i] = hits.get(i, 0) + 1
        if grams and hits and max(hits.values()) >= 0.5 * len(grams):
            twins.append(j)
    return twins


def teddy_cup() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The raw Teddy Cup messages, and the segmented rows that are not twins of one of them (a
    segmented row whose character bigrams are at least half found in one raw message). Measured:
    818 segmented rows dropped; 691 of 731 raw messages had a twin."""
    raw = read("zh_teddycup_train_raw.csv")
    segmented = read("zh_teddycup_train_segmented.csv")
    twins = set(_twin_indices([r["text"] for r in raw], [r["text"] for r in segmented]))
    print(f"# chinese: dropped {len(twins)} segmented twins of raw rows", file=sys.stderr)
    return raw, [r for i, r in enumerate(segmented) if i not in twins]


def chinese(segmented: str = "join") -> tuple[Rows, list[bool]]:
    """Teddy Cup rows (raw + segmented, normalised) and a flag per row: is it raw text?

    The segmented file repeats most raw messages (segmented, stopwords removed): their twins are
    dropped (teddy_cup()), or the raw rows would be scored against their own twins.
    ``segmented="join"`` removes the spaces between words; ``"keep"`` leaves them to normalise().
    """
    raw_rows, seg_rows = teddy_cup()
    rows: Rows = [(normalise(r["text"]), r["label"]) for r in raw_rows]
    raw = [True] * len(rows)
    for r in seg_rows:
        text = r["text"].replace(" ", "") if segmented == "join" else r["text"]
        rows.append((normalise(text), r["label"]))
        raw.append(False)
    return rows, raw


# --------------------------------------------------------------------------- protocols


@dataclass
class Protocol:
    """Rows, the (train, test) index splits, and named subsets of rows to score."""

    rows: Rows
    splits: list[tuple[list[int], list[int]]]
    subsets: dict[str, list[int]]


def kfold(rows: Rows, strata: Sequence[str], k: int = 5) -> list[tuple[list[int], list[int]]]:
    """Stratified k-fold index splits (shuffled, seed 0)."""
    skf = StratifiedKFold(k, shuffle=True, random_state=0)
    return [(list(a), list(b)) for a, b in skf.split(rows, strata)]


def holdout(rows: Rows, strata: Sequence[str]) -> list[tuple[list[int], list[int]]]:
    """One stratified 80/20 split."""
    a, b = train_test_split(list(range(len(rows))), test_size=0.2, stratify=list(strata), random_state=0)
    return [(a, b)]


def en_time() -> Protocol:
    """English, train ≤ 2026-03, test later months."""
    en = english()
    rows = [(r["text"], r["label"]) for r in en]
    test = [i for i, r in enumerate(en) if r["month"] > "2026-03"]
    train = [i for i, r in enumerate(en) if r["month"] <= "2026-03"]
    return Protocol(rows, [(train, test)], {"en_later_months": test})


def en_holdout() -> Protocol:
    """English, stratified 80/20."""
    rows = [(r["text"], r["label"]) for r in english()]
    splits = holdout(rows, [y for _, y in rows])
    return Protocol(rows, splits, {"en_random_20pct": splits[0][1]})


def zh_cv(segmented: str = "join") -> Protocol:
    """Chinese, 5-fold CV over raw + segmented; scored on all rows and on raw rows."""
    rows, raw = chinese(segmented)
    everything = list(range(len(rows)))
    return Protocol(
        rows,
        kfold(rows, [y for _, y in rows]),
        {f"zh_all_{segmented}": everything, f"zh_raw_{segmented}": [i for i in everything if raw[i]]},
    )


def zh_holdout(twins: str = "drop") -> Protocol:
    """Chinese as the ``--write-splits`` stand-in: train on the segmented rows that are not twins of
    a raw message (words joined by normalise()), test on the 731 raw messages.

    ``twins="keep"`` (protocol ``zh_twins``) trains on every segmented row, the 818 near-twins of
    raw messages included: the other extreme, for a held-out split whose messages were posted
    again in the training data (the source repeats many messages).
    """
    if twins == "drop":
        raw, segmented = teddy_cup()
        subset = "zh_raw_messages"
    else:
        raw, segmented = read("zh_teddycup_train_raw.csv"), read("zh_teddycup_train_segmented.csv")
        subset = "zh_raw_messages_twins_in_training"
    rows: Rows = [(normalise(r["text"]), r["label"]) for r in segmented]
    n_train = len(rows)
    rows += [(normalise(r["text"]), r["label"]) for r in raw]
    test = list(range(n_train, len(rows)))
    return Protocol(rows, [(list(range(n_train)), test)], {subset: test})


def joint() -> Protocol:
    """English + Chinese in one model, stratified 80/20, scored per language."""
    en = [(r["text"], r["label"]) for r in english()]
    zh, _ = chinese()
    rows = en + zh
    lang = ["en"] * len(en) + ["zh"] * len(zh)
    splits = holdout(rows, [f"{g}/{y}" for (_, y), g in zip(rows, lang, strict=True)])
    test = splits[0][1]
    return Protocol(rows, splits, {f"joint_{g}": [i for i in test if lang[i] == g] for g in ("en", "zh")})


def small() -> Protocol:
    """Seed-sized data: 100 English + 100 Chinese per class (power has 56 Chinese), 5-fold CV."""
    rng = random.Random(0)
    en = [(r["text"], r["label"]) for r in english()]
    zh, _ = chinese()
    rows: Rows = []
    strata: list[str] = []
    for lab in LABELS:
        for name, pool in (("en", en), ("zh", zh)):
            mine = [r for r in pool if r[1] == lab]
            picked = rng.sample(mine, min(100, len(mine)))
            rows += picked
            strata += [f"{name}/{lab}"] * len(picked)
    return Protocol(rows, kfold(rows, strata), {"small_cv": list(range(len(rows)))})


def seed_cv() -> Protocol:
    """The shipped seed CSVs, 5-fold CV stratified by file and label."""
    rows: Rows = []
    strata: list[str] = []
    for path in seed_paths():
        for e in read_labelled_csv([path]):
            rows.append((normalise(e.text), e.label))
            strata.append(f"{path.stem}/{e.label}")
    if not rows:
        raise SystemExit("no seed CSVs in classify/seed/")
    return Protocol(rows, kfold(rows, strata), {"seed_cv": list(range(len(rows)))})


def write_splits(out_dir: Path) -> None:
    """Write the hold-out stand-ins as CSV files (text,label) for ``minsheng train`` / ``evaluate``.

    ``train.csv``: English up to 2026-03 plus the Chinese segmented rows that are not twins of a raw
    message, exactly as in the file (segmented, spaces kept: what ``minsheng train`` on the shared
    files sees). ``test_en.csv``: English 2026-04 … 2026-06. ``test_zh.csv``: the 731 raw Chinese
    messages (unsegmented, as a villager writes).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    en = read("en_fixmystreet_train.csv")
    raw, segmented = teddy_cup()
    parts = {
        "train.csv": [r for r in en if r["month"] <= "2026-03"] + segmented,
        "test_en.csv": [r for r in en if r["month"] > "2026-03"],
        "test_zh.csv": raw,
    }
    for name, rows in parts.items():
        with (out_dir / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            writer.writerows([r["text"], r["label"]] for r in rows)
        print(json.dumps({"file": str(out_dir / name), "rows": len(rows)}), flush=True)


PROTOCOLS: dict[str, Callable[[], Protocol]] = {
    "en_time": en_time,
    "en_holdout": en_holdout,
    "zh_cv": zh_cv,
    "zh_keep": lambda: zh_cv("keep"),
    "zh_holdout": zh_holdout,
    "zh_twins": lambda: zh_holdout("keep"),
    "joint": joint,
    "small": small,
    "seed_cv": seed_cv,
}

# --------------------------------------------------------------------------- metrics


def scores(y_true: Sequence[str], proba: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1, log-loss, Brier, ECE and mean confidence; ``proba`` columns in LABELS order."""
    pred = [LABELS[i] for i in proba.argmax(axis=1)]
    present = [lab for lab in LABELS if lab in set(y_true) | set(pred)]
    onehot = np.array([[1.0 if y == lab else 0.0 for lab in LABELS] for y in y_true])
    conf = proba.max(axis=1)
    correct = np.array([p == t for p, t in zip(pred, y_true, strict=True)], dtype=float)
    bins = np.minimum((conf * 15).astype(int), 14)
    ece = sum(
        abs(correct[bins == b].mean() - conf[bins == b].mean()) * (bins == b).mean()
        for b in range(15)
        if (bins == b).any()
    )
    four = [lab for lab in present if lab != "power"]
    out = {
        "n": len(y_true),
        "accuracy": accuracy_score(y_true, pred),
        "macro_f1": f1_score(y_true, pred, labels=present, average="macro", zero_division=0),
        "macro_f1_4": f1_score(y_true, pred, labels=four, average="macro", zero_division=0),
        "log_loss": -np.log(np.clip(proba[onehot == 1], 1e-15, 1)).mean(),
        "brier": ((proba - onehot) ** 2).sum(axis=1).mean(),
        "ece": ece,
        "mean_conf": conf.mean(),
    }
    return {k: v if isinstance(v, int) else round(float(v), 4) for k, v in out.items()}


# --------------------------------------------------------------------------- running


def run_product(protocol_name: str, proto: Protocol) -> None:
    """The product's own training (classify.model.fit_pipeline: one pipeline per script when both
    scripts have enough examples) on every split; one JSON line per subset."""
    texts = [t for t, _ in proto.rows]
    labels = [y for _, y in proto.rows]
    proba = np.full((len(texts), len(LABELS)), np.nan)
    seconds = 0.0
    for train_idx, test_idx in proto.splits:
        t0 = time.perf_counter()
        pipeline = fit_pipeline([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        seconds += time.perf_counter() - t0
        p = pipeline.predict_proba([texts[i] for i in test_idx])
        full = np.zeros((len(test_idx), len(LABELS)))
        full[:, [LABELS.index(c) for c in pipeline.classes_]] = p
        proba[test_idx] = full
    for subset, idx in proto.subsets.items():
        row = {
            "variant": "product",
            "protocol": protocol_name,
            "subset": subset,
            "fit_s": round(seconds / len(proto.splits), 1),
            **scores([labels[i] for i in idx], proba[idx]),
        }
        print(json.dumps(row, ensure_ascii=False), flush=True)


def run(protocol_name: str, variant_names: Sequence[str]) -> None:
    """Fit every variant on every split of one protocol and print one JSON line per (variant, subset)."""
    proto = PROTOCOLS[protocol_name]()
    texts = [t for t, _ in proto.rows]
    labels = [y for _, y in proto.rows]
    by_features: dict[str, list[str]] = {}
    for name in variant_names:
        if name == "product":
            run_product(protocol_name, proto)
            continue
        by_features.setdefault(VARIANTS[name][0], []).append(name)
    for feat_name, names in by_features.items():
        proba = {n: np.full((len(texts), len(LABELS)), np.nan) for n in names}
        seconds = {n: 0.0 for n in names}
        for train_idx, test_idx in proto.splits:
            t0 = time.perf_counter()
            feats = clone(FEATURES[feat_name]())
            x_train = feats.fit_transform([texts[i] for i in train_idx])
            feat_s = time.perf_counter() - t0
            x_test = feats.transform([texts[i] for i in test_idx])
            y_train = [labels[i] for i in train_idx]
            for n in names:
                if VARIANTS[n][1] == "chosen":  # its C depends on the training set's size
                    clf = build_pipeline(0, n_examples=len(train_idx)).named_steps["clf"]
                else:
                    clf = clone(CLASSIFIERS[VARIANTS[n][1]]())
                t0 = time.perf_counter()
                clf.fit(x_train, y_train)
                seconds[n] += feat_s + time.perf_counter() - t0
                p = clf.predict_proba(x_test)
                cols = [LABELS.index(c) for c in clf.classes_]
                full = np.zeros((len(test_idx), len(LABELS)))
                full[:, cols] = p
                proba[n][test_idx] = full
        for n in names:
            for subset, idx in proto.subsets.items():
                row = {
                    "variant": n,
                    "protocol": protocol_name,
                    "subset": subset,
                    "n_features": int(x_train.shape[1]),
                    "fit_s": round(seconds[n] / len(proto.splits), 1),
                    **scores([labels[i] for i in idx], proba[n][idx]),
                }
                print(json.dumps(row, ensure_ascii=False), flush=True)


DEFAULT_VARIANTS = [
    "product",
    "chosen",
    "baseline",
    "jn_letters_lr_c10",
    "jn_letters_svc_temp",
    "jn_letters_svc_temp_noens",
    "jn_letters_svc_sigmoid",
    "jn_letters_sgd_log",
    "wb14_svc_temp",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen variants under the chosen protocols."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", nargs="*", default=DEFAULT_VARIANTS, choices=[*VARIANTS, "product"])
    parser.add_argument(
        "--protocols", nargs="*", default=["seed_cv", "small", "zh_cv", "en_time"], choices=list(PROTOCOLS)
    )
    parser.add_argument("--list", action="store_true", help="list variants and exit")
    parser.add_argument(
        "--write-splits",
        type=Path,
        default=None,
        metavar="DIR",
        help="write train.csv, test_en.csv, test_zh.csv (the hold-out stand-ins) into DIR and exit",
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, (f, c) in VARIANTS.items():
            print(f"{name}: features={f} classifier={c}")
        return 0
    if not EVAL_TEXT.is_dir() and set(args.protocols) - {"seed_cv"}:
        print(
            f"evaluation data not found at {EVAL_TEXT}: this benchmark needs ../shared/eval/text "
            "(or MINSHENG_SHARED_EVAL pointing at the eval folder); only --protocols seed_cv runs without it",
            file=sys.stderr,
        )
        return 2
    if args.write_splits is not None:
        write_splits(args.write_splits)
        return 0
    for protocol in args.protocols:
        run(protocol, args.variants)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

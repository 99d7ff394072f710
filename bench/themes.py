"""Theme quality on FixMyStreet: clusters within each of our classes against ``source_category``.

Run from the repository root:

    nice -n 10 .venv-test/bin/python bench/themes.py                 # every method, a threshold sweep
    nice -n 10 .venv-test/bin/python bench/themes.py --per-class 400 --methods mixed_agglo_average

FixMyStreet's council category (634 of them, council-specific spellings such as "Fly Tipping" and
"Flytip") is a noisy proxy for "the same concrete issue" inside each of our five classes. For each
class a seeded random sample of ``--per-class`` reports is clustered; each row prints, per method and
distance threshold, NMI (arithmetic) and purity against ``source_category`` averaged over the classes
(weighted by sample size), AMI (adjusted for chance: NMI rises with the number of clusters even
for no grouping at all, so the best method is picked by AMI), the number of clusters, and coverage
(share of reports that land in a theme of at least two). Two reference rows: ``all_one`` (one
theme per class) and ``singletons`` (no grouping: purity 1 by construction, which is why purity
alone cannot pick a method). The best row is the highest AMI among those with at least
``--min-coverage`` (a grouping that leaves most reports alone helps nobody). Reads
../shared/eval/text by path (or $MINSHENG_SHARED_EVAL/text) and never copies it.

The ``meaning_*`` methods need every report's sentence vector (minutes on two cores for 3,000
reports); they are kept in ``--vectors`` (an .npz under var/, git-ignored) so a rerun reads them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.theme_variants import VARIANTS
from classify import meaning
from classify.themes import METHODS, ThemeOptions, cluster, effective_method

#: Thresholds swept per method family (cosine distance; the mixed similarity is tighter than n-grams').
THRESHOLDS = {
    "meaning": [0.8, 0.85, 0.88, 0.9, 0.92, 0.95],
    "other": [0.6, 0.7, 0.8, 0.85, 0.9, 0.95],
}

EVAL = Path(
    os.environ.get("MINSHENG_SHARED_EVAL", Path(__file__).resolve().parent.parent.parent / "shared" / "eval")
)


def purity(labels: list[int], truth: list[str]) -> float:
    """Share of items whose cluster's majority proxy label equals their own."""
    groups: dict[int, Counter[str]] = defaultdict(Counter)
    for label, true in zip(labels, truth, strict=True):
        groups[label][true] += 1
    return sum(c.most_common(1)[0][1] for c in groups.values()) / len(labels)


def coverage(labels: list[int]) -> float:
    """Share of items in a cluster of two or more."""
    sizes = Counter(labels)
    return sum(1 for label in labels if sizes[label] >= 2) / len(labels)


def load(per_class: int, seed: int) -> dict[str, tuple[list[str], list[str]]]:
    """class → (texts, source categories), a seeded sample per class."""
    path = EVAL / "text" / "en_fixmystreet_train.csv"
    if not path.is_file():
        sys.exit(f"evaluation data {path} is missing")
    rows: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["label"]].append((row["text"], row["source_category"]))
    rng = random.Random(seed)
    out = {}
    for label, items in sorted(rows.items()):
        sample = rng.sample(items, min(per_class, len(items)))
        out[label] = ([t for t, _ in sample], [c for _, c in sample])
    return out


class FileVectors:
    """A sentence-vector store in one .npz file (classify.meaning.VectorStore), for reruns of the bench."""

    def __init__(self, path: Path) -> None:
        """Read ``path`` if it exists."""
        self.path = path
        self.vectors: dict[str, bytes] = {}
        if path.is_file():
            with np.load(path) as stored:
                for key, row in zip(stored["keys"].tolist(), stored["vectors"], strict=True):
                    self.vectors[str(key)] = np.asarray(row, dtype="<f2").tobytes()
        self.changed = False

    def load(self, encoder_id: str, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored vectors among ``keys``."""
        return {k: self.vectors[f"{encoder_id}:{k}"] for k in keys if f"{encoder_id}:{k}" in self.vectors}

    def save(self, encoder_id: str, vectors: Mapping[str, bytes]) -> None:
        """Keep new vectors (written by ``flush``)."""
        for key, data in vectors.items():
            self.vectors.setdefault(f"{encoder_id}:{key}", bytes(data))
        self.changed = True

    def flush(self) -> None:
        """Write the file if anything was added."""
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.vectors)
        rows = np.stack([np.frombuffer(self.vectors[k], dtype="<f2") for k in keys])
        np.savez_compressed(self.path, keys=np.array(keys), vectors=rows)
        self.changed = False


def score(
    name: str,
    threshold: float | None,
    data: dict[str, tuple[list[str], list[str]]],
    fn: Callable[[list[str], list[str]], list[int]],
) -> dict[str, Any]:
    """Weighted mean NMI/AMI/purity over classes for one clustering function (texts, classes → labels)."""
    total = nmi = ami = pur = cov = 0.0
    clusters = 0
    started = time.perf_counter()
    per_class = {}
    all_texts = [t for texts, _ in data.values() for t in texts]
    all_classes = [label for label, (texts, _) in data.items() for _ in texts]
    all_labels = fn(all_texts, all_classes)
    at = 0
    for label, (texts, truth) in data.items():
        labels = all_labels[at : at + len(texts)]
        at += len(texts)
        n = len(texts)
        class_nmi = normalized_mutual_info_score(truth, labels)
        per_class[label] = round(class_nmi, 4)
        total += n
        nmi += class_nmi * n
        ami += adjusted_mutual_info_score(truth, labels) * n
        pur += purity(labels, truth) * n
        cov += coverage(labels) * n
        clusters += len(set(labels))
    return {
        "bench": "themes",
        "method": name,
        "distance_threshold": threshold,
        "nmi": round(nmi / total, 4),
        "ami": round(ami / total, 4),
        "purity": round(pur / total, 4),
        "coverage": round(cov / total, 4),
        "clusters": clusters,
        "items": int(total),
        "nmi_per_class": per_class,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    """Print one JSON line per method and threshold, then the best by AMI."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-class", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    parser.add_argument("--thresholds", nargs="*", type=float, help="default: a sweep per method family")
    parser.add_argument("--min-coverage", type=float, default=0.8)
    parser.add_argument("--vectors", type=Path, default=Path("var/bench/theme-vectors.npz"))
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also the variants tried and not kept (bench/theme_variants.py)",
    )
    args = parser.parse_args()
    data = load(args.per_class, args.seed)
    store = FileVectors(args.vectors)
    with meaning.kept_vectors(store):
        run(args, data, store)


def run(args: argparse.Namespace, data: dict[str, tuple[list[str], list[str]]], store: FileVectors) -> None:
    """The reference rows, every method at every threshold, and the best row."""
    rows = [
        score("all_one", None, data, lambda texts, _: [0] * len(texts)),
        score("singletons", None, data, lambda texts, _: list(range(len(texts)))),
    ]
    for row in rows:
        print(json.dumps(row), flush=True)
    best = None
    measured: dict[tuple[str, float | None], dict[str, Any]] = {}
    for method in args.methods:
        if effective_method(method) != method:
            print(json.dumps({"bench": "themes", "method": method, "skipped": meaning.unavailable_reason()}))
            continue
        family = "meaning" if method.startswith("meaning") else "other"
        thresholds = args.thresholds or THRESHOLDS[family]
        for threshold in thresholds[:1] if method.endswith("hdbscan") else thresholds:  # no threshold
            options = ThemeOptions(method=method, distance_threshold=threshold)
            row = score(method, threshold, data, lambda texts, classes, o=options: cluster(texts, o, classes))  # type: ignore[misc]
            store.flush()
            measured[(method, threshold)] = row
            print(json.dumps(row), flush=True)
            if row["coverage"] >= args.min_coverage and (best is None or row["ami"] > best["ami"]):
                best = row
    if args.variants:
        for name, grouping in VARIANTS.items():
            try:
                row = score(name, None, data, per_class_grouping(grouping))
            except ImportError as missing:
                print(json.dumps({"bench": "themes", "variant": name, "skipped": str(missing)}))
                continue
            store.flush()
            print(json.dumps({**row, "variant": True}), flush=True)
    if best is not None:
        print(
            json.dumps(
                {
                    "bench": "themes",
                    "best": best["method"],
                    "distance_threshold": best["distance_threshold"],
                    "nmi": best["nmi"],
                    "ami": best["ami"],
                    "purity": best["purity"],
                    "coverage": best["coverage"],
                    "min_coverage": args.min_coverage,
                }
            )
        )
    print(json.dumps(side_by_side(data, measured)), flush=True)


def per_class_grouping(
    grouping: Callable[[Sequence[str]], list[int]],
) -> Callable[[list[str], list[str]], list[int]]:
    """A variant run within each class, labels made unique across classes (as ``cluster`` does)."""

    def run(texts: list[str], classes: list[str]) -> list[int]:
        labels = [0] * len(texts)
        offset = 0
        for key in sorted(set(classes)):
            rows = [i for i, c in enumerate(classes) if c == key]
            found = grouping([texts[i] for i in rows])
            for row, label in zip(rows, found, strict=True):
                labels[row] = offset + label
            offset += max(found) + 1
        return labels

    return run


#: The product's earlier settings, measured again for the side-by-side line: (what, method, threshold).
EARLIER = (
    ("before issue 23", "mixed_agglo_average", 0.85),
    ("issue 23, first pass", "meaning_mixed_agglo_average", 0.9),
)
FIGURES = ("ami", "nmi", "purity", "coverage", "clusters")


def side_by_side(
    data: dict[str, tuple[list[str], list[str]]], measured: dict[tuple[str, float | None], dict[str, Any]]
) -> dict[str, Any]:
    """The earlier settings and the product's default now, each measured on this sample (reusing a
    row of the sweep where there is one)."""
    now = ThemeOptions()
    out: dict[str, Any] = {"bench": "themes", "side_by_side": []}
    for what, method, threshold in (*EARLIER, ("now (the default)", now.method, now.distance_threshold)):
        if effective_method(method) != method:
            continue
        row = measured.get((method, threshold))
        if row is None:
            options = ThemeOptions(method=method, distance_threshold=threshold)
            row = score(method, threshold, data, lambda texts, classes, o=options: cluster(texts, o, classes))  # type: ignore[misc]
        out["side_by_side"].append(
            {"which": what, "method": method, "distance_threshold": threshold, **{k: row[k] for k in FIGURES}}
        )
    return out


if __name__ == "__main__":
    main()

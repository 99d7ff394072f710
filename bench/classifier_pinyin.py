"""Voice → category with and without pinyin features: does the classifier survive sound-alike errors?

Usage (from the repository root; pypinyin must be importable)::

    .venv/bin/python bench/classifier_pinyin.py TRANSCRIPTS.jsonl [--variant base]

TRANSCRIPTS.jsonl is ``bench/asr_levers.py --texts-out`` output; the ``voice`` line of ``--variant``
gives the machine's transcript of each ../shared/eval/voice/zh note (the product's settings when
the variant is ``base``). The product's classifier (classify.train.train on the shipped seed) is
trained twice: as built, and with one more block beside its character and word n-grams, TF-IDF of
toneless pinyin syllable 1-2-grams of the Chinese characters (sound-alike substitutions such as
本市→本事 keep them). Both are scored by macro-F1 over the voice notes' labels, on the transcripts
and on the written texts. One JSON line per model and input.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.asr import _emit  # noqa: E402

VOICE = REPO.parent / "shared" / "eval" / "voice" / "zh" / "labels.tsv"


def pinyin_grams(text: str) -> list[str]:
    """Toneless pinyin syllables of the Chinese characters of ``text``, as 1- and 2-grams
    (a run of other characters breaks the chain); "_" alone for a text without Chinese, so the
    block also fits the English model, where it carries nothing."""
    from pypinyin import Style, lazy_pinyin

    grams: list[str] = []
    for run in _han_runs(text):
        syllables = lazy_pinyin(run, style=Style.NORMAL, errors="ignore")
        grams += syllables + [a + "_" + b for a, b in itertools.pairwise(syllables)]
    return grams or ["_"]


def _han_runs(text: str) -> list[str]:
    from intake.charlm import han_runs

    return han_runs(text)


@contextmanager
def pinyin_block(weight: float) -> Iterator[None]:
    """While active, classify.model.build_pipeline adds the pinyin block to the n-gram union."""
    import numpy as np

    import classify.model as cm

    original = cm.build_pipeline

    def build(random_state: int = 0, n_examples: int | None = None) -> Any:
        pipeline = original(random_state, n_examples)
        text = dict(pipeline.named_steps["features"].transformer_list)["text"]
        union = text.named_steps["tfidf"]
        vectorizer = cm.CompactTfidfVectorizer(
            analyzer=pinyin_grams, sublinear_tf=True, min_df=2, norm=None, dtype=np.float32
        )
        union.transformer_list.append(("pinyin", vectorizer))
        union.transformer_weights = {"char": 1.0, "word": 1.0, "pinyin": weight}
        return pipeline

    cm.build_pipeline = build
    try:
        yield
    finally:
        cm.build_pipeline = original


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    """Macro-F1 over the labels that occur in ``truth``."""
    from sklearn.metrics import f1_score

    return round(float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro")), 4)


def main(argv: list[str] | None = None) -> int:
    """Read transcripts, train both models, print the scores; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("transcripts", type=Path)
    parser.add_argument("--variant", default="base")
    parser.add_argument("--weights", default="0.5,1.0", help="pinyin block weights to try")
    args = parser.parse_args(argv)
    if not VOICE.exists():
        print(f"no voice notes at {VOICE}", file=sys.stderr)
        return 2
    with VOICE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    heard: dict[str, str] | None = None
    for line in args.transcripts.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("set") == "voice" and record.get("variant") == args.variant:
            heard = record["texts"]
    if heard is None:
        print(f"no voice transcripts of variant {args.variant} in {args.transcripts}", file=sys.stderr)
        return 2
    rows = [r for r in rows if r["file"] in heard]
    truth = [r["label"] for r in rows]
    inputs = {"transcript": [heard[r["file"]] for r in rows], "written": [r["text"] for r in rows]}

    from classify.train import read_labelled_csv, seed_paths, train

    examples = read_labelled_csv(seed_paths())
    models: dict[str, Any] = {"product": train(examples)}
    for weight in (float(w) for w in args.weights.split(",")):
        with pinyin_block(weight):
            models[f"product+pinyin_{weight}"] = train(examples)
    for name, model in models.items():
        for kind, texts in inputs.items():
            predicted = [p.label for p in model.predict(texts)]
            right = sum(a == b for a, b in zip(truth, predicted, strict=True))
            _emit({"model": name, "input": kind, "notes": len(rows), "macro_f1": macro_f1(truth, predicted),
                   "accuracy": round(right / len(rows), 4)})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

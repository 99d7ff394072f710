"""How many voice notes Whisper cannot follow get routed, and how many clean ones go to review,
before and after the doubts of intake.understanding.

Usage (from the repository root)::

    nice -n 10 .venv-test/bin/python bench/unclear_speech.py [--eval ../shared/eval] [--limit N]

Each clip of ``speech_wu`` (Wu dialect) and ``voice/zh``, ``voice/en`` (clean civic notes) is
transcribed as the worker does (faster-whisper base, int8, language left to the recogniser), and
classified by the seed model the product trains on first start (on a fresh SQLite database). A
note goes to review when the routing policy finds a reason (intake.pipeline.RoutingPolicy: the
transcript's doubts, then the classifier's confidence; every category has a department in the
default directory). "before" is the policy with only the transcript-confidence floor, "after"
the product's default. One JSON line per set (with voice -> category macro-F1 where the set has
labels), then a summary line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SETS = ("speech_wu", "voice/zh", "voice/en")


def _labels(root: Path, name: str) -> dict[str, str]:
    """The category of each clip of a set, where its labels.tsv gives one."""
    labels = root / name / "labels.tsv"
    if not labels.is_file():
        return {}
    with labels.open(encoding="utf-8") as fh:
        return {row["file"]: row["label"] for row in csv.DictReader(fh, delimiter="\t") if row.get("label")}


def _clips(root: Path, name: str, limit: int | None) -> list[Path]:
    folder = root / name
    labels = folder / "labels.tsv"
    if labels.is_file():
        with labels.open(encoding="utf-8") as fh:
            files = sorted(folder / row["file"] for row in csv.DictReader(fh, delimiter="\t"))
    else:
        files = sorted(p for p in folder.iterdir() if p.suffix in {".wav", ".webm", ".ogg"})
    return files[:limit] if limit else files


def main() -> int:
    """Transcribe, classify and judge every clip; print the counts before and after."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--limit", type=int, default=None, help="clips per set (default all)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from sklearn.metrics import f1_score

    from classify.registry import ClassifierRegistry
    from intake.audio import load_audio
    from intake.engines import build_transcriber
    from intake.pipeline import RoutingPolicy
    from intake.understanding import doubts
    from models.db import make_engine, make_session_factory, upgrade

    policy = RoutingPolicy()
    after = policy.understanding
    before = replace(after, min_language_probability={}, min_token_probability={}, check_script=False)
    with tempfile.TemporaryDirectory(prefix="minsheng-unclear-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        registry = ClassifierRegistry(make_session_factory(engine), Path(tmp) / "classifiers")
        registry.ensure_active()
        _, classifier = registry.active()
        transcriber = build_transcriber("faster-whisper", Path(tmp) / "weights", threads=args.threads)
        summary: dict[str, Any] = {"bench": "unclear_speech", "policy": asdict(after)}
        for name in SETS:
            clips = _clips(args.eval, name, args.limit)
            review = {"before": 0, "after": 0}
            truth = _labels(args.eval, name)
            gold: list[str] = []
            predicted: list[str] = []
            started = time.perf_counter()
            for clip in clips:
                heard = transcriber.transcribe(load_audio(clip).samples, None)
                prediction = classifier.predict([heard.text])[0] if heard.text else None
                confident = (
                    prediction is not None and prediction.confidence >= policy.min_classifier_confidence
                )
                if clip.name in truth:
                    gold.append(truth[clip.name])
                    predicted.append(prediction.label if prediction is not None else "other")
                fields: dict[str, Any] = dict(
                    text=heard.text,
                    language=heard.language,
                    language_probability=heard.language_probability,
                    confidence=heard.confidence,
                    segments=[asdict(s) for s in heard.segments],
                )
                for label, understanding in (("before", before), ("after", after)):
                    if not heard.text or not confident or doubts(understanding, **fields):
                        review[label] += 1
            n = len(clips)
            line = {
                "set": name,
                "clips": n,
                "routed_before": n - review["before"],
                "routed_after": n - review["after"],
                "review_rate_before": round(review["before"] / n, 4) if n else None,
                "review_rate_after": round(review["after"] / n, 4) if n else None,
                "seconds": round(time.perf_counter() - started, 1),
            }
            if gold:  # voice -> category, as the worker hears and classifies each note
                line["category_macro_f1"] = round(float(f1_score(gold, predicted, average="macro")), 4)
                line["category_accuracy"] = round(
                    sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold), 4
                )
            print(json.dumps(line), flush=True)
            summary[name] = line
        engine.dispose()
    print(json.dumps(summary, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

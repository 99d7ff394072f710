"""How fast the classifier trains and answers, and how big it is; prints one JSON line per measurement.

Run from the repository root (it reads ../shared/eval by path, or $MINSHENG_SHARED_EVAL):

    nice -n 10 .venv-test/bin/python bench/classifier_speed.py             # the goals' sizes (an hour or so)
    nice -n 10 .venv-test/bin/python bench/classifier_speed.py --quick     # smaller sets (minutes)
    nice -n 10 .venv-test/bin/python bench/classifier_speed.py --quick --baseline DIR   # and the code in DIR

Steps (``--only`` picks some):

- ``embed`` (only when named): every distinct text of the sets embedded once into the vector cache
  (``--work``'s vectors.sqlite), timed on its own; the train step then runs only with it cached.
  ``--placeholder-vectors`` fills the cache with vectors drawn from each text's hash instead (where
  embedding 30,000 texts takes too long): the other steps' times, memory and sizes hold, their
  macro-F1 does not.

- ``train``: ``minsheng train`` as a subprocess on the English file (21,015 reports) and on the Chinese
  files (raw + segmented, 8,980 messages): first with an empty ``--vector-cache`` (every text
  embedded), then again with it (nothing embedded). Wall time, peak resident memory (``os.wait4``),
  artefact size and the metrics the command prints. With ``--baseline DIR`` the same commands also
  run from that checkout (``git worktree add DIR <commit>``), which embeds every text every time
  (``--baseline-steps`` picks which steps it runs).
- ``latency``: a model trained on 30,000 texts (English + Chinese, the vectors already cached); in a
  subprocess on one thread (OMP/OPENBLAS/MKL_NUM_THREADS=1) it classifies the shared voice notes'
  texts one at a time: with the note's vector in memory (the classifier's own work) and embedded
  afresh (a new note). Load time (file to first prediction ready) too. ``--baseline-model`` names
  a model saved by the baseline code to measure the same way with that code.
- ``retrain``: a data folder whose database holds 20,000 imported texts, 2,000 reviewed suggestions
  and 5,000 open ones, the seed model active; the product's retrain job (``minsheng retrain``'s
  path: request, job, Learner.execute), with the re-classification of the open suggestions after the
  promotion timed on its own. The sentence vectors are copied into the database's cache from the
  train step's first: they were embedded once there, as the product embeds each text once ever.

``--quick`` uses every 7th English and every 3rd Chinese row, a 6,000-text model and 3,000 / 500 /
1,000 texts for the retrain. Timings are wall-clock on whatever else the machine is doing: compare
lines of one run (``load`` gives the load average at the start of each step).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MINSHENG_SHARED_EVAL", REPO.parent / "shared" / "eval"))
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout."""
    print(json.dumps({"bench": "classifier_speed", **record}, ensure_ascii=False), flush=True)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def read_rows(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [(r["text"], r["label"]) for r in csv.DictReader(f) if (r.get("text") or "").strip()]


def write_rows(path: Path, rows: Sequence[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def datasets(work: Path, quick: bool) -> dict[str, Path]:
    """The training sets as CSV files: en, zh, and both together (the latency model's)."""
    text = SHARED / "text"
    en = read_rows(text / "en_fixmystreet_train.csv")
    zh = read_rows(text / "zh_teddycup_train_raw.csv") + read_rows(text / "zh_teddycup_train_segmented.csv")
    if quick:
        en, zh = en[::7], zh[::3]
    both = en + zh
    if quick:
        both = both[:6000]
    return {
        "en": write_rows(work / "en.csv", en),
        "zh": write_rows(work / "zh.csv", zh),
        "both": write_rows(work / "both.csv", both),
    }


def run_measured(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command``; its wall seconds, peak resident MB, exit code and stdout lines."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = out.read().decode("utf-8", "replace").splitlines()
        error = err.read().decode("utf-8", "replace")[-2000:]
    result: dict[str, Any] = {
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),  # the machine is shared: CPU time too
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "rc": proc.returncode,
    }
    if proc.returncode != 0:
        result["stderr"] = error
    result["lines"] = lines
    return result


def artefact_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def train_step(
    data: Path, name: str, code: Path, work: Path, cache: Path | None, label: str
) -> dict[str, Any] | None:
    """One ``minsheng train`` run; emits and returns its line."""
    out = work / f"model-{name}-{label}"
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "api.cli", "train", "--data", str(data), "--out", str(out)]
    if cache is not None:
        command += ["--vector-cache", str(cache)]
    elif os.environ.get("MINSHENG_BENCH_PLACEHOLDER") == "1":  # --placeholder-vectors, no cache
        command = [str(Path(__file__).resolve()), "--placeholder-train", str(code), *command[4:]]
        command.insert(0, sys.executable)
    load = load_average()
    result = run_measured(command, code)
    lines = result.pop("lines")
    record: dict[str, Any] = {"step": "train", "data": name, "code": label, "load": load, **result}
    if result["rc"] == 0:
        printed = json.loads(lines[-1])
        record.update(
            n=printed["n_examples"],
            artefact_mb=artefact_mb(out),
            macro_f1=printed["metrics"].get("macro_f1"),
        )
        metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
        record["metrics_method"] = metadata.get("metrics_method")
    emit(record)
    return record if result["rc"] == 0 else None


def embed_worker(cache: Path, paths: Sequence[Path], placeholder: bool = False) -> int:
    """(Subprocess.) Put the vector of every distinct text of ``paths`` into ``cache``; one JSON line.

    ``placeholder``: store a unit vector drawn from each text's sha256 instead of running the
    encoder, where embedding every text would take too long: the later steps then cost what they
    cost with real vectors (same shapes), but their macro-F1 says nothing.
    """
    sys.path.insert(0, str(REPO))
    import numpy as np

    from classify.meaning import DIMENSIONS, ENCODER_ID, encoder, kept_vectors, vector_key
    from classify.text import normalise
    from classify.vector_store import vector_file

    texts = list(dict.fromkeys(normalise(t) for path in paths for t, _ in read_rows(path)))
    started = time.perf_counter()
    store = vector_file(cache)
    if placeholder:
        for start in range(0, len(texts), 2048):
            vectors = {}
            for text in texts[start : start + 2048]:
                key = vector_key(text)
                vector = np.random.default_rng(int(key[:16], 16)).normal(size=DIMENSIONS)
                vectors[key] = (vector / np.linalg.norm(vector)).astype("<f2").tobytes()
            store.save(ENCODER_ID, vectors)
    else:
        with kept_vectors(store):
            for start in range(0, len(texts), 2048):
                encoder().encode(texts[start : start + 2048])
    seconds = time.perf_counter() - started
    embedded = 0 if placeholder else encoder().embedded
    print(json.dumps({"texts": len(texts), "embedded": embedded, "embed_s": round(seconds, 1)}))
    return 0


def placeholder_train_worker(code: Path, args: Sequence[str]) -> int:
    """(Subprocess.) ``minsheng train ARGS`` with the code in ``code``, its encoder answering with the
    embed step's hash-drawn vectors (no encoder run, no cache): old and new code compared on the
    same vectors, the embedding left out of both."""
    sys.path.insert(0, str(code))
    import numpy as np

    from api.cli import main as cli_main
    from classify import meaning

    def encode(self: Any, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), meaning.DIMENSIONS), dtype=np.float32)
        for i, text in enumerate(texts):
            key = meaning.vector_key(text)
            vector = np.random.default_rng(int(key[:16], 16)).normal(size=meaning.DIMENSIONS)
            out[i] = (vector / np.linalg.norm(vector)).astype("<f2")
        return out

    meaning.SentenceEncoder.encode = encode  # type: ignore[method-assign]  # the bench's stand-in
    return int(cli_main(["train", *args]))


def embed_step(cache: Path, paths: Sequence[Path], placeholder: bool) -> None:
    """Embed every distinct text of ``paths`` once into ``cache`` (what the first training on them pays)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--embed-worker", str(cache), *map(str, paths)]
    load = load_average()
    result = run_measured(command, REPO, {"MINSHENG_BENCH_PLACEHOLDER": "1"} if placeholder else None)
    lines = result.pop("lines")
    record: dict[str, Any] = {"step": "embed", "load": load, "placeholder_vectors": placeholder, **result}
    if result["rc"] == 0:
        record.update(json.loads(lines[-1]))
    emit(record)


def notes() -> list[str]:
    """The shared voice notes' texts (what a villager says in a note), English and Chinese."""
    out = []
    for lang in ("en", "zh"):
        with (SHARED / "voice" / lang / "labels.tsv").open(encoding="utf-8", newline="") as f:
            out += [row["text"] for row in csv.DictReader(f, delimiter="\t") if row["text"].strip()]
    return out


def latency_worker(model: Path, notes_file: Path) -> int:
    """(Subprocess, one thread.) Load ``model`` and classify each note alone; print one JSON line."""
    code = os.environ.get("MINSHENG_BENCH_CODE")
    sys.path.insert(0, code or str(REPO))
    import numpy as np

    from classify.model import Classifier

    texts = json.loads(notes_file.read_text(encoding="utf-8"))
    started = time.perf_counter()
    classifier = Classifier.load(model)
    prepare = getattr(classifier, "prepare", None)
    if prepare is not None:
        prepare()
    classifier.predict(["warm up the encoder and the caches"])
    load_s = time.perf_counter() - started
    fresh, cached, fresh_cpu, cached_cpu = [], [], [], []
    for text in texts:
        # CPU time too (one thread: the time one core spends), as the wall time on a shared
        # machine includes waiting for the core.
        t0, c0 = time.perf_counter(), time.process_time()
        classifier.predict([text])  # a new note: embedded now
        t1, c1 = time.perf_counter(), time.process_time()
        for _ in range(3):
            classifier.predict([text])  # the same note again: its vector is remembered
        t2, c2 = time.perf_counter(), time.process_time()
        fresh.append(t1 - t0)
        cached.append((t2 - t1) / 3)
        fresh_cpu.append(c1 - c0)
        cached_cpu.append((c2 - c1) / 3)

    def ms(values: list[float], q: float) -> float:
        return round(float(np.percentile(values, q)) * 1000, 1)

    print(
        json.dumps(
            {
                "notes": len(texts),
                "load_s": round(load_s, 1),
                "cached_p50_ms": ms(cached, 50),
                "cached_p95_ms": ms(cached, 95),
                "fresh_p50_ms": ms(fresh, 50),
                "fresh_p95_ms": ms(fresh, 95),
                "cached_cpu_p50_ms": ms(cached_cpu, 50),
                "cached_cpu_p95_ms": ms(cached_cpu, 95),
                "fresh_cpu_p50_ms": ms(fresh_cpu, 50),
                "fresh_cpu_p95_ms": ms(fresh_cpu, 95),
            }
        ),
        flush=True,
    )
    return 0


def latency_step(model: Path, work: Path, code: Path, label: str, n_train: int | None) -> None:
    notes_file = work / "notes.json"
    notes_file.write_text(json.dumps(notes(), ensure_ascii=False), encoding="utf-8")
    command = [sys.executable, str(Path(__file__).resolve()), "--latency-worker", str(model), str(notes_file)]
    load = load_average()
    result = run_measured(command, REPO, {**ONE_THREAD, "MINSHENG_BENCH_CODE": str(code)})
    lines = result.pop("lines")
    record: dict[str, Any] = {
        "step": "latency",
        "code": label,
        "n_train": n_train,
        "threads": 1,
        "load": load,
    }
    record.update(result)
    if result["rc"] == 0:
        record.update(json.loads(lines[-1]))
        record["artefact_mb"] = artefact_mb(model)
    emit(record)


def retrain_worker(work: Path, vector_cache: Path, sizes: tuple[int, int, int]) -> int:
    """(Subprocess.) Build the data folder, run the product's retrain job; print JSON lines."""
    sys.path.insert(0, str(REPO))
    from sqlalchemy import text as sql

    from api.context import build_context
    from api.settings import Settings
    from classify.meaning import ENCODER_ID
    from classify.vector_store import vector_file
    from models.db import unit_of_work
    from models.reviews import embedding_cache
    from models.reviews import queries as rq
    from models.suggestions import queries
    from models.vocabulary import Status

    n_imported, n_reviewed, n_open = sizes
    text = SHARED / "text"
    rows = read_rows(text / "en_fixmystreet_train.csv") + read_rows(text / "zh_teddycup_train_raw.csv")
    rows += read_rows(text / "zh_teddycup_train_segmented.csv")
    rows = list({t.strip(): (t, label) for t, label in rows}.values())
    random.Random(0).shuffle(rows)
    imported, reviewed = rows[:n_imported], rows[n_imported : n_imported + n_reviewed]
    open_ = rows[n_imported + n_reviewed : n_imported + n_reviewed + n_open]

    started = time.perf_counter()
    settings = Settings(data_dir=work / "var", worker_enabled=False, retrain_after_reviews=0)
    context = build_context(settings)
    source = vector_file(vector_cache)
    with unit_of_work(source.factory) as session:
        keys = [r[0] for r in session.execute(sql("SELECT text_sha256 FROM embedding_cache"))]
    copied = 0
    for start in range(0, len(keys), 2000):
        vectors = source.load(ENCODER_ID, keys[start : start + 2000])
        with unit_of_work(context.factory) as session:
            embedding_cache.put_vectors(session, ENCODER_ID, vectors)
        copied += len(vectors)
    context.learner.import_csv([write_rows(work / "imported.csv", imported)])
    _, seed_model = context.classifiers.active()
    ids: list[int] = []
    labels: dict[int, str] = {}
    for start in range(0, len(reviewed) + len(open_), 500):
        part = (reviewed + open_)[start : start + 500]
        predictions = seed_model.predict([t for t, _ in part])  # as intake classified them
        with unit_of_work(context.factory) as session:
            for (note, label), prediction in zip(part, predictions, strict=True):
                suggestion = queries.create_suggestion(
                    session,
                    status=Status.ROUTED,
                    actor="bench",
                    channel="text",
                    text=note,
                    category=prediction.label,
                    category_source="model",
                    confidence=prediction.confidence,
                )
                ids.append(suggestion.id)
                labels[suggestion.id] = label
    for suggestion_id in ids[: len(reviewed)]:
        with unit_of_work(context.factory) as session:
            context.learner.review(
                session, suggestion_id, reviewer="bench", category=labels[suggestion_id], transcript=None
            )
    setup_s = time.perf_counter() - started

    learner = context.learner
    reclassify = learner.reclassify_open
    timing: dict[str, float] = {}

    def timed_reclassify(run_id: int | None = None) -> int:
        t0 = time.perf_counter()
        try:
            return reclassify(run_id=run_id)
        finally:
            timing["reclassify_s"] = time.perf_counter() - t0

    learner.reclassify_open = timed_reclassify  # type: ignore[method-assign]  # timing only
    with unit_of_work(context.factory) as session:
        run, _ = learner.request_retrain(session, trigger="cli", requested_by="bench")
        run_id = run.id
    t0 = time.perf_counter()
    context.runner.drain()
    total = time.perf_counter() - t0
    with unit_of_work(context.factory) as session:
        run = rq.get_run(session, run_id)
        state, reclassified = run.state, run.reclassified
        candidate_f1 = run.candidate_metrics.get("macro_f1")
        baseline_f1 = run.baseline_metrics.get("macro_f1")
        open_now = len(rq.reclassifiable(session))
    reclassify_s = timing.get("reclassify_s", 0.0)
    print(
        json.dumps(
            {
                "imported": len(imported),
                "reviewed": len(reviewed),
                "open": open_now,
                "vectors_copied": copied,
                "setup_s": round(setup_s, 1),
                "state": state,
                "candidate_f1": candidate_f1,
                "active_f1": baseline_f1,
                "retrain_s": round(total - reclassify_s, 1),
                "reclassify_s": round(reclassify_s, 1),
                "reclassified_changed": reclassified,
            }
        ),
        flush=True,
    )
    context.engine.dispose()
    return 0


def retrain_step(work: Path, vector_cache: Path, sizes: tuple[int, int, int]) -> None:
    folder = work / "retrain"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--retrain-worker",
        str(folder),
        str(vector_cache),
    ]
    command += [str(n) for n in sizes]
    load = load_average()
    result = run_measured(command, REPO)
    lines = result.pop("lines")
    record: dict[str, Any] = {
        "step": "retrain",
        "load": load,
        "process_wall_s": result.pop("wall_s"),
        **result,
    }
    if result["rc"] == 0:
        record.update(json.loads(lines[-1]))
    emit(record)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the steps and print their lines."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sets")
    parser.add_argument("--baseline", type=Path, help="also run the code in this checkout")
    parser.add_argument(
        "--baseline-steps", default="train,latency", help="steps the baseline code runs too (train, latency)"
    )
    parser.add_argument(
        "--baseline-model", type=Path, help="a model the baseline code saved: its latency too"
    )
    parser.add_argument("--only", default="train,latency,retrain", help="steps, comma-separated")
    parser.add_argument("--data", default="en,zh", help="training sets the train step uses (en, zh)")
    parser.add_argument(
        "--placeholder-vectors",
        action="store_true",
        help="embed step: hash-drawn vectors instead of the encoder (timings only; macro-F1 meaningless)",
    )
    parser.add_argument("--work", type=Path, help="keep the files here (default: a temporary folder)")
    parser.add_argument(
        "--latency-worker", nargs=2, type=Path, metavar=("MODEL", "NOTES"), help=argparse.SUPPRESS
    )
    parser.add_argument("--retrain-worker", nargs=5, metavar="ARG", help=argparse.SUPPRESS)
    parser.add_argument("--embed-worker", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    parser.add_argument("--placeholder-train", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.placeholder_train:
        return placeholder_train_worker(Path(args.placeholder_train[0]), args.placeholder_train[1:])
    if args.embed_worker:
        cache_file, *csv_files = args.embed_worker
        placeholder = os.environ.get("MINSHENG_BENCH_PLACEHOLDER") == "1"
        return embed_worker(Path(cache_file), [Path(f) for f in csv_files], placeholder)
    if args.latency_worker:
        return latency_worker(*args.latency_worker)
    if args.retrain_worker:
        folder, cache, *sizes = args.retrain_worker
        return retrain_worker(Path(folder), Path(cache), (int(sizes[0]), int(sizes[1]), int(sizes[2])))
    if not (SHARED / "text").is_dir():
        print(f"evaluation data not found at {SHARED}: set MINSHENG_SHARED_EVAL", file=sys.stderr)
        return 2
    if args.placeholder_vectors:
        os.environ["MINSHENG_BENCH_PLACEHOLDER"] = "1"  # the baseline's train runs on them too
    steps = set(args.only.split(","))
    baseline_steps = set(args.baseline_steps.split(",")) if args.baseline is not None else set()
    work = args.work or Path(tempfile.mkdtemp(prefix="minsheng-classifier-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "vectors.sqlite"
    data = datasets(work, args.quick)
    try:
        if "embed" in steps:
            embed_step(cache, [data["en"], data["zh"], data["both"]], args.placeholder_vectors)
        if "train" in steps:
            for name in args.data.split(","):
                if args.baseline is not None and "train" in baseline_steps:
                    train_step(data[name], name, args.baseline, work, None, "baseline")
                if "embed" not in steps:  # else the embed step has just filled the cache
                    train_step(data[name], name, REPO, work, cache, "new, vectors not cached")
                train_step(data[name], name, REPO, work, cache, "new, vectors cached")
        if "latency" in steps:
            n_both = sum(1 for _ in read_rows(data["both"]))
            trained = train_step(data["both"], "both", REPO, work, cache, "new")
            if trained is not None:
                latency_step(work / "model-both-new", work, REPO, "new", n_both)
            if args.baseline is not None and "latency" in baseline_steps and args.baseline_model is not None:
                latency_step(args.baseline_model, work, args.baseline, "baseline", None)
        if "retrain" in steps:
            sizes = (3000, 500, 1000) if args.quick else (20_000, 2_000, 5_000)
            retrain_step(work, cache, sizes)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

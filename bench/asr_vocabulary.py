"""Replay clerks' corrections into the township vocabulary and measure what it does to recognition.

Usage (from the repository root)::

    .venv/bin/python bench/asr_vocabulary.py [FOLDER ...] [--limit N] [--seed S] [--threads T]

For each FOLDER (default ``../shared/eval/speech_real/zh`` and ``../shared/eval/voice/zh``) the clips
with a reference are split into two halves by a fixed seed. The first half is transcribed and each
reference is recorded as a clerk's correction of its transcript (models.township, on a throwaway
SQLite database); the second half is then transcribed without the vocabulary, with it as
faster-whisper hotwords and with it as the initial prompt (faster-whisper int8, Mandarin forced).
One JSON line per held-out clip, then a summary line per folder with the mean CER of each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.asr import Clip, _emit, error_rate, find_clips  # noqa: E402

DEFAULT_FOLDERS = (REPO.parent / "shared/eval/speech_real/zh", REPO.parent / "shared/eval/voice/zh")
MODES = ("none", "hotwords", "prompt")


def split(clips: list[Clip], seed: int) -> tuple[list[Clip], list[Clip]]:
    """(corrected half, held-out half) of the clips with a reference, shuffled by ``seed``."""
    with_ref = [c for c in clips if c.reference]
    random.Random(seed).shuffle(with_ref)
    half = len(with_ref) // 2
    return with_ref[:half], with_ref[half:]


def run_folder(folder: Path, transcribers: dict[str, Any], limit: int | None, seed: int) -> dict[str, Any]:
    """Correct the first half, transcribe the second three ways; returns the summary line."""
    from intake.audio import AudioLimits, load_audio
    from models.base import Base
    from models.db import make_engine, make_session_factory, unit_of_work
    from models.township import queries as township

    clips = find_clips(folder)[:limit] if limit else find_clips(folder)
    taught, held_out = split(clips, seed)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/vocabulary.db")
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        now = datetime.now(UTC)
        for clip in taught:
            heard = transcribers["none"].transcribe(load_audio(clip.path, AudioLimits()).samples, "zh").text
            with unit_of_work(factory) as session:
                township.learn_from_correction(session, heard, clip.reference or "", now)
        with unit_of_work(factory) as session:
            hint = township.recognition_hint(session)
            terms = len(township.terms(session))
        engine.dispose()
    errors: dict[str, list[float]] = {mode: [] for mode in MODES}
    for clip in held_out:
        audio = load_audio(clip.path, AudioLimits()).samples
        row: dict[str, Any] = {"folder": str(folder), "file": clip.path.name}
        for mode in MODES:
            result = transcribers[mode].transcribe(audio, "zh", vocabulary=None if mode == "none" else hint)
            cer = error_rate(clip.reference, result.text, True)
            row[mode] = {"text": result.text, "cer": cer}
            if cer is not None:
                errors[mode].append(cer)
        _emit(row)
    return {
        "summary": True,
        "folder": str(folder),
        "seed": seed,
        "corrected_clips": len(taught),
        "held_out_clips": len(held_out),
        "terms_learned": terms,
        "hint_chars": len(hint),
        "hint": hint,
        **{f"mean_cer_{mode}": round(statistics.mean(v), 4) if v else None for mode, v in errors.items()},
    }


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, load faster-whisper once, replay every folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=list(DEFAULT_FOLDERS))
    parser.add_argument("--limit", type=int, default=None, help="use only the first N clips of a folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=REPO / "var" / "cache", help="weights cache")
    args = parser.parse_args(argv)
    from intake.asr import Transcriber
    from intake.engine_faster import FasterWhisperEngine
    from intake.weights import ensure_base_model

    model = FasterWhisperEngine(ensure_base_model(args.cache_dir), cpu_threads=args.threads)
    transcribers = {
        "none": Transcriber(model),
        "hotwords": Transcriber(model, vocabulary_as="hotwords"),
        "prompt": Transcriber(model, vocabulary_as="prompt"),
    }
    for folder in args.folders:
        if not folder.is_dir():
            print(f"{folder} is absent; skipped", file=sys.stderr)
            continue
        _emit(run_folder(folder, transcribers, args.limit, args.seed))


if __name__ == "__main__":
    main()

"""Benchmark the two Whisper engines through intake.asr.Transcriber on real speech clips.

Usage (from the repository root)::

    .venv/bin/python bench/asr.py [FOLDER] [--limit N] [--threads T] [--prompt-ab]

FOLDER (default ``../shared/eval/speech``) is searched recursively for audio; ``transcripts.tsv`` files
(columns ``file``, ``reference_text``) give references, and so do ``labels.tsv`` files (``file``,
``text``, as in ``../shared/eval/voice``). Each engine lives in its own long-lived child process, so
the peak RSS it reports (VmHWM) is that engine's alone. Engines alternate clip by clip, after one
warm-up each. One JSON line per clip and engine, then a summary line, go to stdout; load times go
to stderr.

``--prompt-ab`` instead runs faster-whisper on the Mandarin clips with and without the Mandarin
initial prompt (language forced to zh so the prompt always applies) and compares CER and time.

``--levers [ARGS...]`` runs bench/asr_levers.py instead (the Mandarin sets ../shared/eval/speech_real/zh,
its phone copies, ../shared/eval/voice/zh and the filler clips; the A/B of every recognition lever).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import re
import resource
import statistics
import sys
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".webm", ".m4a", ".aac", ".amr"}
ENGINES = ("faster-whisper", "openai-whisper")
# Extra variants --engines can name: faster-whisper encoding the full padded 30 s window, or the
# speech plus N frames of padding (faster-whisper-margin-N; plain faster-whisper uses the default).
VARIANTS = (*ENGINES, "faster-whisper-full-window", "faster-whisper-margin-N")


def _margin(engine: str) -> int | None:
    from intake.engine_faster import ENCODER_MARGIN_FRAMES

    if engine == "faster-whisper-full-window":
        return None
    if engine.startswith("faster-whisper-margin-"):
        return int(engine.rsplit("-", 1)[1])
    return ENCODER_MARGIN_FRAMES


# (table, column) pairs holding reference texts: eval/speech and eval/voice (spoken text of the note).
REFERENCE_FILES = (("transcripts.tsv", "reference_text"), ("labels.tsv", "text"))
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Clip:
    """One audio file with its optional reference transcript."""

    path: Path
    reference: str | None

    @property
    def is_mandarin(self) -> bool:
        """True when the reference has Chinese characters or the clip sits in a ``zh`` folder."""
        return bool(self.reference and _CJK.search(self.reference)) or "zh" in self.path.parts


def _proc_status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (VmHWM, or ru_maxrss where /proc is absent)."""
    peak = _proc_status_mb("VmHWM")
    return peak if peak is not None else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _worker(engine: str, cache_dir: Path, checkpoint: Path | None, threads: int, conn: Connection) -> None:
    """Child process: load one engine, then answer (audio, language, mandarin_prompt) requests."""
    from intake.asr import Transcriber
    from intake.weights import ensure_base_model

    started = time.perf_counter()
    if engine.startswith("faster-whisper"):
        from intake.engine_faster import FasterWhisperEngine

        model: Any = FasterWhisperEngine(
            ensure_base_model(cache_dir),
            compute_type="int8",
            cpu_threads=threads,
            encoder_margin_frames=_margin(engine),
        )
    else:
        from intake.engine_openai import OpenAIWhisperEngine

        assert checkpoint is not None
        model = OpenAIWhisperEngine(checkpoint, threads=threads)
    transcribers = {flag: Transcriber(model, mandarin_prompt=flag) for flag in (True, False)}
    loaded = {"load_s": round(time.perf_counter() - started, 2), "peak_rss_mb": peak_rss_mb()}
    conn.send(loaded | {"rss_after_load_mb": _proc_status_mb("VmRSS")})
    while (request := conn.recv()) is not None:
        audio, language, prompt = request
        t0 = time.perf_counter()
        result = transcribers[prompt].transcribe(audio, language=language)
        seconds = time.perf_counter() - t0
        conn.send(
            {
                "text": result.text,
                "language": result.language,
                "seconds": seconds,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    conn.close()


class EngineProcess:
    """A long-lived child process holding one engine."""

    def __init__(self, engine: str, cache_dir: Path, checkpoint: Path | None, threads: int) -> None:
        ctx = mp.get_context("spawn")
        self.engine = engine
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_worker, args=(engine, cache_dir, checkpoint, threads, child), daemon=True
        )
        self._proc.start()
        child.close()
        self.loaded: dict[str, Any] = self._conn.recv()

    def transcribe(self, audio: Any, language: str | None = None, prompt: bool = True) -> dict[str, Any]:
        """Transcribe in the child; returns text, language, seconds and the child's peak RSS."""
        self._conn.send((audio, language, prompt))
        reply: dict[str, Any] = self._conn.recv()
        return reply

    def close(self) -> None:
        """Stop the child and wait for it."""
        self._conn.send(None)
        self._proc.join(timeout=30)


def find_clips(folder: Path) -> list[Clip]:
    """Audio files under ``folder`` (sorted), with references from the tables in REFERENCE_FILES."""
    refs: dict[Path, str] = {}
    for tsv, column in REFERENCE_FILES:
        for table in folder.rglob(tsv):
            with table.open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    if row.get("file") and row.get(column):
                        refs[(table.parent / row["file"]).resolve()] = row[column]
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    return [Clip(p, refs.get(p.resolve())) for p in files]


def normalise(text: str) -> str:
    """Lowercase, Simplified Chinese, punctuation and symbols replaced by spaces, spaces collapsed."""
    from intake.asr import to_simplified

    text = to_simplified(text).lower()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(text.split())


def error_rate(reference: str | None, hypothesis: str, mandarin: bool) -> float | None:
    """CER (Mandarin, spaces removed) or WER (otherwise) after normalising; None without reference."""
    import jiwer

    if reference is None:
        return None
    ref, hyp = normalise(reference), normalise(hypothesis)
    if mandarin:
        ref, hyp = ref.replace(" ", ""), hyp.replace(" ", "")
    if not ref:
        return None
    if not hyp:
        return 1.0
    return round(float(jiwer.cer(ref, hyp) if mandarin else jiwer.wer(ref, hyp)), 4)


def _median(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(statistics.median(items), 4) if items else None


def _emit(record: dict[str, Any], stream: Any = sys.stdout) -> None:
    print(json.dumps(record, ensure_ascii=False), file=stream, flush=True)


def run_engines(clips: list[Clip], audios: list[Any], procs: list[EngineProcess]) -> None:
    """Both engines on every clip, alternating which goes first; per-clip lines, then the summary."""
    rows: list[dict[str, Any]] = []
    for proc in procs:  # one warm-up each, not reported
        proc.transcribe(audios[0])
    for i, (clip, audio) in enumerate(zip(clips, audios, strict=True)):
        order = procs if i % 2 == 0 else procs[::-1]
        audio_s = round(len(audio) / 16000, 2)
        for proc in order:
            reply = proc.transcribe(audio)
            row = {
                "engine": proc.engine,
                "file": str(clip.path),
                "audio_s": audio_s,
                "seconds": round(reply["seconds"], 3),
                "rtf": round(reply["seconds"] / audio_s, 4) if audio_s else None,
                "peak_rss_mb": reply["peak_rss_mb"],
                "text": reply["text"],
                "wer_or_cer": error_rate(clip.reference, reply["text"], clip.is_mandarin),
            }
            rows.append(row)
            _emit(row)
    summary: dict[str, Any] = {"summary": True, "clips": len(clips)}
    by_file: dict[str, dict[str, float]] = {}
    for row in rows:
        by_file.setdefault(row["file"], {})[row["engine"]] = row["seconds"]
    for other in (p.engine for p in procs if p.engine != "faster-whisper"):
        ratios = [
            t[other] / t["faster-whisper"] for t in by_file.values() if t.get("faster-whisper") and other in t
        ]
        summary[f"median_time_ratio_{other}_over_faster-whisper"] = _median(ratios)
    for proc in procs:
        mine = [r for r in rows if r["engine"] == proc.engine]
        errors = [r["wer_or_cer"] for r in mine if r["wer_or_cer"] is not None]
        summary[proc.engine] = {
            "load_s": proc.loaded["load_s"],
            "rss_after_load_mb": proc.loaded["rss_after_load_mb"],
            "median_rtf": _median(r["rtf"] for r in mine if r["rtf"] is not None),
            "median_rtf_5_30s": _median(r["rtf"] for r in mine if 5 <= r["audio_s"] <= 30),
            "max_peak_rss_mb": max((r["peak_rss_mb"] for r in mine), default=None),
            "mean_wer_or_cer": round(statistics.mean(errors), 4) if errors else None,
        }
    _emit(summary)


def run_prompt_ab(clips: list[Clip], audios: list[Any], proc: EngineProcess) -> None:
    """faster-whisper on Mandarin clips with and without the Mandarin prompt (language forced to zh)."""
    rows: list[dict[str, Any]] = []
    proc.transcribe(audios[0], "zh", True)  # warm-up
    for i, (clip, audio) in enumerate(zip(clips, audios, strict=True)):
        for prompt in (True, False) if i % 2 == 0 else (False, True):
            reply = proc.transcribe(audio, "zh", prompt)
            row = {
                "ab": "prompt" if prompt else "no_prompt",
                "file": str(clip.path),
                "audio_s": round(len(audio) / 16000, 2),
                "seconds": round(reply["seconds"], 3),
                "cer": error_rate(clip.reference, reply["text"], True),
                "has_punctuation": any(unicodedata.category(ch)[0] == "P" for ch in reply["text"]),
                "text": reply["text"],
            }
            rows.append(row)
            _emit(row)
    summary: dict[str, Any] = {"summary": True, "prompt_ab": True, "clips": len(clips)}
    for arm in ("prompt", "no_prompt"):
        mine = [r for r in rows if r["ab"] == arm]
        cers = [r["cer"] for r in mine if r["cer"] is not None]
        summary[arm] = {
            "mean_cer": round(statistics.mean(cers), 4) if cers else None,
            "median_seconds": _median(r["seconds"] for r in mine),
            "total_seconds": round(sum(r["seconds"] for r in mine), 3),
            "with_punctuation": sum(r["has_punctuation"] for r in mine),
        }
    _emit(summary)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, load clips and engines, run the benchmark; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--levers"]:
        from bench.asr_levers import main as levers

        return levers(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "eval" / "speech")
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips")
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads per engine (default 1, as served)"
    )
    parser.add_argument("--cache-dir", type=Path, default=REPO / "var" / "cache", help="weights cache")
    parser.add_argument(
        "--prompt-ab", action="store_true", help="faster-whisper zh clips with/without prompt"
    )
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help=f"comma-separated engines to compare (from {', '.join(VARIANTS)})",
    )
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if unknown := sorted(
        e for e in engines if e not in VARIANTS and not re.fullmatch(r"faster-whisper-margin-\d+", e)
    ):
        print(f"unknown engines: {', '.join(unknown)}; choose from {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    if not args.folder.is_dir():
        print(f"no such folder: {args.folder}", file=sys.stderr)
        return 2

    from faster_whisper.audio import decode_audio

    clips = find_clips(args.folder)
    if args.prompt_ab:
        clips = [c for c in clips if c.is_mandarin]
    clips = clips[: args.limit] if args.limit is not None else clips
    if not clips:
        print(f"no audio clips under {args.folder}", file=sys.stderr)
        return 2
    audios = [decode_audio(str(c.path), sampling_rate=16000) for c in clips]

    from intake.weights import ensure_base_model

    ensure_base_model(args.cache_dir)
    if args.prompt_ab:
        procs = [EngineProcess("faster-whisper", args.cache_dir, None, args.threads)]
    else:
        from intake.whisper_convert import ensure_openai_checkpoint

        checkpoint = ensure_openai_checkpoint(ensure_base_model(args.cache_dir), args.cache_dir)
        procs = [EngineProcess(name, args.cache_dir, checkpoint, args.threads) for name in engines]
    for proc in procs:
        _emit({"engine": proc.engine, "threads": args.threads, **proc.loaded}, sys.stderr)
    try:
        if args.prompt_ab:
            run_prompt_ab(clips, audios, procs[0])
        else:
            run_engines(clips, audios, procs)
    finally:
        for proc in procs:
            proc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

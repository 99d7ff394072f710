"""A/B of each recognition lever in one run: Mandarin CER per set and setting, RTF, peak RSS.

Usage (from the repository root; one thread, as served)::

    nice -n 10 .venv/bin/python bench/asr_levers.py [--sets real,phone,voice,filler] [--variants ...]

Sets: ``real`` = ../shared/eval/speech_real/zh; ``phone`` = the same clips made phone-quality on the
fly (8 kHz, 300-3400 Hz band, Opus 12 kbit/s in Ogg, by the ffmpeg minsheng uses); ``voice`` =
../shared/eval/voice/zh; ``filler`` = the no-content clip of ../shared/eval/speech/zh plus made
silence and hiss, whose text must stay empty. Every clip is decoded through intake.audio.load_audio
and transcribed by intake.asr.Transcriber with faster-whisper int8 (except the ``nbest_lm`` arms,
which rescore the engine's n-best list with a character n-gram LM). Each variant changes one lever
of ``base`` (the product's defaults). One JSON line per set and variant, then the settings.
CER: per-clip character edit distance over reference length after NFKC, Simplified, punctuation
removed, digits read as Chinese digits (幺 = 一), averaged over clips.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.asr import _emit, find_clips, peak_rss_mb  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
# A general prompt for civic Mandarin, written for minsheng (not taken from any evaluation text).
CIVIC_PROMPT = "以下是村民反映问题的普通话录音，请用简体中文记录。"
_DIGITS = str.maketrans("0123456789幺", "零一二三四五六七八九一")


@dataclass(frozen=True)
class Variant:
    """One engine setting: overrides of the product's defaults."""

    name: str
    lever: str
    options: dict[str, Any] = field(default_factory=dict)
    language: str | None = None  # None: the product's automatic zh/en choice
    level_dbfs: float | None = None
    vad_threshold: float = 0.5
    full_window: bool = False
    suppress: tuple[str, ...] = ()
    soxr: bool = False
    lm_weight: float | None = None  # n-best rescoring weight of the character LM
    sets: tuple[str, ...] = ("real", "phone", "filler")


PHONE = ("phone",)
# The voice set (87 notes) takes as long as the other sets together: only the main arms run on it.
SHORT = ("real", "phone", "filler")
ALL = ("real", "phone", "voice", "filler")
VARIANTS = (
    Variant("base", "baseline", sets=ALL),
    Variant("suppress_foreign", "suppress", language="zh", suppress=("foreign",), sets=ALL),
    Variant("lang_zh", "language", language="zh"),
    Variant("no_fallback", "temperature", {"temperatures": (0.0,)}),
    Variant("beam1", "beam", {"beam_size": 1}),
    Variant("civic_prompt", "prompt", {"initial_prompt": CIVIC_PROMPT}, language="zh"),
    Variant("level_-20dbfs", "loudness", level_dbfs=-20.0),
    Variant("word_timestamps", "word confidence", {"detailed": True, "word_timestamps": True}),
    Variant("soxr_resample", "band-limited input", soxr=True, sets=PHONE),
    Variant("vad_0.35", "vad", vad_threshold=0.35, sets=PHONE),
    Variant("vad_0.65", "vad", vad_threshold=0.65, sets=PHONE),
    Variant("full_window", "encoder margin", full_window=True, sets=PHONE),
    Variant("nbest_lm_0.3", "n-best LM", language="zh", lm_weight=0.3, sets=("real", "phone", "voice")),
    Variant("nbest_lm_0.0", "n-best LM", language="zh", lm_weight=0.0, sets=("real", "phone", "voice")),
    Variant("beam8", "beam", {"beam_size": 8}, sets=ALL),
    Variant("beam5_patience2", "beam", {"patience": 2.0}),
    Variant("suppress_foreign_latin", "suppress", language="zh", suppress=("foreign", "latin"), sets=ALL),
)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate as the issue defines it (see the module docstring)."""
    import jiwer

    from intake.asr import to_simplified

    def norm(text: str) -> str:
        text = to_simplified(unicodedata.normalize("NFKC", text)).translate(_DIGITS).lower()
        return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZ" and not ch.isspace())

    ref, hyp = norm(reference), norm(hypothesis)
    if not hyp:
        return 1.0
    return float(jiwer.cer(ref, hyp))


def phone_copy(source: Path, out_dir: Path) -> Path:
    """An 8 kHz, 300-3400 Hz, Opus 12 kbit/s Ogg copy of ``source``, made by minsheng's ffmpeg."""
    from intake.audio import ffmpeg_path

    target = out_dir / (source.stem + ".ogg")
    subprocess.run(
        [ffmpeg_path(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
         "-af", "highpass=f=300,lowpass=f=3400", "-ar", "8000", "-ac", "1",
         "-c:a", "libopus", "-b:a", "12k", str(target)],
        check=True,
    )  # fmt: skip
    return target


def decode_soxr(path: Path) -> np.ndarray:
    """``path`` at 16 kHz through ffmpeg's soxr resampler (the product uses ffmpeg's default)."""
    from intake.audio import ffmpeg_path

    raw = subprocess.run(
        [ffmpeg_path(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
         "-af", "aresample=16000:resampler=soxr:precision=28", "-ac", "1", "-f", "f32le", "pipe:1"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.float32).copy()


@dataclass
class Item:
    """One clip of a set: decoded audio (and its soxr decoding for phone clips) and reference."""

    name: str
    audio: np.ndarray
    reference: str | None
    soxr_audio: np.ndarray | None = None


def load_sets(names: list[str], tmp: Path, limit: int | None) -> dict[str, list[Item]]:
    """Decode every clip of the named sets through the product's load_audio."""
    from intake.audio import load_audio

    def items(folder: Path) -> list[Item]:
        clips = [c for c in find_clips(folder) if c.reference][:limit]
        return [Item(c.path.name, load_audio(c.path).samples, c.reference) for c in clips]

    sets: dict[str, list[Item]] = {}
    if "real" in names or "phone" in names:
        real = items(EVAL / "speech_real" / "zh")
        if "real" in names:
            sets["real"] = real
        if "phone" in names:
            sets["phone"] = []
            for clip in [c for c in find_clips(EVAL / "speech_real" / "zh") if c.reference][:limit]:
                copy = phone_copy(clip.path, tmp)
                sets["phone"].append(
                    Item(copy.name, load_audio(copy).samples, clip.reference, decode_soxr(copy))
                )
    if "voice" in names:
        sets["voice"] = items(EVAL / "voice" / "zh")
    if "filler" in names:
        rng = np.random.default_rng(0)
        filler = load_audio(EVAL / "speech" / "zh" / "wenet_nst_ID003.wav").samples
        sets["filler"] = [
            Item("wenet_nst_ID003.wav", filler, None),
            Item("silence_5s", np.zeros(80_000, dtype=np.float32), None),
            Item("hiss_5s_-45dBFS", (rng.standard_normal(80_000) * 0.0056).astype(np.float32), None),
        ]
    return sets


def civic_lm_texts(exclude_ids: set[str]) -> tuple[list[str], dict[str, Any]]:
    """Training text for the character LM: the seed notes, plus (outside the repository, never
    stored) the shared Chinese training messages except those the voice notes were made from."""
    with (REPO / "classify" / "seed" / "zh.csv").open(encoding="utf-8", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    seed = len(texts)
    raw = EVAL / "text" / "zh_teddycup_train_raw.csv"
    if raw.exists():
        with raw.open(encoding="utf-8", newline="") as fh:
            texts += [r["text"] for r in csv.DictReader(fh) if r["id"] not in exclude_ids]
    return texts, {"seed_texts": seed, "shared_training_texts": len(texts) - seed}


def voice_source_ids() -> set[str]:
    """The ids of the messages the voice notes were spoken from (kept out of the LM)."""
    table = EVAL / "voice" / "zh" / "labels.tsv"
    with table.open(encoding="utf-8", newline="") as fh:
        return {r["source_id"] for r in csv.DictReader(fh, delimiter="\t")}


class Runner:
    """Holds the engines and builds one transcribe function per variant."""

    def __init__(self, cache_dir: Path, lm_texts: list[str]) -> None:
        from intake.charlm import CharNgramLM
        from intake.engine_faster import FasterWhisperEngine
        from intake.weights import ensure_base_model

        model_dir = ensure_base_model(cache_dir)
        self.trimmed = FasterWhisperEngine(model_dir, compute_type="int8", cpu_threads=1)
        self._full: Any = None
        self._model_dir = model_dir
        self.lm = CharNgramLM(lm_texts, order=4)

    def full(self) -> Any:
        from intake.engine_faster import FasterWhisperEngine

        if self._full is None:
            self._full = FasterWhisperEngine(
                self._model_dir, compute_type="int8", cpu_threads=1, encoder_margin_frames=None
            )
        return self._full

    def transcriber_for(self, v: Variant) -> Callable[[np.ndarray], str]:
        from intake.asr import DecodeOptions, SileroSpeech, Transcriber

        engine = self.full() if v.full_window else self.trimmed
        options = replace(DecodeOptions(), **v.options)
        if v.suppress:
            options = replace(options, suppress_tokens=engine.suppressible(v.suppress))
        speech = SileroSpeech(threshold=v.vad_threshold)
        transcriber = Transcriber(engine, options=options, speech=speech, level_dbfs=v.level_dbfs)
        if v.lm_weight is None:
            return lambda audio: transcriber.transcribe(audio, language=v.language).text
        weight = v.lm_weight

        def rescored(audio: np.ndarray) -> str:
            from intake.asr import to_simplified

            cut, _ = speech(audio)
            if cut.size < 1600:
                return ""
            hyps = engine.nbest(cut, v.language or "zh", options.beam_size, 5)
            best = max(hyps, key=lambda h: h[1] + weight * self.lm.logprob(to_simplified(h[0])))
            return to_simplified(best[0]).strip()

        return rescored


def run(sets: dict[str, list[Item]], variants: list[Variant], runner: Runner, texts_out: Path | None) -> None:
    """Every variant on every set it applies to; one JSON line each (with the texts to ``texts_out``)."""
    for v in variants:
        transcribe = runner.transcriber_for(v)
        transcribe(next(iter(sets.values()))[0].audio)  # warm-up, not counted
        for set_name, items in sets.items():
            if set_name not in v.sets:
                continue
            cers, seconds, cpu, audio_s, texts = [], 0.0, 0.0, 0.0, {}
            for item in items:
                audio = item.soxr_audio if v.soxr and item.soxr_audio is not None else item.audio
                t0, c0 = time.perf_counter(), time.process_time()
                text = transcribe(audio)
                seconds += time.perf_counter() - t0
                cpu += time.process_time() - c0
                audio_s += audio.size / 16000
                texts[item.name] = text
                if item.reference is not None:
                    cers.append(cer(item.reference, text))
            line: dict[str, Any] = {
                "set": set_name,
                "variant": v.name,
                "lever": v.lever,
                "clips": len(items),
                "cer": round(statistics.mean(cers), 4) if cers else None,
                # CPU seconds per audio second (one thread: the time on a core of its own) and wall.
                "rtf_cpu": round(cpu / audio_s, 4) if audio_s else None,
                "rtf_wall": round(seconds / audio_s, 4) if audio_s else None,
                "peak_rss_mb": peak_rss_mb(),
            }
            if set_name == "filler":
                line["texts"] = texts
            _emit(line)
            if texts_out is not None:
                with texts_out.open("a", encoding="utf-8") as fh:
                    _emit(line | {"texts": texts}, fh)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, decode the sets, run the variants; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sets", default="real,phone,voice,filler")
    parser.add_argument("--variants", default=",".join(v.name for v in VARIANTS))
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips of each set")
    parser.add_argument("--cache-dir", type=Path, default=REPO / "var" / "cache", help="weights cache")
    parser.add_argument("--texts-out", type=Path, default=None, help="transcripts out (JSON lines)")
    args = parser.parse_args(argv)
    wanted = [n.strip() for n in args.variants.split(",") if n.strip()]
    by_name = {v.name: v for v in VARIANTS}
    if unknown := [n for n in wanted if n not in by_name]:
        print(f"unknown variants: {unknown}; choose from {list(by_name)}", file=sys.stderr)
        return 2
    if not EVAL.is_dir():
        print(f"no evaluation data at {EVAL}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        sets = load_sets([s.strip() for s in args.sets.split(",")], Path(tmp), args.limit)
    lm_texts, lm_info = civic_lm_texts(voice_source_ids())
    runner = Runner(args.cache_dir, lm_texts)
    _emit({"settings": True, "engine": "faster-whisper int8, 1 thread", "lm": lm_info,
           "civic_prompt": CIVIC_PROMPT, "sets": {k: len(v) for k, v in sets.items()}})  # fmt: skip
    run(sets, [by_name[n] for n in wanted], runner, args.texts_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

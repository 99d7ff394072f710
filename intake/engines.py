"""Builds a Transcriber for a named engine from the packaged weights."""

from __future__ import annotations

from pathlib import Path

from intake.asr import Transcriber
from models.errors import InvalidInput

ENGINES = ("faster-whisper", "openai-whisper")


def build_transcriber(
    engine: str, cache_dir: Path, *, compute_type: str = "int8", threads: int = 1
) -> Transcriber:
    """Load ``engine`` with the Whisper base weights (rebuilt into ``cache_dir`` once)."""
    from intake.weights import ensure_base_model

    if engine not in ENGINES:
        raise InvalidInput(
            "Unknown speech engine '%(engine)s'; choose one of: %(engines)s.",
            engine=engine,
            engines=", ".join(ENGINES),
        )
    ct2_dir = ensure_base_model(cache_dir)
    if engine == "faster-whisper":
        from intake.engine_faster import FasterWhisperEngine

        return Transcriber(FasterWhisperEngine(ct2_dir, compute_type=compute_type, cpu_threads=threads))
    from intake.engine_openai import OpenAIWhisperEngine
    from intake.whisper_convert import ensure_openai_checkpoint

    return Transcriber(OpenAIWhisperEngine(ensure_openai_checkpoint(ct2_dir, cache_dir), threads=threads))

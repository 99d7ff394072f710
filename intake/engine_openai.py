"""The optional engine: openai-whisper (PyTorch, fp32 on the CPU), from a converted checkpoint.

About twice as slow as faster-whisper int8 and twice the memory, it is here as a reference
implementation and a fallback. torch and whisper are imported only when the engine is built, so
the rest of minsheng runs without the ``openai-whisper`` extra.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from intake.asr import DecodeOptions, DetailedSegment, Segment, Word
from models.errors import Unavailable

INSTALL_HINT = (
    "Install the CPU build of torch first, then the extra: "
    "pip install torch==2.13.0  then  pip install -e '.[openai-whisper]'"
)
# faster-whisper's default; DecodeOptions has no best_of (used only when sampling at temperature > 0).
BEST_OF = 5


class EngineUnavailable(Unavailable):
    """The engine's optional packages are not installed."""

    kind = "EngineUnavailable"


def require_openai_whisper() -> tuple[ModuleType, ModuleType]:
    """Import (torch, whisper) or raise EngineUnavailable telling the operator how to install them."""
    try:
        import torch
        import whisper
    except ImportError as exc:
        raise EngineUnavailable(
            "The openai-whisper engine needs torch and openai-whisper (%(problem)s). %(hint)s",
            problem=str(exc),
            hint=INSTALL_HINT,
        ) from exc
    return torch, whisper


class OpenAIWhisperEngine:
    """Whisper through openai-whisper. The checkpoint is loaded once, in the constructor."""

    name = "openai-whisper"
    model_name = "whisper-base/fp32"

    def __init__(self, checkpoint: Path, *, threads: int = 1) -> None:
        torch, whisper = require_openai_whisper()
        self._whisper = whisper
        torch.set_num_threads(threads)
        self._model = whisper.load_model(str(checkpoint), device="cpu")
        # load_model only sets alignment heads for its own named models; ours travel in the checkpoint.
        extra = torch.load(str(checkpoint), map_location="cpu", mmap=True, weights_only=True)
        if extra.get("alignment_heads"):
            self._model.set_alignment_heads(extra["alignment_heads"])
        del extra

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        """Language probabilities over the first 30 s of audio."""
        whisper = self._whisper
        segment = whisper.pad_or_trim(audio.astype(np.float32))
        mel = whisper.log_mel_spectrogram(segment, n_mels=self._model.dims.n_mels)
        _, probs = self._model.detect_language(mel)
        return {code: float(p) for code, p in probs.items()}

    def decode(self, audio: np.ndarray, language: str, options: DecodeOptions) -> list[Segment]:
        """Decode speech audio in ``language``."""
        result: dict[str, Any] = self._model.transcribe(
            audio.astype(np.float32),
            language=language,
            task="transcribe",
            beam_size=options.beam_size,
            patience=options.patience,
            suppress_tokens=",".join(str(t) for t in (-1, *options.suppress_tokens)),
            best_of=BEST_OF,
            temperature=tuple(options.temperatures),
            compression_ratio_threshold=options.compression_ratio_threshold,
            logprob_threshold=options.log_prob_threshold,
            no_speech_threshold=options.no_speech_threshold,
            condition_on_previous_text=False,
            initial_prompt=_prompt(options),
            word_timestamps=options.detailed and options.word_timestamps,
            fp16=False,
            verbose=None,
        )
        return [_segment(s, options) for s in result["segments"]]


def _prompt(options: DecodeOptions) -> str | None:
    """openai-whisper has no hotwords: they go first in the prompt, as faster-whisper places them."""
    parts = [p for p in (options.hotwords, options.initial_prompt) if p]
    return " ".join(parts) or None


def _segment(s: dict[str, Any], options: DecodeOptions) -> Segment:
    common: dict[str, Any] = dict(
        start=float(s["start"]),
        end=float(s["end"]),
        text=str(s["text"]),
        avg_logprob=float(s["avg_logprob"]),
        no_speech_prob=float(s["no_speech_prob"]),
        compression_ratio=float(s["compression_ratio"]),
    )
    if not options.detailed:
        return Segment(**common)
    return DetailedSegment(
        **common,
        seek=int(s["seek"]),
        tokens=tuple(int(t) for t in s["tokens"]),
        temperature=float(s["temperature"]),
        words=tuple(
            Word(float(w["start"]), float(w["end"]), str(w["word"]), float(w["probability"]))
            for w in s.get("words") or ()
        ),
    )

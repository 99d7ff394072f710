"""The default engine: faster-whisper (CTranslate2), int8 on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intake.asr import DecodeOptions, Segment


class FasterWhisperEngine:
    """Whisper through CTranslate2. The model is loaded once, in the constructor."""

    name = "faster-whisper"

    def __init__(self, model_dir: Path, *, compute_type: str = "int8", cpu_threads: int = 1) -> None:
        from faster_whisper import WhisperModel

        self.model_name = f"whisper-base/{compute_type}"
        self._model = WhisperModel(
            str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads, num_workers=1
        )

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        """Language probabilities over the first 30 s of audio."""
        _, _, probs = self._model.detect_language(audio=audio)
        return {code: float(p) for code, p in probs}

    def decode(self, audio: np.ndarray, language: str, options: DecodeOptions) -> list[Segment]:
        """Decode speech audio in ``language``."""
        segments, _ = self._model.transcribe(
            audio,
            language=language,
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            initial_prompt=options.initial_prompt,
            compression_ratio_threshold=options.compression_ratio_threshold,
            log_prob_threshold=options.log_prob_threshold,
            no_speech_threshold=options.no_speech_threshold,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        return [
            Segment(
                start=float(s.start),
                end=float(s.end),
                text=s.text,
                avg_logprob=float(s.avg_logprob),
                no_speech_prob=float(s.no_speech_prob),
                compression_ratio=float(s.compression_ratio),
            )
            for s in segments
        ]

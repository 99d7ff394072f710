"""The default engine: faster-whisper (CTranslate2), int8 on the CPU."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from intake.asr import DecodeOptions, Segment, choose_language


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
        segments, _ = self._model.transcribe(audio, language=language, **_transcribe_kwargs(options))
        return [_segment(s) for s in segments]

    def detect_and_decode(
        self, audio: np.ndarray, allowed: Sequence[str], options_for: Callable[[str], DecodeOptions]
    ) -> tuple[str, float, list[Segment]]:
        """Choose the language among ``allowed`` and decode, encoding the first 30 s only once.

        faster-whisper's own language detection runs the encoder on the first window and then
        decoding runs it again on the same window: 40 % of the time of a short note. Here the
        first window is encoded exactly as ``generate_segments`` would encode it, its output
        serves the language choice, and it is handed to ``generate_segments`` for reuse.
        """
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        model = self._model
        features = model.feature_extractor(audio)
        content_frames = features.shape[-1] - 1
        first = pad_or_trim(features[:, : min(model.feature_extractor.nb_max_frames, content_frames)])
        encoded = model.encode(first)
        probabilities = {token[2:-2]: float(p) for token, p in model.model.detect_language(encoded)[0]}
        language, probability = choose_language(probabilities, allowed)
        options = options_for(language)
        # transcribe() only builds its options here: its segment generator is never started.
        _, info = model.transcribe(
            np.zeros(1600, dtype=np.float32), language=language, **_transcribe_kwargs(options)
        )
        tokenizer = Tokenizer(
            model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language
        )
        segments = model.generate_segments(features, tokenizer, info.transcription_options, False, encoded)
        return language, probability, [_segment(s) for s in segments]


def _transcribe_kwargs(options: DecodeOptions) -> dict[str, Any]:
    return {
        "beam_size": options.beam_size,
        "temperature": list(options.temperatures),
        "initial_prompt": options.initial_prompt,
        "compression_ratio_threshold": options.compression_ratio_threshold,
        "log_prob_threshold": options.log_prob_threshold,
        "no_speech_threshold": options.no_speech_threshold,
        "condition_on_previous_text": False,
        "vad_filter": False,  # the Transcriber has already cut the audio to speech
    }


def _segment(s: Any) -> Segment:
    return Segment(
        start=float(s.start),
        end=float(s.end),
        text=s.text,
        avg_logprob=float(s.avg_logprob),
        no_speech_prob=float(s.no_speech_prob),
        compression_ratio=float(s.compression_ratio),
    )

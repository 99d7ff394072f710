"""The Transcriber on real Whisper weights and real recordings, and its text gates."""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

import jiwer
import pytest

from intake.asr import (
    DetailedSegment,
    GateOptions,
    Segment,
    Transcriber,
    choose_language,
    gate_segments,
    is_filler,
    is_hallucination,
    to_simplified,
    transcript_confidence,
)
from intake.audio import load_audio
from intake.engine_faster import FasterWhisperEngine
from intake.weights import ensure_base_model

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


def seg(text: str, *, logprob: float = -0.2, no_speech: float = 0.05, ratio: float = 1.3) -> Segment:
    return Segment(0.0, 2.0, text, logprob, no_speech, ratio)


def test_language_is_chosen_among_the_served_ones_only() -> None:
    probs = {"ja": 0.6, "zh": 0.3, "en": 0.1}
    assert choose_language(probs, ("zh", "en")) == ("zh", 0.3)


@pytest.mark.parametrize(
    "text", ["Thank you for watching!", "字幕由Amara.org社群提供", "謝謝觀看", "Oh.", "嗯嗯。", "um, uh"]
)
def test_invented_and_filler_segments_are_dropped(text: str) -> None:
    kept, dropped = gate_segments([seg(to_simplified(text))], GateOptions())
    assert kept == [] and len(dropped) == 1
    assert is_hallucination(to_simplified(text)) or is_filler(text)


def test_real_speech_is_kept_and_loops_silence_and_repeats_are_not() -> None:
    segments = [
        seg("五星路上乱停车。"),
        seg("五星路上乱停车。"),  # an exact repeat of the previous segment
        seg("the the the the the the the the", ratio=3.1),  # a repetition loop
        seg("Thanks.", logprob=-1.4, no_speech=0.7),  # likely silence
        seg("Please fix the street light.", no_speech=0.95),  # very likely silence
        seg("The bus never comes."),
    ]
    kept, dropped = gate_segments(segments, GateOptions())
    assert [s.text for s in kept] == ["五星路上乱停车。", "The bus never comes."]
    assert len(dropped) == 4


def test_traditional_characters_become_simplified() -> None:
    assert to_simplified("廣州市的路燈壞了，請儘快維修") == "广州市的路灯坏了，请尽快维修"


def test_confidence_is_in_unit_interval_and_falls_with_doubt() -> None:
    sure = transcript_confidence([seg("a", logprob=-0.1, no_speech=0.01)])
    unsure = transcript_confidence([seg("a", logprob=-1.2, no_speech=0.4)])
    assert 0.0 <= unsure < sure <= 1.0
    assert transcript_confidence([]) == 0.0


# ---- real Whisper base on real recordings (../shared/eval/speech) ----------------------------------


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> Transcriber:
    model_dir = ensure_base_model(tmp_path_factory.mktemp("weights"))
    return Transcriber(FasterWhisperEngine(model_dir, compute_type="int8", cpu_threads=2))


def _normalise(text: str) -> str:
    return re.sub(r"[^\w]+", " ", to_simplified(text).lower()).strip()


def _references(folder: Path) -> dict[str, str]:
    with (folder / "transcripts.tsv").open(encoding="utf-8") as fh:
        return {row["file"]: row["reference_text"] for row in csv.DictReader(fh, delimiter="\t")}


# Bounds set from measurement (bench/asr.py, base int8) with a margin for decoding noise.
# Only HUMAN references are exact; the others are a demo or another model's output.
ERROR_BOUNDS = {
    ("en", "jfk.flac"): 0.05,
    ("en", "wenet_librispeech-1995-1837-0001.wav"): 0.20,
    ("zh", "paddlespeech_zh.wav"): 0.10,
    ("zh", "funasr_asr_example.mp3"): 0.30,
    ("zh", "funasr_csharp_example_1.wav"): 0.15,
}


@pytest.mark.slow
@pytest.mark.parametrize(("language", "name"), list(ERROR_BOUNDS))
def test_real_recordings_are_transcribed_within_measured_error(
    transcriber: Transcriber, shared_eval: Path, language: str, name: str
) -> None:
    folder = shared_eval / "speech" / language
    audio = load_audio(folder / name)
    result = transcriber.transcribe(audio.samples)  # language detected, not forced
    assert result.language == language
    reference = _normalise(_references(folder)[name])
    hypothesis = _normalise(result.text)
    if language == "zh":
        error = jiwer.cer(reference.replace(" ", ""), hypothesis.replace(" ", ""))
        assert to_simplified(result.text) == result.text  # never Traditional
    else:
        error = jiwer.wer(reference, hypothesis)
    assert error <= ERROR_BOUNDS[(language, name)], (result.text, error)
    assert 0.3 < result.confidence <= 1.0
    assert all(s.start < s.end <= audio.duration_s + 0.5 for s in result.segments)


@pytest.mark.slow
def test_a_short_clip_with_a_year(transcriber: Transcriber, shared_eval: Path) -> None:
    # Reference "IN EIGHTEEN THIRTEEN": Whisper writes the year in digits, so WER would mislead.
    audio = load_audio(shared_eval / "speech" / "en" / "lhotse_ljspeech_LJ002-0020.wav")
    result = transcriber.transcribe(audio.samples)
    assert result.language == "en"
    assert _normalise(result.text) in {"in 1813", "in eighteen thirteen"}


@pytest.mark.slow
def test_a_filler_only_clip_gives_an_empty_transcript(transcriber: Transcriber, shared_eval: Path) -> None:
    audio = load_audio(shared_eval / "speech" / "zh" / "wenet_nst_ID003.wav")
    for language in (None, "zh"):
        result = transcriber.transcribe(audio.samples, language)
        assert result.text == "" and result.segments == [] and result.confidence == 0.0


@pytest.mark.slow
def test_silence_gives_an_empty_transcript(transcriber: Transcriber, data_dir: Path) -> None:
    result = transcriber.transcribe(load_audio(data_dir / "silence.wav").samples)
    assert result.text == "" and result.confidence == 0.0


@pytest.mark.slow
def test_forcing_the_language_is_respected(transcriber: Transcriber, data_dir: Path) -> None:
    result = transcriber.transcribe(load_audio(data_dir / "voice_power.ogg").samples, "en")
    assert result.language == "en" and result.language_probability == 1.0
    assert "power" in result.text.lower()
    with pytest.raises(ValueError, match="language"):
        transcriber.transcribe(load_audio(data_dir / "voice_power.ogg").samples, "fr")


@pytest.mark.slow
def test_traditional_output_of_a_real_clip_comes_out_simplified(
    transcriber: Transcriber, shared_eval: Path
) -> None:
    # Whisper base writes this Mandarin clip in Traditional characters (我認為…帶來了…).
    audio = load_audio(shared_eval / "speech" / "zh" / "paddlespeech_zh.wav").samples
    raw = "".join(s.text for s in transcriber.engine.decode(audio, "zh", transcriber.options))
    assert to_simplified(raw) != raw, raw
    result = transcriber.transcribe(audio, "zh")
    assert _normalise(result.text) == "我认为跑步最重要的就是给我带来了身体健康"


@pytest.mark.slow
def test_detecting_the_language_reuses_the_encoder_without_changing_the_result(
    transcriber: Transcriber, shared_eval: Path
) -> None:
    audio = load_audio(shared_eval / "speech" / "en" / "jfk.flac").samples
    detected = transcriber.transcribe(audio)
    forced = transcriber.transcribe(audio, "en")
    engine = transcriber.engine
    assert detected.language == "en" and 0.5 < detected.language_probability < 1.0
    speech, _ = transcriber.speech(audio)
    # The one-pass choice sees the first window exactly as decoding does (without the final frame).
    separate = engine.language_probabilities(speech)["en"]
    assert detected.language_probability == pytest.approx(separate, abs=0.01)
    assert detected.text == forced.text
    logprobs = [s.avg_logprob for s in forced.segments]
    assert [s.avg_logprob for s in detected.segments] == pytest.approx(logprobs)


@pytest.mark.slow
def test_detailed_segments_time_each_word_in_the_note_and_in_simplified_characters(
    transcriber: Transcriber, shared_eval: Path
) -> None:
    # The OpenAI-compatible API asks for details; villagers' notes keep plain segments (stored as is).
    audio = load_audio(shared_eval / "speech" / "zh" / "paddlespeech_zh.wav")
    plain = transcriber.transcribe(audio.samples, "zh")
    assert plain.segments and all(type(s) is Segment for s in plain.segments)
    options = replace(transcriber.options, detailed=True, word_timestamps=True)
    detailed = transcriber.transcribe(audio.samples, "zh", options)
    assert detailed.text == plain.text
    for segment in detailed.segments:
        assert isinstance(segment, DetailedSegment) and segment.tokens and segment.words
        assert "".join(w.word for w in segment.words) == segment.text.replace(" ", "")
        assert all(to_simplified(w.word) == w.word for w in segment.words)
        assert all(segment.start - 0.01 <= w.start <= w.end <= segment.end + 0.01 for w in segment.words)
    assert detailed.segments[-1].end <= audio.duration_s + 0.01


def test_level_normalisation_brings_quiet_speech_up_and_leaves_silence_alone() -> None:
    import numpy as np

    from intake.asr import level_normalised

    t = np.arange(16000, dtype=np.float32) / 16000
    quiet = (0.01 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # about -43 dBFS
    louder = level_normalised(quiet, -20.0)
    rms_db = 20 * np.log10(np.sqrt(np.mean(np.square(louder.astype(np.float64)))))
    assert abs(rms_db - -20.0) < 0.5 and louder.dtype == np.float32
    loud = (0.9 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    assert np.max(np.abs(level_normalised(loud, 0.0))) <= 0.99  # never clipped
    silence = np.zeros(16000, dtype=np.float32)
    assert np.array_equal(level_normalised(silence, -20.0), silence)
    hum = np.full(16000, 1e-4, dtype=np.float32)  # below -50 dBFS: not raised to speech level
    assert np.array_equal(level_normalised(hum, -20.0), hum)


def test_only_timed_words_count_towards_the_unsure_share() -> None:
    from intake.asr import UNSURE_WORD_PROBABILITY, Word, segment_record, unsure_word_share

    sure, unsure = UNSURE_WORD_PROBABILITY + 0.1, UNSURE_WORD_PROBABILITY - 0.1
    timed = DetailedSegment(
        0.0, 2.0, "路灯坏了", -0.3, 0.1, 1.2,
        words=(Word(0.0, 0.5, "路", sure), Word(0.5, 1.0, "灯", unsure), Word(1.0, 2.0, "坏了", sure),
               Word(2.0, 2.0, " ", 0.0)),
    )  # fmt: skip
    assert unsure_word_share([timed, seg("别的")]) == round(1 / 3, 4)
    assert unsure_word_share([seg("没有计时")]) is None
    record = segment_record(timed)
    assert [w["word"] for w in record["words"]] == ["路", "灯", "坏了", " "]  # type: ignore[union-attr]
    assert "tokens" not in record and "words" not in segment_record(seg("别的"))

"""The township vocabulary reaching Whisper: only for Mandarin, never inventing text on silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.asr import DecodeOptions, Transcriber, echoes_hint
from intake.audio import AudioLimits, load_audio
from intake.engine_faster import FasterWhisperEngine
from intake.weights import ensure_base_model

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

HINT = "西地省，映山岭，蓝波旺，本县冷江东路"


@pytest.fixture(scope="module")
def engine(weights_cache: Path) -> FasterWhisperEngine:
    return FasterWhisperEngine(ensure_base_model(weights_cache), compute_type="int8", cpu_threads=2)


def test_a_segment_that_recites_the_hint_is_an_echo_but_one_name_is_not() -> None:
    assert echoes_hint("映山岭，蓝波旺。", HINT)
    assert echoes_hint(HINT, HINT)
    assert not echoes_hint("映山岭", HINT)
    assert not echoes_hint("本区映山岭通宵作业", HINT)


def test_the_hint_goes_to_mandarin_only_as_hotwords_or_prompt(engine: FasterWhisperEngine) -> None:
    hot, prompt = Transcriber(engine), Transcriber(engine, vocabulary_as="prompt")
    assert hot._options_for("zh", vocabulary=HINT).hotwords == HINT
    assert hot._options_for("en", vocabulary=HINT) == DecodeOptions()
    assert prompt._options_for("zh", vocabulary=HINT).initial_prompt == HINT
    assert prompt._options_for("en", vocabulary=HINT).initial_prompt is None
    with pytest.raises(ValueError):
        Transcriber(engine, vocabulary_as="shout")


@pytest.mark.parametrize("mode", ["hotwords", "prompt"])
def test_silence_and_english_are_unchanged_by_a_hint(
    engine: FasterWhisperEngine, data_dir: Path, mode: str
) -> None:
    transcriber = Transcriber(engine, vocabulary_as=mode)
    silence = load_audio(data_dir / "silence.wav", AudioLimits()).samples
    assert transcriber.transcribe(silence, None, vocabulary=HINT).text == ""
    english = load_audio(data_dir / "voice_power.ogg", AudioLimits()).samples
    plain = transcriber.transcribe(english, None)
    hinted = transcriber.transcribe(english, None, vocabulary=HINT)
    assert hinted.language == "en" and hinted.text == plain.text


@pytest.mark.slow
def test_a_hinted_name_is_heard_in_a_real_note(engine: FasterWhisperEngine, shared_eval: Path) -> None:
    audio = load_audio(shared_eval / "voice" / "zh" / "tca3:237798.webm", AudioLimits()).samples
    transcriber = Transcriber(engine)
    assert "西地省" not in transcriber.transcribe(audio, "zh").text
    assert "西地省" in transcriber.transcribe(audio, "zh", vocabulary="西地省").text

"""The faster-whisper engine: encoding only the speech part of a padded window."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest
from faster_whisper.audio import pad_or_trim

from intake.asr import Transcriber
from intake.audio import load_audio
from intake.engine_faster import ENCODER_MARGIN_FRAMES, FasterWhisperEngine, speech_frames
from intake.weights import ensure_base_model

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


def test_speech_frames_stop_after_the_padding_margin() -> None:
    features = pad_or_trim(np.full((80, 501), -0.5, dtype=np.float32))  # 5 s of audio, then zeros
    assert features.shape == (80, 3000)
    assert speech_frames(features, margin=100) == 602  # 501 + 100, rounded up to even
    assert speech_frames(features, margin=0) == 502
    assert speech_frames(features[None], margin=100) == 602  # a batch of one window


def test_speech_frames_never_exceed_the_window() -> None:
    full = np.full((80, 3000), -0.5, dtype=np.float32)
    assert speech_frames(full, margin=500) == 3000
    assert speech_frames(pad_or_trim(full[:, :2900]), margin=500) == 3000


def test_digital_silence_is_not_mistaken_for_padding(tmp_path: Path) -> None:
    # Log-mel of exact-zero audio is a constant below zero after Whisper's normalisation.
    from faster_whisper.feature_extractor import FeatureExtractor

    mel = FeatureExtractor()(np.zeros(16000 * 3, dtype=np.float32))
    assert np.all(np.any(mel != 0, axis=0))


@pytest.fixture(scope="module")
def model_dir(weights_cache: Path) -> Path:
    return ensure_base_model(weights_cache)


@pytest.mark.slow
@pytest.mark.parametrize(("language", "name"), [("en", "jfk.flac"), ("zh", "paddlespeech_zh.wav")])
def test_trimmed_window_transcribes_real_clips_like_the_full_window(
    model_dir: Path, shared_eval: Path, language: str, name: str
) -> None:
    audio = load_audio(shared_eval / "speech" / language / name).samples
    trimmed = Transcriber(FasterWhisperEngine(model_dir, cpu_threads=2)).transcribe(audio)
    full = Transcriber(FasterWhisperEngine(model_dir, cpu_threads=2, encoder_margin_frames=None)).transcribe(
        audio
    )
    assert ENCODER_MARGIN_FRAMES < 3000
    assert trimmed.language == full.language == language
    # The same words; a comma may move with the CPU's vector width (CI's differs from ours).
    assert _words(trimmed.text) == _words(full.text)


def _words(text: str) -> list[str]:
    return "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text.lower()).split()


@pytest.mark.slow
def test_the_n_best_list_of_a_real_mandarin_clip_starts_with_the_beam_search_answer(
    model_dir: Path, shared_eval: Path
) -> None:
    from intake.asr import DecodeOptions, to_simplified

    engine = FasterWhisperEngine(model_dir, cpu_threads=2)
    audio = load_audio(shared_eval / "speech" / "zh" / "paddlespeech_zh.wav").samples
    hypotheses = engine.nbest(audio, "zh", beam_size=5, n=4)
    assert 1 < len(hypotheses) <= 4 and len({text for text, _ in hypotheses}) == len(hypotheses)
    assert all(score < 0 for _, score in hypotheses)
    options = DecodeOptions(temperatures=(0.0,))
    decoded = "".join(s.text for s in engine.decode(audio, "zh", options))
    assert _words(to_simplified(hypotheses[0][0])) == _words(to_simplified(decoded))

"""openai-whisper engine on weights converted from the packaged CTranslate2 model (real components)."""

from __future__ import annotations

import base64
import gzip
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from intake.asr import DecodeOptions, Segment, Transcriber
from intake.engine_openai import OpenAIWhisperEngine
from intake.weights import ensure_base_model
from intake.whisper_convert import CHECKPOINT_NAME, ensure_openai_checkpoint

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

REPO = Path(__file__).resolve().parents[2]
_HAVE_EXTRA = all(importlib.util.find_spec(m) is not None for m in ("torch", "whisper"))
needs_extra = pytest.mark.skipif(not _HAVE_EXTRA, reason="the openai-whisper extra is not installed")
if _HAVE_EXTRA:
    import torch
    import whisper


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh cache folder for this module's weights."""
    return tmp_path_factory.mktemp("whisper-cache")


@pytest.fixture(scope="module")
def ct2_dir(cache_dir: Path) -> Path:
    """The verified CTranslate2 Whisper base model."""
    return ensure_base_model(cache_dir)


@pytest.fixture(scope="module")
def checkpoint(ct2_dir: Path, cache_dir: Path) -> Path:
    """The openai-whisper checkpoint converted from it (a real conversion, a few seconds)."""
    return ensure_openai_checkpoint(ct2_dir, cache_dir)


@pytest.fixture()
def tiny_checkpoint(tmp_path: Path) -> Path:
    """A random 1-layer multilingual Whisper: runs every engine code path in well under a second."""
    dims = whisper.model.ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
        n_vocab=51865, n_text_ctx=448, n_text_state=32, n_text_head=2, n_text_layer=1,
    )  # fmt: skip
    torch.manual_seed(0)
    model = whisper.model.Whisper(dims)
    # Some Whisper parameters start as torch.empty (uninitialised memory, NaN at times): fill them all.
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.02)
    path = tmp_path / "tiny.pt"
    torch.save({"dims": dims.__dict__, "model_state_dict": model.state_dict()}, path)
    return path


@pytest.mark.slow
@needs_extra
def test_converted_checkpoint_loads_with_base_dims(checkpoint: Path) -> None:
    model = whisper.load_model(str(checkpoint), device="cpu")
    dims = model.dims
    assert (dims.n_mels, dims.n_audio_ctx, dims.n_audio_state, dims.n_audio_head, dims.n_audio_layer) == (
        80, 1500, 512, 8, 6,
    )  # fmt: skip
    assert (dims.n_vocab, dims.n_text_ctx, dims.n_text_state, dims.n_text_head, dims.n_text_layer) == (
        51865, 448, 512, 8, 6,
    )  # fmt: skip
    assert all(p.dtype == torch.float32 for p in model.parameters())
    # Key projections have no bias, as in openai-whisper; the output projection is the embedding.
    assert model.encoder.blocks[0].attn.key.bias is None
    saved = torch.load(str(checkpoint), map_location="cpu", mmap=True, weights_only=True)
    heads = np.frombuffer(gzip.decompress(base64.b85decode(saved["alignment_heads"])), dtype=bool)
    official = np.frombuffer(gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS["base"])), dtype=bool)
    assert np.array_equal(heads, official)


@pytest.mark.slow
@needs_extra
def test_jfk_transcript_matches_faster_whisper_fp32(
    checkpoint: Path, ct2_dir: Path, shared_eval: Path
) -> None:
    from faster_whisper.audio import decode_audio

    from intake.engine_faster import FasterWhisperEngine

    audio = decode_audio(str(shared_eval / "speech" / "en" / "jfk.flac"), sampling_rate=16000)
    ours = Transcriber(OpenAIWhisperEngine(checkpoint, threads=1)).transcribe(audio)
    # openai-whisper always encodes the full 30 s window: compare with faster-whisper doing the same.
    full_window = FasterWhisperEngine(
        ct2_dir, compute_type="float32", cpu_threads=1, encoder_margin_frames=None
    )
    theirs = Transcriber(full_window).transcribe(audio)
    assert ours.engine == "openai-whisper" and ours.model == "whisper-base/fp32"
    assert ours.language == theirs.language == "en"
    assert ours.text == theirs.text
    assert "ask not what your country can do for you" in ours.text


@needs_extra
@pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")  # inside whisper
def test_engine_code_path_on_tiny_random_model(tiny_checkpoint: Path) -> None:
    engine = OpenAIWhisperEngine(tiny_checkpoint)
    audio = (0.1 * np.sin(np.linspace(0, 2000, 16000 * 2))).astype(np.float32)
    probs = engine.language_probabilities(audio)
    assert {"zh", "en"} <= probs.keys()
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-3)
    segments = engine.decode(
        audio, "zh", DecodeOptions(beam_size=1, temperatures=(0.0,), initial_prompt="你")
    )
    assert all(isinstance(s, Segment) for s in segments)


def test_missing_torch_names_the_install_commands() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from pathlib import Path\n"
        "from intake.engine_openai import EngineUnavailable, OpenAIWhisperEngine\n"
        "try:\n"
        "    OpenAIWhisperEngine(Path('x.pt'))\n"
        "except EngineUnavailable as exc:\n"
        "    print(exc.kind, '|', exc.detail)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.startswith("EngineUnavailable |")
    assert "pip install torch==2.13.0" in out.stdout
    assert "pip install -e '.[openai-whisper]'" in out.stdout


@pytest.mark.slow
@needs_extra
def test_checkpoint_is_cached_and_rebuilt_when_damaged(
    checkpoint: Path, ct2_dir: Path, cache_dir: Path
) -> None:
    assert checkpoint == cache_dir / CHECKPOINT_NAME
    before = checkpoint.stat().st_mtime_ns
    assert ensure_openai_checkpoint(ct2_dir, cache_dir) == checkpoint
    assert checkpoint.stat().st_mtime_ns == before

    size = checkpoint.stat().st_size
    with checkpoint.open("r+b") as fh:  # same size, damaged bytes in the middle
        fh.seek(size // 2)
        fh.write(b"\xff" * 4096)
    damaged = checkpoint.stat().st_mtime_ns
    assert ensure_openai_checkpoint(ct2_dir, cache_dir) == checkpoint
    assert checkpoint.stat().st_mtime_ns != damaged
    assert whisper.load_model(str(checkpoint), device="cpu").dims.n_text_layer == 6
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".")]  # no temp files left

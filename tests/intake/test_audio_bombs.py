"""Audio bombs: tens of KB that describe minutes of 8-channel sound at hundreds of kHz.

Each bomb is inspected (what an upload does) and decoded (what the worker does) in a child
process, whose peak memory is measured: refused from its header or processed, it must never
cost more than a voice note's 16 kHz mono samples, whatever it claims.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from intake import audio
from intake.audio import AudioLimits, AudioTooLong, CorruptAudio, ffmpeg_path, inspect_audio, load_audio

from .bombs import MB, flac_bomb, relabel_flac, wav_bomb
from .test_audio import check_detail

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
MAX_GROWTH = 150 * MB

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

# Runs in a fresh interpreter: argv = function name, file, AudioLimits as JSON; prints the outcome.
CHILD = """
import json, resource, sys
from pathlib import Path
from intake import audio
from models.errors import DomainError
from tests.intake.bombs import peak, reset_peak

call = getattr(audio, sys.argv[1])
path, limits = Path(sys.argv[2]), audio.AudioLimits(**json.loads(sys.argv[3]))
start = reset_peak()
try:
    result = call(path, limits)
    outcome = {"ok": True, "duration_s": result.duration_s, "rate": getattr(result, "sample_rate", None)
               or result.original_sample_rate, "channels": getattr(result, "channels", None)
               or result.original_channels}
except DomainError as exc:
    outcome = {"ok": False, "kind": type(exc).__name__, "detail": exc.detail}
outcome["growth"] = peak() - start
outcome["ffmpeg_peak"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps(outcome))
"""


def in_child(function: str, path: Path, limits: AudioLimits | None = None) -> dict[str, Any]:
    """Run ``intake.audio.<function>(path, limits)`` in a new Python process and say what happened."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, function, str(path), json.dumps(asdict(limits or AudioLimits()))],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    made = {
        "flac-384k-7.1": flac_bomb(folder / "384k.flac", 384_000, 60),
        "flac-655k-7.1": flac_bomb(folder / "655k.flac", 655_350, 60),
        "flac-192k-7.1": flac_bomb(folder / "192k.flac", 192_000, 150),
        "wav-absurd-rate": wav_bomb(folder / "absurd.wav", 2_000_000_000, 8),
    }
    # The header says 48 kHz stereo; the frames hold 655 kHz 7.1 for 60 s (34 min at 48 kHz).
    made["flac-header-lies"] = relabel_flac(made["flac-655k-7.1"], folder / "lies.flac", 48_000, 2)
    for name, path in made.items():
        assert path.stat().st_size < 100 * 1024, f"{name} is not a small file"
    return made


# bomb, words the refusal says (None: it is processed, with this length, rate and channels)
REFUSED = [
    ("flac-384k-7.1", CorruptAudio, ["8 channels at 384,000 samples per second", "192,000", "again"]),
    ("flac-655k-7.1", CorruptAudio, ["8 channels at 655,350 samples per second", "again"]),
    ("wav-absurd-rate", CorruptAudio, ["8 channels at 2,000,000,000 samples per second", "again"]),
    ("flac-header-lies", AudioTooLong, ["longer than the limit of 10 min"]),
]


@pytest.mark.parametrize("function", ["inspect_audio", "load_audio"])
@pytest.mark.parametrize(("bomb", "error", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_bomb_is_refused_without_decoding_it_in_memory(
    bombs: dict[str, Path], function: str, bomb: str, error: type[Exception], words: list[str]
) -> None:
    outcome = in_child(function, bombs[bomb])
    assert outcome["growth"] < MAX_GROWTH, f"{function} grew by {outcome['growth'] / MB:.0f} MB"
    assert outcome["ffmpeg_peak"] < MAX_GROWTH, f"ffmpeg used {outcome['ffmpeg_peak'] / MB:.0f} MB"
    assert not outcome["ok"], outcome
    assert outcome["kind"] == error.__name__
    for word in words:
        assert word in outcome["detail"]


@pytest.mark.parametrize("function", ["inspect_audio", "load_audio"])
def test_a_plausible_heavy_recording_is_processed_within_the_bound(
    bombs: dict[str, Path], function: str
) -> None:
    # 192 kHz 7.1 is the most a header may describe: 150 s of it is 1.7 GB as float32, decoded
    # by ffmpeg straight to 16 kHz mono (9.6 MB).
    outcome = in_child(function, bombs["flac-192k-7.1"])
    assert outcome["growth"] < MAX_GROWTH, f"{function} grew by {outcome['growth'] / MB:.0f} MB"
    assert outcome["ffmpeg_peak"] < MAX_GROWTH, f"ffmpeg used {outcome['ffmpeg_peak'] / MB:.0f} MB"
    assert outcome["ok"], outcome
    assert outcome["duration_s"] == pytest.approx(150.0, abs=0.05)
    assert (outcome["rate"], outcome["channels"]) == (192_000, 8)


@pytest.mark.parametrize(("max_seconds", "ok"), [(150.0, True), (149.5, False)])
def test_an_upload_near_the_limit_is_measured_without_holding_the_sound(
    bombs: dict[str, Path], max_seconds: float, ok: bool
) -> None:
    # Within a second of the limit, inspection runs the worker's decode to draw the line as the
    # worker will; inside a request it only counts the samples.
    limits = AudioLimits(max_seconds=max_seconds)
    inspected = in_child("inspect_audio", bombs["flac-192k-7.1"], limits)
    assert inspected["growth"] < MAX_GROWTH, f"inspection grew by {inspected['growth'] / MB:.0f} MB"
    decoded = in_child("load_audio", bombs["flac-192k-7.1"], limits)
    assert inspected["ok"] is decoded["ok"] is ok, (inspected, decoded)
    assert inspected.get("detail") == decoded.get("detail")


def test_the_refusals_read_plainly(bombs: dict[str, Path]) -> None:
    for bomb, error, _ in REFUSED:
        with pytest.raises(error) as info:
            inspect_audio(bombs[bomb], AudioLimits())
        check_detail(info.value)


def test_a_decode_that_runs_out_of_time_fails_with_a_clear_error(bombs: dict[str, Path]) -> None:
    with pytest.raises(CorruptAudio) as info:
        load_audio(bombs["flac-192k-7.1"], AudioLimits(decode_timeout_s=0.1))
    check_detail(info.value)
    assert "takes longer than 0.1 s to decode" in info.value.detail


def test_an_upload_check_that_runs_out_of_time_accepts_the_note() -> None:
    # 3.69 s is within a second of the 4 s limit, so inspection runs the worker's decode to be
    # sure; when that pass cannot finish in time, the villager's note is accepted and the worker
    # decides.
    limits = AudioLimits(max_seconds=4.0, inspect_timeout_s=0.001)
    info = inspect_audio(DATA / "speech.ogg", limits)
    assert info.duration_s == pytest.approx(3.69, abs=0.05)
    assert (info.format, info.sample_rate, info.channels) == ("ogg", 48_000, 1)
    assert load_audio(DATA / "speech.ogg", limits).duration_s == pytest.approx(3.69, abs=0.01)


def test_a_decoder_killed_midway_is_a_domain_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "ffmpeg"  # dies as if the kernel ran out of memory when asked to decode
    fake.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do [ "$a" = pipe:1 ] && kill -KILL $$; done\n'
        f'exec "{ffmpeg_path()}" "$@"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setattr(audio.shutil, "which", lambda name: str(fake) if name == "ffmpeg" else None)
    ffmpeg_path.cache_clear()
    try:
        with pytest.raises(CorruptAudio) as info:
            load_audio(DATA / "speech.ogg", AudioLimits())
    finally:
        ffmpeg_path.cache_clear()
    check_detail(info.value)
    assert "stopped before it finished" in info.value.detail

"""CTranslate2 Whisper ``model.bin`` → openai-whisper checkpoint, so both engines share one set of weights.

The only Whisper weights available offline are a CTranslate2 model (see ``intake.weights``). This module
reads that binary file (format version 6, written by ``ctranslate2.specs.ModelSpec._serialize``) and
rebuilds the PyTorch state dict openai-whisper expects. torch is imported lazily: it is an optional extra.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import os
import re
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

import numpy as np

from models.errors import Unavailable
from models.hashing import sha256_file

CHECKPOINT_NAME = "whisper-base-openai.pt"
# Bump when the mapping changes: cached checkpoints made by another version are rebuilt.
CONVERTER_VERSION = 1
_BINARY_VERSION = 6
# Order of ctranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, None)  # bfloat16 unsupported


class ConversionError(Unavailable):
    """The CTranslate2 model cannot be turned into an openai-whisper checkpoint."""

    kind = "ConversionError"


def _torch() -> ModuleType:
    """Import torch, or raise EngineUnavailable with the install instructions."""
    try:
        import torch
    except ImportError as exc:
        from intake.engine_openai import INSTALL_HINT, EngineUnavailable

        raise EngineUnavailable(
            "Converting Whisper weights needs torch (%(exc)s). %(install_hint)s",
            exc=exc,
            install_hint=INSTALL_HINT,
        ) from exc
    return torch


def _read(fh: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = fh.read(size)
    if len(data) != size:
        raise ConversionError("model.bin ends early: the file is truncated")
    return struct.unpack("<" + fmt, data)[0]


def _read_string(fh: BinaryIO) -> str:
    length = _read(fh, "H")  # includes the trailing NUL
    return fh.read(length)[:-1].decode("utf-8")


def read_ct2_variables(model_bin: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Parse a CTranslate2 ``model.bin``: (spec name, variables by name, aliases resolved)."""
    variables: dict[str, np.ndarray] = {}
    with model_bin.open("rb") as fh:
        version = _read(fh, "I")
        if version != _BINARY_VERSION:
            raise ConversionError(
                "model.bin has binary version %(version)s; only %(binary_version)s is read",
                version=version,
                binary_version=_BINARY_VERSION,
            )
        spec = _read_string(fh)
        _read(fh, "I")  # spec revision
        for _ in range(_read(fh, "I")):
            name = _read_string(fh)
            dims = [_read(fh, "I") for _ in range(_read(fh, "B"))]
            type_id, nbytes = _read(fh, "B"), _read(fh, "I")
            dtype = _DTYPES[type_id] if type_id < len(_DTYPES) else None
            if dtype is None:
                raise ConversionError(
                    "variable %(name)s has unsupported CTranslate2 type id %(type_id)s",
                    name=name,
                    type_id=type_id,
                )
            raw = fh.read(nbytes)
            if len(raw) != nbytes:
                raise ConversionError("model.bin ends early: the file is truncated")
            variables[name] = np.frombuffer(raw, dtype=dtype).reshape(dims)
        for _ in range(_read(fh, "I")):
            alias, target = _read_string(fh), _read_string(fh)
            variables[alias] = variables[target]
    return spec, variables


def _alignment_heads_dump(heads: list[list[int]], n_layer: int, n_head: int) -> str:
    """Encode (layer, head) pairs the way openai-whisper stores them (_ALIGNMENT_HEADS)."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0)).decode("ascii")


def _linear(v: dict[str, np.ndarray], src: str, dst: str) -> dict[str, np.ndarray]:
    return {f"{dst}.weight": v[f"{src}/weight"], f"{dst}.bias": v[f"{src}/bias"]}


def _norm(v: dict[str, np.ndarray], src: str, dst: str) -> dict[str, np.ndarray]:
    return {f"{dst}.weight": v[f"{src}/gamma"], f"{dst}.bias": v[f"{src}/beta"]}


def _attention(v: dict[str, np.ndarray], src: str, dst: str, cross: bool) -> dict[str, np.ndarray]:
    """One attention block. Self: linear_0 = fused q,k,v, linear_1 = out.
    Cross: linear_0 = query, linear_1 = fused k,v, linear_2 = out."""
    fused, out_proj = ("linear_1", "linear_2") if cross else ("linear_0", "linear_1")
    names = ["key", "value"] if cross else ["query", "key", "value"]
    weights = np.split(v[f"{src}/{fused}/weight"], len(names))
    biases = np.split(v[f"{src}/{fused}/bias"], len(names))
    out = _linear(v, f"{src}/linear_0", f"{dst}.query") if cross else {}
    for part, weight, bias in zip(names, weights, biases, strict=True):
        out[f"{dst}.{part}.weight"] = weight
        if part != "key":
            out[f"{dst}.{part}.bias"] = bias
        elif np.any(bias != 0):
            raise ConversionError("%(src)s: key bias is not zero; openai-whisper's key has no bias", src=src)
    return out | _linear(v, f"{src}/{out_proj}", f"{dst}.out") | _norm(v, f"{src}/layer_norm", f"{dst}_ln")


def _block(v: dict[str, np.ndarray], src: str, dst: str, cross: bool) -> dict[str, np.ndarray]:
    out = _attention(v, f"{src}/self_attention", f"{dst}.attn", cross=False)
    if cross:
        out |= _attention(v, f"{src}/attention", f"{dst}.cross_attn", cross=True)
    out |= _linear(v, f"{src}/ffn/linear_0", f"{dst}.mlp.0") | _linear(
        v, f"{src}/ffn/linear_1", f"{dst}.mlp.2"
    )
    return out | _norm(v, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")


def _count_layers(v: dict[str, np.ndarray], side: str) -> int:
    return len({m.group(1) for name in v if (m := re.match(rf"{side}/layer_(\d+)/", name))})


def convert(ct2_dir: Path) -> dict:
    """Build ``{"dims", "model_state_dict", "alignment_heads"}`` for ``whisper.load_model`` from ``ct2_dir``.

    Float16 (or float32) CTranslate2 weights become float32 tensors; quantised models are refused.
    ``alignment_heads`` (from config.json) is in openai-whisper's own encoding: pass it to
    ``model.set_alignment_heads`` (``load_model`` ignores it for local files).
    """
    torch = _torch()
    spec, v = read_ct2_variables(ct2_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ConversionError("%(ct2_dir)s holds a %(spec)s, not a Whisper model", ct2_dir=ct2_dir, spec=spec)
    if any(name.endswith("weight_scale") for name in v):
        raise ConversionError("quantised CTranslate2 models cannot be converted; use a float16/32 one")
    n_audio_layer, n_text_layer = _count_layers(v, "encoder"), _count_layers(v, "decoder")
    conv1 = v["encoder/conv1/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(v["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(v["decoder/embeddings/weight"].shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    embeddings = v["decoder/embeddings/weight"]
    projection = v.get("decoder/projection/weight", embeddings)
    if projection is not embeddings and not np.array_equal(projection, embeddings):
        raise ConversionError(
            "the decoder projection differs from the token embedding; openai-whisper ties them"
        )
    state = (
        _linear(v, "encoder/conv1", "encoder.conv1")
        | _linear(v, "encoder/conv2", "encoder.conv2")
        | {"encoder.positional_embedding": v["encoder/position_encodings/encodings"]}
        | _norm(v, "encoder/layer_norm", "encoder.ln_post")
        | {"decoder.token_embedding.weight": embeddings}
        | {"decoder.positional_embedding": v["decoder/position_encodings/encodings"]}
        | _norm(v, "decoder/layer_norm", "decoder.ln")
    )
    for i in range(n_audio_layer):
        state |= _block(v, f"encoder/layer_{i}", f"encoder.blocks.{i}", cross=False)
    for i in range(n_text_layer):
        state |= _block(v, f"decoder/layer_{i}", f"decoder.blocks.{i}", cross=True)
    config = json.loads((ct2_dir / "config.json").read_text())
    heads = _alignment_heads_dump(config.get("alignment_heads", []), n_text_layer, dims["n_text_head"])
    tensors = {name: torch.from_numpy(np.array(a, dtype=np.float32)) for name, a in state.items()}
    return {"dims": dims, "model_state_dict": tensors, "alignment_heads": heads}


def _cache_is_valid(checkpoint: Path, meta_path: Path, source_sha: str) -> bool:
    if not (checkpoint.is_file() and meta_path.is_file()):
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return False
    return (
        meta.get("source_sha256") == source_sha
        and meta.get("converter_version") == CONVERTER_VERSION
        and meta.get("checkpoint_size") == checkpoint.stat().st_size
        and meta.get("checkpoint_sha256") == sha256_file(checkpoint)
    )


def _write_atomically(target: Path, write: Callable[[BinaryIO], object]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ensure_openai_checkpoint(ct2_dir: Path, cache_dir: Path) -> Path:
    """Return ``cache_dir/whisper-base-openai.pt``, converting ``ct2_dir`` only when needed.

    ``whisper-base-openai.pt.json`` beside it records the source ``model.bin`` sha256 and the
    checkpoint's own sha256; a cached file is reused only when both still match, so a different
    source model or a damaged checkpoint is rebuilt. Files are written to a temp file and renamed.
    """
    torch = _torch()
    checkpoint = cache_dir / CHECKPOINT_NAME
    meta_path = cache_dir / (CHECKPOINT_NAME + ".json")
    source_sha = sha256_file(ct2_dir / "model.bin")
    if _cache_is_valid(checkpoint, meta_path, source_sha):
        return checkpoint
    cache_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(checkpoint, functools.partial(torch.save, convert(ct2_dir)))
    meta = {
        "source_sha256": source_sha,
        "converter_version": CONVERTER_VERSION,
        "checkpoint_size": checkpoint.stat().st_size,
        "checkpoint_sha256": sha256_file(checkpoint),
    }
    _write_atomically(meta_path, lambda fh: fh.write(json.dumps(meta, indent=1).encode() + b"\n"))
    return checkpoint

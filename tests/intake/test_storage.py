"""The audio store: a local directory, and an S3-compatible server reached over HTTP (moto); what a
crashed process left staged is removed on the next start."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.storage import (
    AudioStore,
    LocalAudioStore,
    S3AudioStore,
    S3Options,
    StorageUnavailable,
    open_store,
)
from tests.s3_server import CREDENTIALS, CuttingProxy, S3Server

BUCKET = "minsheng-audio"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    """One S3 server for the module, with the bucket created."""
    server = S3Server()
    server.client().create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


@pytest.fixture()
def proxy(s3: S3Server) -> Iterator[CuttingProxy]:
    """The store reaches S3 through this proxy, which can cut connections midway."""
    p = CuttingProxy(s3.port)
    yield p
    p.close()


def _s3_store(tmp_path: Path, endpoint: str, prefix: str, **options: int) -> S3AudioStore:
    store = open_store(
        f"s3://{BUCKET}/{prefix}",
        tmp_path / "audio",
        S3Options(endpoint_url=endpoint, region="us-east-1", timeout_seconds=5, **options, **CREDENTIALS),  # type: ignore[arg-type]
    )
    assert isinstance(store, S3AudioStore)
    return store


def _keys(s3: S3Server, prefix: str) -> list[str]:
    listing = s3.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def test_local_store_keeps_one_copy_per_content(tmp_path: Path, data_dir: Path) -> None:
    store = open_store(None, tmp_path / "audio")
    assert isinstance(store, LocalAudioStore)
    payload = (data_dir / "voice_power.ogg").read_bytes()
    first = store.commit(store.stage(io.BytesIO(payload), 1 << 20), "ogg")
    second = store.commit(store.stage(io.BytesIO(payload), 1 << 20), "ogg")
    sha = hashlib.sha256(payload).hexdigest()
    assert first == second == (sha, Path(sha[:2]) / f"{sha}.ogg", len(payload))
    assert store.read_bytes(first[1]) == payload
    with store.local_copy(first[1]) as path:
        assert path.read_bytes() == payload
    assert list(store.incoming.iterdir()) == []


def test_s3_store_round_trip_and_deduplication(
    tmp_path: Path, data_dir: Path, s3: S3Server, proxy: CuttingProxy
) -> None:
    store = _s3_store(tmp_path, proxy.url, "notes/a")
    payload = (data_dir / "voice_power.ogg").read_bytes()
    sha, relative, size = store.commit(store.stage(io.BytesIO(payload), 1 << 20), "ogg")
    again = store.commit(store.stage(io.BytesIO(payload), 1 << 20), "ogg")
    assert again == (sha, relative, size) and size == len(payload)
    assert _keys(s3, "notes/a/") == [f"notes/a/{sha[:2]}/{sha}.ogg"]
    assert s3.client().get_object(Bucket=BUCKET, Key=f"notes/a/{relative}")["Body"].read() == payload
    with store.local_copy(relative) as path:
        assert path.read_bytes() == payload
    assert not path.exists()  # the downloaded copy is removed after use
    assert list(store.incoming.iterdir()) == []


@pytest.mark.parametrize("multipart", [False, True], ids=["single-put", "multipart"])
def test_an_upload_cut_off_midway_leaves_nothing_behind_and_loses_nothing(
    tmp_path: Path, data_dir: Path, s3: S3Server, proxy: CuttingProxy, multipart: bool
) -> None:
    prefix = f"notes/cut-{multipart}"
    store = _s3_store(tmp_path, proxy.url, prefix, multipart_threshold=5 * 1024 * 1024)
    kept = (data_dir / "voice_other.ogg").read_bytes()
    _, kept_at, _ = store.commit(store.stage(io.BytesIO(kept), 1 << 20), "ogg")

    # 6 MB forces a multipart upload (5 MB parts); 160 kB goes in one PUT. Either is cut halfway.
    payload = os.urandom(6 * 1024 * 1024) if multipart else (data_dir / "speech.wav").read_bytes()
    proxy.cut_after = len(payload) // 2
    staged = store.stage(io.BytesIO(payload), 16 << 20)
    with pytest.raises(StorageUnavailable, match="Nothing was stored"):
        store.commit(staged, "wav")
    assert proxy.cuts >= 1
    sha = hashlib.sha256(payload).hexdigest()
    assert _keys(s3, f"{prefix}/") == [f"{prefix}/{kept_at.as_posix()}"]  # no partial object
    assert s3.client().list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", []) == []
    assert store.read_bytes(kept_at) == kept  # what was stored before is intact
    assert list(store.incoming.iterdir()) == []  # and no staged file is left on local disk

    proxy.cut_after = None  # the network is back: sending again stores it, once
    sha2, relative, size = store.commit(store.stage(io.BytesIO(payload), 16 << 20), "wav")
    assert (sha2, size) == (sha, len(payload))
    assert store.read_bytes(relative) == payload
    assert len(_keys(s3, f"{prefix}/")) == 2


def test_an_unreachable_store_is_a_clear_error(tmp_path: Path, data_dir: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{s.getsockname()[1]}"
    store = _s3_store(tmp_path, nobody, "notes")
    staged = store.stage(io.BytesIO((data_dir / "voice_power.ogg").read_bytes()), 1 << 20)
    with pytest.raises(StorageUnavailable, match="audio store is unreachable"):
        store.commit(staged, "ogg")
    assert not staged.exists()


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_reopening_the_store_removes_what_a_crash_left_staged(
    tmp_path: Path, data_dir: Path, s3: S3Server, backend: str
) -> None:
    def opened() -> AudioStore:
        if backend == "local":
            return open_store(None, tmp_path / "audio")
        return _s3_store(tmp_path, s3.url, "stale")

    store = opened()
    payload = (data_dir / "voice_power.ogg").read_bytes()
    _, stored, _ = store.commit(store.stage(io.BytesIO(payload), 1 << 20), "ogg")
    # The process dies between staging and commit, and (S3) while a fetched copy is being decoded.
    crashed = [store.stage(io.BytesIO(payload), 1 << 20)]
    if backend == "s3":
        decoding = store.local_copy(stored)  # entered, never left, as by a process that died
        crashed.append(decoding.__enter__())
    hours_ago = time.time() - 2 * 3600
    for path in crashed:
        os.utime(path, (hours_ago, hours_ago))
    # Another process on the same data directory is staging an upload right now.
    in_flight = store.stage(io.BytesIO(payload), 1 << 20)
    unrelated = store.incoming / "operator-notes.txt"
    unrelated.write_text("not ours")
    os.utime(unrelated, (hours_ago, hours_ago))

    reopened = opened()  # the restart
    assert not any(path.exists() for path in crashed)
    assert sorted(reopened.incoming.iterdir()) == sorted([in_flight, unrelated])
    assert reopened.read_bytes(stored) == payload

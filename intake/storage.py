"""Where villagers' recordings live: written before anything else, named by content, never overwritten.

One interface, two backends: a local directory (the default) or any S3-compatible object store
(MinIO, Ceph RGW, AWS S3, Aliyun OSS in S3 mode). Uploads are always staged on local disk first
(size enforced while streaming), then committed to their content address; a database row refers
to a recording only after the commit succeeded. Opening a store removes the staged files that a
crashed process left behind.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from intake.audio import too_large
from models.errors import Unavailable
from models.hashing import sha256_file

log = logging.getLogger(__name__)

STAGED_PREFIX = "up-"  # an upload on its way into the store
FETCHED_PREFIX = "get-"  # a stored recording copied here to be decoded (S3)
# Staged files older than this are a crashed process's leftovers. Younger ones may belong to
# another process on the same data directory (``minsheng serve --processes N``, workers), whose
# files live only as long as one upload takes to commit or one recording to decode.
STALE_STAGING_SECONDS = 3600.0


class StorageUnavailable(Unavailable):
    """The audio store cannot be written or read right now; nothing was stored, try again later."""

    kind = "StorageUnavailable"


def content_address(sha: str, extension: str) -> Path:
    """Relative name of a recording: ``ab/abcdef….ext``."""
    return Path(sha[:2]) / f"{sha}.{extension}"


class AudioStore(ABC):
    """Stage an upload locally, commit it to its content address, read it back as a local file."""

    def __init__(self, staging: Path) -> None:
        self.incoming = staging
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.remove_stale_staging()

    def remove_stale_staging(self, older_than: float = STALE_STAGING_SECONDS) -> int:
        """Delete the staged files last written more than ``older_than`` seconds ago (a crashed
        process's uploads and copies). Other files are left alone. Returns how many went."""
        cutoff = time.time() - older_than
        removed = 0
        for path in self.incoming.iterdir():
            if not path.name.startswith((STAGED_PREFIX, FETCHED_PREFIX)):
                continue
            try:
                info = path.lstat()
                if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another process cleaned it first
                continue
            except OSError as exc:
                log.warning("could not remove the stale staged file %s: %s", path, exc)
        if removed:
            log.info("removed %d staged file(s) left behind in %s", removed, self.incoming)
        return removed

    def stage(self, source: BinaryIO, max_bytes: int) -> Path:
        """Copy an upload to a private local file (fsynced), refusing it past ``max_bytes``."""
        fd, name = tempfile.mkstemp(dir=self.incoming, prefix=STAGED_PREFIX)
        path = Path(name)
        size = 0
        try:
            with os.fdopen(fd, "wb") as fh:
                while block := source.read(1 << 20):
                    size += len(block)
                    if size > max_bytes:
                        raise too_large(max_bytes)
                    fh.write(block)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def commit(self, staged: Path, extension: str) -> tuple[str, Path, int]:
        """Store a staged file at its content address. Returns (sha256, relative path, size).

        The staged file is gone afterwards, whether the commit succeeded or not. On failure
        nothing is visible at the content address (StorageUnavailable is raised).
        """
        try:
            sha = sha256_file(staged)
            size = staged.stat().st_size
            relative = content_address(sha, extension)
            self._put(staged, relative, size)
        finally:
            staged.unlink(missing_ok=True)
        return sha, relative, size

    @abstractmethod
    def _put(self, staged: Path, relative: Path, size: int) -> None:
        """Make the staged file's bytes available at ``relative`` (atomically; keep what exists)."""

    @abstractmethod
    def local_copy(self, relative: str | Path) -> Any:
        """A context manager giving a local path with the recording's bytes (for decoding)."""

    @abstractmethod
    def read_bytes(self, relative: str | Path) -> bytes:
        """The stored bytes of a recording."""

    @abstractmethod
    def describe(self) -> str:
        """Where recordings are kept, for logs and the readiness probe."""

    def local_path(self, relative: str | Path) -> Path | None:
        """The recording's own file when the store keeps it on this machine's disk, else None."""
        return None


class LocalAudioStore(AudioStore):
    """Audio files under ``root``, named by sha256 (``ab/abcdef….ext``), never overwritten."""

    def __init__(self, root: Path) -> None:
        self.root = root
        super().__init__(root / ".incoming")

    def _put(self, staged: Path, relative: Path, size: int) -> None:
        target = self.root / relative
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)  # same filesystem: atomic, and fsynced when staged

    @contextmanager
    def local_copy(self, relative: str | Path) -> Iterator[Path]:
        """The stored file itself."""
        yield self.root / relative

    def read_bytes(self, relative: str | Path) -> bytes:
        """The stored bytes of a recording."""
        return (self.root / relative).read_bytes()

    def describe(self) -> str:
        """The directory."""
        return str(self.root)

    def local_path(self, relative: str | Path) -> Path | None:
        """The stored file itself."""
        return self.root / relative


@dataclass(frozen=True)
class S3Options:
    """How to reach an S3-compatible store. Unset credentials fall back to boto3's own sources."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    timeout_seconds: float = 10.0
    multipart_threshold: int = 16 * 1024 * 1024


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ("bucket", "some/prefix")."""
    if not url.startswith("s3://") or len(url) <= len("s3://"):
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}")
    return bucket, prefix.strip("/")


class S3AudioStore(AudioStore):
    """Recordings as objects ``<prefix>/ab/abcdef….ext`` in one bucket of an S3-compatible store.

    A PUT (or a completed multipart upload) is atomic in S3: an upload cut off midway leaves no
    object behind, and an unfinished multipart upload is aborted (or, if even that fails, stays
    invisible until the bucket's lifecycle rule removes it).
    """

    def __init__(self, url: str, staging: Path, options: S3Options | None = None) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        super().__init__(staging)
        self.url = url
        self.bucket, self.prefix = parse_s3_url(url)
        self.options = options or S3Options()
        self.client = boto3.client(
            "s3",
            endpoint_url=self.options.endpoint_url,
            region_name=self.options.region,
            aws_access_key_id=self.options.access_key_id,
            aws_secret_access_key=self.options.secret_access_key,
            config=Config(
                connect_timeout=self.options.timeout_seconds,
                read_timeout=self.options.timeout_seconds,
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )
        self.transfer = TransferConfig(
            multipart_threshold=self.options.multipart_threshold,
            multipart_chunksize=max(self.options.multipart_threshold, 5 * 1024 * 1024),
            use_threads=False,
        )

    def key_of(self, relative: str | Path) -> str:
        """The object key of a recording."""
        name = Path(relative).as_posix()
        return f"{self.prefix}/{name}" if self.prefix else name

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _put(self, staged: Path, relative: Path, size: int) -> None:
        key = self.key_of(relative)
        try:
            if self._exists(key):
                return
            self.client.upload_file(str(staged), self.bucket, key, Config=self.transfer)
            stored = self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except Exception as exc:
            log.error("could not store %s in %s: %s: %s", key, self.url, type(exc).__name__, exc)
            raise StorageUnavailable(
                "The recording could not be saved right now (the audio store is unreachable). "
                "Nothing was stored; please send it again in a few minutes."
            ) from exc
        if stored != size:
            raise StorageUnavailable(
                "The audio store kept %(stored)s of %(size)s bytes; please send it again.",
                stored=stored,
                size=size,
            )

    @contextmanager
    def local_copy(self, relative: str | Path) -> Iterator[Path]:
        """Download the object to a private temporary file, removed afterwards."""
        fd, name = tempfile.mkstemp(dir=self.incoming, prefix=FETCHED_PREFIX, suffix=Path(relative).suffix)
        os.close(fd)
        path = Path(name)
        try:
            try:
                self.client.download_file(self.bucket, self.key_of(relative), str(path))
            except Exception as exc:
                raise StorageUnavailable(
                    "The recording %(name)s could not be read from the audio store: %(exc)s",
                    name=Path(relative).name,
                    exc=exc,
                ) from exc
            yield path
        finally:
            path.unlink(missing_ok=True)

    def read_bytes(self, relative: str | Path) -> bytes:
        """The stored bytes of a recording."""
        with self.local_copy(relative) as path:
            return path.read_bytes()

    def describe(self) -> str:
        """The bucket URL."""
        return self.url


def open_store(spec: str | None, local_root: Path, s3: S3Options | None = None) -> AudioStore:
    """The store named by ``MINSHENG_AUDIO_STORE``: unset → ``local_root``; ``s3://…`` → S3."""
    if spec is None or spec.strip() == "":
        return LocalAudioStore(local_root)
    if spec.startswith("s3://"):
        return S3AudioStore(spec, local_root / ".incoming", s3)
    return LocalAudioStore(Path(spec))

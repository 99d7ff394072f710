"""Where villagers' recordings live: a content-addressed directory, written before anything else."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from intake.audio import too_large


class AudioStore:
    """Audio files under ``root``, named by sha256 (``ab/abcdef….ext``), never overwritten."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / ".incoming"
        self.incoming.mkdir(parents=True, exist_ok=True)

    def stage(self, source: BinaryIO, max_bytes: int) -> Path:
        """Copy an upload to a private file next to the store (fsynced), refusing it past ``max_bytes``."""
        fd, name = tempfile.mkstemp(dir=self.incoming, prefix="up-")
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
        """Move a staged file to its content address. Returns (sha256, relative path, size)."""
        digest = hashlib.sha256()
        with staged.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        sha = digest.hexdigest()
        relative = Path(sha[:2]) / f"{sha}.{extension}"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        size = staged.stat().st_size
        if target.exists():
            staged.unlink()
        else:
            os.replace(staged, target)
        return sha, relative, size

    def path_of(self, relative: str | Path) -> Path:
        """Absolute path of a stored file."""
        return self.root / relative

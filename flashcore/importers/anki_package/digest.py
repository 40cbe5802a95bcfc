"""A package file's fingerprint: its bytes hashed whole (BLAKE2b, ~1 GB/s: an AnKing package
of a few hundred MB in a few tenths of a second, where importing it takes many seconds)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileDigest:
    """The file's content digest (hex), and its size and modification time when it was read
    (to tell whether it was written again since)."""

    digest: str
    size: int
    mtime_ns: int


def file_stat(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def file_digest(path: Path) -> FileDigest:
    """The digest of `path`'s bytes; raises OSError when it cannot be read."""
    size, mtime = file_stat(path)
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return FileDigest(digest.hexdigest(), size, mtime)

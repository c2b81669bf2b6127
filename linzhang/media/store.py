"""Where photo bytes live: an interface and its local-disk implementation.

Keys are content addresses (``originals/ab/<sha256>``, ``thumbnails/ab/<sha256>.jpg``): a photo is
written once whatever the number of records it belongs to, and a key never changes meaning, so a
store needs no locking. An S3-compatible store implements the same two methods over a bucket (see
docs/operations.md, "Photos").
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from linzhang.settings import Settings

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def is_sha256(value: str) -> bool:
    return bool(_SHA256.match(value))


def original_key(sha256: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}"


def thumbnail_key(sha256: str) -> str:
    return f"thumbnails/{sha256[:2]}/{sha256}.jpg"


class PhotoStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Keep ``data`` under ``key`` (a content address: writing it again changes nothing)."""

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""


class LocalPhotoStore:
    """Files under one folder, written to a temporary name and renamed, so a reader never sees half."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if len(parts) != 3 or parts[0] not in {"originals", "thumbnails"} or not is_sha256(parts[2][:64]):
            raise ValueError(f"not a photo key: {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.is_file():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None


def store_for(settings: Settings) -> PhotoStore:
    """The store ``[media] store`` names (``local``: ``[media] folder``, else ``photos/`` under var)."""
    return LocalPhotoStore(settings.media_path)

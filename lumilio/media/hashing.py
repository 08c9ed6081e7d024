"""Content hashes of files, streamed so that large videos never sit in memory."""

from __future__ import annotations

from pathlib import Path

import blake3


def blake3_file(path: Path, chunk: int = 1 << 20) -> str:
    """The BLAKE3 digest of the file's bytes, as lower-case hex."""
    hasher = blake3.blake3()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            hasher.update(block)
    return hasher.hexdigest()

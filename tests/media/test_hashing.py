from __future__ import annotations

from pathlib import Path

import blake3

from lumilio.media.hashing import blake3_file


def test_blake3_streams_to_the_same_digest_as_one_shot(media: Path) -> None:
    path = media / "livephoto/train.jpg"
    expected = blake3.blake3(path.read_bytes()).hexdigest()

    assert blake3_file(path) == expected
    assert blake3_file(path, chunk=4093) == expected  # chunks not aligned to anything
    assert len(expected) == 64 and expected == expected.lower()


def test_blake3_of_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.touch()

    assert blake3_file(empty) == blake3.blake3(b"").hexdigest()

"""Damaged copies of corpus files: values or a MediaError, never another exception."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lumilio.media.errors import MediaError
from lumilio.media.kinds import sniff
from lumilio.media.metadata import MetadataReader
from lumilio.media.thumbnails import render_thumbnails

# Pillow warns about the damage it skips over; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SAMPLES = [
    "livephoto/train.jpg",
    "heic/IMG_2682.heic",
    "png-webp-gif/density_plot.png",
    "png-webp-gif/norway.webp",
    "png-webp-gif/BSG1.tiff",
    "raw/canon_eos_6d.dng",
    "video/with-gps.mov",
    "audio/silence-44-s.flac",
]


def _damaged(original: bytes, how: str, seed: int) -> bytes:
    if how == "truncated":
        return original[: len(original) * 2 // 5]
    noisy = bytearray(original)
    chance = random.Random(seed)
    for _ in range(40):
        noisy[chance.randrange(len(noisy))] = chance.randrange(256)
    return bytes(noisy)


@pytest.mark.parametrize("how", ["truncated", "scrambled"])
@pytest.mark.parametrize("relative", SAMPLES)
def test_damaged_file_gives_values_or_a_media_error(
    media: Path,
    tmp_path: Path,
    exiftool_reader: MetadataReader,
    fallback_reader: MetadataReader,
    relative: str,
    how: str,
) -> None:
    original = (media / relative).read_bytes()
    path = tmp_path / Path(relative).name
    path.write_bytes(_damaged(original, how, seed=len(relative)))

    outcomes = []
    try:
        kind = sniff(path)
    except MediaError:
        return
    for reader in (exiftool_reader, fallback_reader):
        try:
            outcomes.append(reader.read(path, kind).taken_source)
        except MediaError as error:
            outcomes.append(str(error))
    try:
        size = render_thumbnails(path, kind, {"small": tmp_path / "small.webp"})
        outcomes.append(size)
    except MediaError as error:
        outcomes.append(str(error))

    assert all(outcomes)
    assert not list(tmp_path.glob(".*.tmp"))

"""Perceptual fingerprints of pictures, for finding the same picture saved twice.

A fingerprint is taken from the small WebP thumbnail (already upright and in sRGB),
so that it costs one small decode. It holds:

- `phash`: the 64-bit DCT hash (imagehash.phash), as 16 hex digits; near-duplicate
  candidates are pairs within a few bits of each other;
- `thumbprint`: the picture in grey at 24x24 pixels (576 bytes). The hash keeps only
  the coarse layout, so two frames of a burst or two screenshots of one app can share
  it; comparing these pixels (see `difference`) tells a picture saved again from a
  picture taken again;
- `aspect`: width / height of the upright picture; a crop changes it;
- `spread`: the standard deviation of the thumbprint's grey levels. Nearly flat
  pictures (black frames, white walls, lens cap shots) have hashes and thumbprints
  made of noise, so they are never matched by look.

The thresholds that use these values live in `lumilio.services.duplicate_graph`;
`bench/measure_phash.py` measures them on the shared media.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, UnidentifiedImageError

from lumilio.media.errors import MediaError

logger = logging.getLogger(__name__)

# 8 gives imagehash's 64-bit hash (a DCT of the picture reduced to 32x32).
HASH_SIZE = 8
THUMBPRINT_SIDE = 24


@dataclass(frozen=True)
class Fingerprint:
    phash: str
    thumbprint: bytes
    aspect: float
    spread: float


def of_image(image: Image.Image) -> Fingerprint:
    """The fingerprint of an upright picture in any mode."""
    width, height = image.size
    grey = _flattened(image).convert("L")

    phash = imagehash.phash(grey, hash_size=HASH_SIZE)
    side = (THUMBPRINT_SIDE, THUMBPRINT_SIDE)
    pixels = np.asarray(grey.resize(side, Image.Resampling.LANCZOS), dtype=np.uint8)

    return Fingerprint(
        phash=str(phash),
        thumbprint=pixels.tobytes(),
        aspect=round(width / max(height, 1), 4),
        spread=round(float(pixels.std()), 2),
    )


def of_file(path: Path) -> Fingerprint:
    """The fingerprint of a picture file (normally a small thumbnail)."""
    try:
        with Image.open(path) as image:
            image.load()
            return of_image(image)
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise MediaError(f"cannot fingerprint {path.name}: {error}") from error


def distance(a: str, b: str) -> int:
    """Hamming distance of two hashes written as hex of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def difference(a: bytes, b: bytes) -> float:
    """How far apart two thumbprints are: the mean absolute difference of their
    pixels once each is brought to mean 0 and deviation 1, so that a change of
    brightness or contrast alone (an export, another encoder) counts for little.
    0 is the same picture; two unrelated pictures give about 1.1."""
    return float(np.mean(np.abs(_standardised(a) - _standardised(b))))


def _standardised(thumbprint: bytes) -> np.ndarray:
    pixels = np.frombuffer(thumbprint, dtype=np.uint8).astype(np.float32)
    return (pixels - pixels.mean()) / max(float(pixels.std()), 1e-6)


def _flattened(image: Image.Image) -> Image.Image:
    # Transparent areas count as white, as a viewer on a light page shows them; the
    # hash would otherwise see whatever colour the encoder left under alpha 0.
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        backdrop = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(backdrop, rgba)
    return image

"""Decoding the photo a model looks at: the large thumbnail, as RGB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


def load_rgb(path: Path) -> Image.Image:
    """An RGB image, upright (thumbnails are already rotated; EXIF is honoured for
    any other file)."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        return image.convert("RGB")


def center_crop(image: Image.Image, size: int, resize_short: int) -> np.ndarray:
    """Resize the short side to `resize_short`, cut the centre `size` square; HWC
    float32 in [0, 1]."""
    w, h = image.size
    scale = resize_short / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))),
                         Image.Resampling.BILINEAR)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    image = image.crop((left, top, left + size, top + size))
    return np.asarray(image, dtype=np.float32) / 255.0


def letterbox(image: Image.Image, side: int) -> tuple[np.ndarray, float]:
    """The image scaled to fit a `side` square, padded with black at the right and
    bottom; HWC float32 RGB in [0, 255], and the scale applied."""
    w, h = image.size
    scale = side / max(w, h)
    small = image.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                         Image.Resampling.BILINEAR)
    canvas = np.zeros((side, side, 3), dtype=np.float32)
    pixels = np.asarray(small, dtype=np.float32)
    canvas[:pixels.shape[0], :pixels.shape[1]] = pixels
    return canvas, scale

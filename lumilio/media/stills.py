"""Still images decoded upright, as cheaply as the largest thumbnail allows.

JPEG decodes through `Image.draft`, which lets libjpeg scale by 1/2, 1/4 or 1/8
while decoding: the smallest scale that still covers the largest target is chosen.
HEIF goes through pillow-heif, everything else through Pillow's own plugins.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from PIL import Image

from lumilio.media import heif, orientation
from lumilio.media.kinds import FileKind
from lumilio.media.picture import DECODE_ERRORS, Picture, decode_failure
from lumilio.media.values import valid_orientation

logger = logging.getLogger(__name__)


def load_still(path: Path, kind: FileKind, long_side: int) -> Picture:
    """The file's first frame, upright, with a long side of at least `long_side`."""
    heif.register_openers()
    try:
        with Image.open(path) as image:
            if kind.family == "heif":
                return _heif(image, path, long_side)
            return _pillow(image, long_side)
    except Image.DecompressionBombError as error:
        raise decode_failure(kind.family, error) from error
    except DECODE_ERRORS as error:
        raise decode_failure(kind.family, error) from error


def draft_request(size: tuple[int, int], long_side: int) -> tuple[int, int] | None:
    """The size to hand `Image.draft` so the decoded long side still covers `long_side`.

    draft keeps both sides at or above the request, so the request keeps the
    image's aspect ratio; None when the image is no larger than the target.
    """
    width, height = size
    longest = max(width, height)
    if longest <= long_side:
        return None
    scale = long_side / longest
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _pillow(image: Image.Image, long_side: int) -> Picture:
    stored = image.size
    turn = orientation.for_exif(_orientation_of(image))

    request = draft_request(stored, long_side)
    if request is not None and image.format in ("JPEG", "MPO"):
        image.draft("RGB", request)
    image.seek(0)  # animated GIF/WebP: the first frame
    image.load()

    pixels = orientation.apply(_display_mode(image), turn)
    source = _turned(stored, turn)
    logger.debug("decoded %s %s at %s", image.format, stored, image.size)
    return Picture(pixels, source)


def _orientation_of(image: Image.Image) -> int | None:
    try:
        return valid_orientation(image.getexif().get(0x0112))
    except (*DECODE_ERRORS, UserWarning) as error:
        # Damaged EXIF does not make the pixels unreadable.
        logger.debug("EXIF unreadable, orientation ignored: %s", error)
        return None


def _heif(image: Image.Image, path: Path, long_side: int) -> Picture:
    decoded = image.size  # after libheif's own turn
    turn = heif.display_transposes(heif.read_layout(path), heif.exif_orientation(image))

    request = draft_request(decoded, long_side)
    if request is not None:
        # pillow-heif answers draft with an embedded thumbnail when one is big enough.
        image.draft(image.mode, request)
    image.load()

    pixels = orientation.apply(_display_mode(image), turn)
    return Picture(pixels, _turned(decoded, turn))


def _display_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA where the image has transparency."""
    if image.mode in ("RGB", "RGBA"):
        return image.copy() if image.readonly else image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale (scientific TIFF, PNG): scale to 8 bits instead of clipping.
        eight_bit = image.convert("I").point(lambda value: value * (1 / 256))
        return eight_bit.convert("L").convert("RGB")
    has_alpha = image.mode in ("LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    return image.convert("RGBA" if has_alpha else "RGB")


def _turned(size: tuple[int, int], turn: tuple) -> tuple[int, int]:
    return (size[1], size[0]) if orientation.swaps_sides(turn) else size

"""RAW photos as pictures: the embedded preview when it is big enough, else LibRaw.

Cameras embed a full-size or near full-size JPEG in most RAW files; decoding it is
far cheaper than demosaicing the sensor data. Stripped RAW files (metadata kept,
pixels removed) exist in the wild; they yield "RAW file has no pixel data".
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rawpy
from PIL import Image

from lumilio.media import orientation
from lumilio.media.errors import MediaError
from lumilio.media.picture import DECODE_ERRORS, Picture
from lumilio.media.values import valid_orientation

if TYPE_CHECKING:
    from lumilio.media.metadata import MetadataReader

logger = logging.getLogger(__name__)

# Even the most compressed real RAW spends far more than this per pixel; files
# below it are metadata stubs whose pixel data was removed.
MIN_BYTES_PER_PIXEL = 0.02
# A preview smaller than this is an EXIF thumbnail, too small to stand in for a
# photo when the sensor data cannot be decoded.
MIN_STAND_IN_PREVIEW = 400
LIBRAW_FLIP_CLOCKWISE = {0: 0, 3: 180, 5: 270, 6: 90}


class _Raw:
    """What LibRaw could tell about the file, if it could open it at all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size: tuple[int, int] | None = None
        self.flip_clockwise = 0
        self.preview: Image.Image | None = None
        self.opened = False
        try:
            with rawpy.imread(str(path)) as raw:
                self._read(raw)
        except (rawpy.LibRawError, OSError) as error:
            logger.debug("LibRaw cannot open %s: %s", path, error)

    def _read(self, raw: rawpy.RawPy) -> None:
        self.opened = True
        sizes = raw.sizes
        self.flip_clockwise = LIBRAW_FLIP_CLOCKWISE.get(sizes.flip, 0)
        width, height = sizes.width, sizes.height
        self.size = (
            (height, width) if self.flip_clockwise in (90, 270) else (width, height)
        )
        try:
            thumb = raw.extract_thumb()
        except (rawpy.LibRawError, OSError) as error:
            logger.debug("no LibRaw thumbnail in %s: %s", self.path, error)
            return
        self.preview = _thumb_image(thumb)

    def looks_empty(self) -> bool:
        """Whether the file is too small to hold the sensor data it declares."""
        if self.size is None:
            return True
        pixels = self.size[0] * self.size[1]
        return self.path.stat().st_size < pixels * MIN_BYTES_PER_PIXEL


def load_raw(
    path: Path, long_side: int, reader: MetadataReader | None = None
) -> Picture:
    """The RAW photo upright, from its preview or its sensor data."""
    raw = _Raw(path)
    needed = min(long_side, max(raw.size) if raw.size else long_side)

    preview = raw.preview
    if _long(preview) < needed and reader is not None:
        preview = _larger(preview, _exiftool_preview(reader, path))
    if preview is not None and _long(preview) >= needed:
        return _from_preview(preview, raw)

    decoded = _decode(raw, needed) if raw.opened and not raw.looks_empty() else None
    if decoded is not None:
        return Picture(decoded, raw.size or decoded.size)

    if preview is not None and _long(preview) >= MIN_STAND_IN_PREVIEW:
        logger.debug(
            "using a %s preview of %s for lack of pixel data", preview.size, path
        )
        return _from_preview(preview, raw)
    raise MediaError("RAW file has no pixel data")


def _from_preview(preview: Image.Image, raw: _Raw) -> Picture:
    own = valid_orientation(preview.getexif().get(0x0112))
    if own not in (None, 1):
        turn = orientation.for_exif(own)
    else:
        turn = orientation.for_clockwise(raw.flip_clockwise)
    image = orientation.apply(preview.convert("RGB"), turn)
    return Picture(image, raw.size or image.size)


def _decode(raw: _Raw, needed: int) -> Image.Image | None:
    assert raw.size is not None
    half = max(raw.size) // 2 >= needed
    try:
        with rawpy.imread(str(raw.path)) as data:
            pixels = data.postprocess(
                half_size=half,
                use_camera_wb=True,
                output_bps=8,
                demosaic_algorithm=rawpy.DemosaicAlgorithm.LINEAR,
            )
    except DECODE_ERRORS as error:
        logger.debug("LibRaw cannot decode %s: %s", raw.path, error)
        return None

    if pixels.size == 0 or int(np.ptp(pixels)) == 0:
        logger.debug("LibRaw decoded %s to a flat image: no pixel data", raw.path)
        return None
    return Image.fromarray(pixels)


def _thumb_image(thumb: rawpy.Thumbnail) -> Image.Image | None:
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            image = Image.open(io.BytesIO(thumb.data))
            image.load()
            return image
        return Image.fromarray(thumb.data)
    except DECODE_ERRORS as error:
        logger.debug("embedded thumbnail unreadable: %s", error)
        return None


def _exiftool_preview(reader: MetadataReader, path: Path) -> Image.Image | None:
    data = reader.read_preview(path)
    if not data:
        return None
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except DECODE_ERRORS as error:
        logger.debug("exiftool preview of %s unreadable: %s", path, error)
        return None


def _long(image: Image.Image | None) -> int:
    return max(image.size) if image is not None else 0


def _larger(a: Image.Image | None, b: Image.Image | None) -> Image.Image | None:
    return b if _long(b) > _long(a) else a

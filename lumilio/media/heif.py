"""HEIF/AVIF/JPEG XL decoding set-up, and how a HEIF image is turned for display.

libheif applies the container's turn (`irot`) while decoding. EXIF may describe a
turn too. Usually both describe the same one (iPhones write irot 270 with EXIF 6),
sometimes only EXIF has it (iPhone 7 era files), and some phones write an irot that
the pixels do not need together with EXIF orientation 1 (Nokia 8.3). The rule that
shows every one of them upright: when EXIF names an orientation, it decides, applied
to the stored pixels (so libheif's turn is undone first); when EXIF is silent, the
container's turn stands.
"""

from __future__ import annotations

import io
import logging
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from lumilio.media import orientation
from lumilio.media.orientation import Transpose

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_registered = False
# The meta box of a HEIF file is small; a file whose header exceeds this is odd.
MAX_META_BYTES = 4 << 20


def register_openers() -> None:
    """Teach Pillow HEIF/HEIC (pillow-heif) and JPEG XL (pillow-jxl), once."""
    global _registered
    with _lock:
        if _registered:
            return
        import pillow_heif

        pillow_heif.register_heif_opener()
        try:
            import pillow_jxl  # noqa: F401  (registers the JPEG XL plugin on import)
        except ImportError:
            logger.warning("pillow-jxl-plugin is not installed: JPEG XL cannot be read")
        _registered = True
        logger.debug("registered the HEIF and JPEG XL openers with Pillow")


@dataclass(frozen=True)
class HeifLayout:
    """What the container says about the primary image."""

    width: int | None  # ispe: the stored size, before any turn
    height: int | None
    rotation_ccw: int  # irot, in degrees counter-clockwise (0, 90, 180, 270)
    mirrored: bool  # imir present


def read_layout(path: Path) -> HeifLayout | None:
    """The primary item's ispe/irot/imir, or None when the boxes cannot be read."""
    try:
        with open(path, "rb") as handle:
            meta = _find_top_level(handle, b"meta")
        if meta is None:
            return None
        return _layout_from_meta(meta[4:])  # meta is a full box: skip version/flags
    except (OSError, struct.error, ValueError, IndexError) as error:
        logger.debug("cannot read HEIF boxes of %s: %s", path, error)
        return None


def exif_orientation(image: Image.Image) -> int | None:
    """The EXIF orientation a pillow-heif image came with (it resets the tag to 1)."""
    original = image.info.get("original_orientation")
    if original:
        return int(original)
    exif = image.info.get("exif")
    if not exif:
        return None
    loaded = Image.Exif()
    try:
        loaded.load(exif)
    except (SyntaxError, ValueError, struct.error, OSError):
        return None
    value = loaded.get(0x0112)
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def display_transposes(
    layout: HeifLayout | None, exif: int | None
) -> tuple[Transpose, ...]:
    """What to do to libheif's decoded image so it shows upright (see module doc)."""
    if exif is None or layout is None or layout.mirrored:
        return ()
    if layout.rotation_ccw == 0:
        return orientation.for_exif(exif)

    # The turn that is the same as irot, said as an EXIF code: nothing to correct.
    same_as_irot = {90: 8, 180: 3, 270: 6}[layout.rotation_ccw]
    if exif == same_as_irot:
        return ()
    undo = orientation.for_clockwise(layout.rotation_ccw)
    return undo + orientation.for_exif(exif)


def quarter_turn(layout: HeifLayout | None, exif: int | None) -> bool:
    """Whether the displayed image swaps the stored width and height."""
    if exif is not None:
        return exif in (5, 6, 7, 8)
    return layout is not None and layout.rotation_ccw in (90, 270)


def _find_top_level(handle: io.BufferedReader, wanted: bytes) -> bytes | None:
    while True:
        header = handle.read(8)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header)
        body_size = size - 8
        if size == 1:
            body_size = struct.unpack(">Q", handle.read(8))[0] - 16
        elif size == 0:
            body_size = -1
        if kind == wanted:
            if body_size < 0 or body_size > MAX_META_BYTES:
                return None
            return handle.read(body_size)
        if body_size < 0:
            return None
        handle.seek(body_size, io.SEEK_CUR)


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    found, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size < 8 or offset + size > len(data):
            break
        found.append((kind, data[offset + 8 : offset + size]))
        offset += size
    return found


def _layout_from_meta(meta: bytes) -> HeifLayout | None:
    children = dict(_boxes(meta))
    if b"pitm" not in children or b"iprp" not in children:
        return None
    pitm = children[b"pitm"]
    primary = struct.unpack_from(">H" if pitm[0] == 0 else ">I", pitm, 4)[0]

    iprp = _boxes(children[b"iprp"])
    properties = next((body for kind, body in iprp if kind == b"ipco"), b"")
    listed = _boxes(properties)
    width = height = None
    rotation, mirrored = 0, False
    for index in _associations(iprp, primary):
        if not 1 <= index <= len(listed):
            continue
        kind, body = listed[index - 1]
        if kind == b"ispe":
            width, height = struct.unpack_from(">II", body, 4)
        elif kind == b"irot":
            rotation = (body[0] & 0x03) * 90
        elif kind == b"imir":
            mirrored = True
    return HeifLayout(width, height, rotation, mirrored)


def _associations(iprp: list[tuple[bytes, bytes]], item: int) -> list[int]:
    """Property indexes (1-based) that `ipma` associates with `item`."""
    indexes: list[int] = []
    for kind, body in iprp:
        if kind != b"ipma":
            continue
        version, flags = body[0], int.from_bytes(body[1:4], "big")
        count = struct.unpack_from(">I", body, 4)[0]
        offset = 8
        for _ in range(count):
            if version < 1:
                item_id = struct.unpack_from(">H", body, offset)[0]
                offset += 2
            else:
                item_id = struct.unpack_from(">I", body, offset)[0]
                offset += 4
            links = body[offset]
            offset += 1
            for _ in range(links):
                if flags & 1:
                    index = struct.unpack_from(">H", body, offset)[0] & 0x7FFF
                    offset += 2
                else:
                    index = body[offset] & 0x7F
                    offset += 1
                if item_id == item:
                    indexes.append(index)
    return indexes

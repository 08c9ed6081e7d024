"""Photo facts without exiftool: EXIF and XMP through Pillow, sizes through rawpy.

This is the reader of last resort. It fills what the pipeline cannot do without
(time, offset, GPS, size, make, model, orientation, Apple's content identifier)
and a plain tag dump for the EXIF view; maker notes and most RAW containers are
beyond it.
"""

from __future__ import annotations

import io
import logging
import re
import struct
from pathlib import Path

import rawpy
from PIL import ExifTags, Image, UnidentifiedImageError

from lumilio.media import heif
from lumilio.media.dates import ParsedTime, parse_offset, parse_stamp, with_subseconds
from lumilio.media.errors import MediaError
from lumilio.media.info import Facts, TimeCandidate
from lumilio.media.kinds import FileKind
from lumilio.media.picture import DECODE_ERRORS
from lumilio.media.values import (
    as_float,
    as_int,
    as_text,
    description_text,
    exposure_text,
    valid_orientation,
)

logger = logging.getLogger(__name__)

IFD0, EXIF_IFD, GPS_IFD = "IFD0", "ExifIFD", "GPS"
TAG = ExifTags.Base
# A TIFF-based RAW keeps its IFDs near the start; reading this much finds them.
RAW_HEAD_BYTES = 16 << 20
TIFF_VARIANTS = {
    b"IIU\x00": b"II*\x00",
    b"IIRO": b"II*\x00",
    b"IIRS": b"II*\x00",
    b"MMOR": b"MM\x00*",
}
# LibRaw's flip codes as EXIF orientations.
LIBRAW_FLIPS = {0: 1, 3: 3, 5: 8, 6: 6}
APPLE_MAKER_PREFIX = b"Apple iOS\x00"
APPLE_CONTENT_IDENTIFIER = 0x0011
_XMP_VALUE = r"""(?:{name}\s*=\s*["']([^"']+)["']|<{name}>\s*([^<]+?)\s*</{name}>)"""
_XMP_GPS = re.compile(r"^\s*(\d+),(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*$")


def facts_from_pillow(path: Path, kind: FileKind) -> Facts:
    heif.register_openers()
    if kind.family == "raw":
        return _raw_facts(path)

    try:
        image = Image.open(path)
    except (UnidentifiedImageError, *DECODE_ERRORS) as error:
        raise MediaError(f"cannot read image: {error}") from error
    with image:
        try:
            facts = _facts_from_exif(_exif_of(image), image)
        except (*DECODE_ERRORS, UserWarning) as error:
            facts = Facts(warnings=[f"EXIF unreadable: {error}"])
        _read_size(image, path, kind, facts)
        _add_xmp(facts, _xmp_bytes(image))
    return facts


def _exif_of(image: Image.Image) -> Image.Exif:
    """The image's EXIF, without decoding pixels to find it."""
    if image.format != "PNG":
        return image.getexif()
    # Pillow decodes a whole PNG to look for an eXIf chunk after the pixels; the
    # chunks before them are enough here.
    exif = Image.Exif()
    if image.info.get("exif"):
        exif.load(image.info["exif"])
    return exif


def _read_size(image: Image.Image, path: Path, kind: FileKind, facts: Facts) -> None:
    facts.width, facts.height = image.size
    if kind.family != "heif":
        facts.quarter_turn = facts.orientation in (5, 6, 7, 8)
        return

    # pillow-heif hands out the image after the container's turn and resets the
    # EXIF orientation; size and turn are taken back to what the file stores.
    layout = heif.read_layout(path)
    exif = heif.exif_orientation(image)
    facts.orientation = exif
    if layout is not None and layout.width and layout.height:
        facts.width, facts.height = layout.width, layout.height
    facts.quarter_turn = heif.quarter_turn(layout, exif)


def _facts_from_exif(exif: Image.Exif, image: Image.Image | None) -> Facts:
    ifd0 = dict(exif)
    sub = dict(exif.get_ifd(ExifTags.IFD.Exif))
    gps = dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
    facts = Facts(exif_raw=_dump({IFD0: ifd0, EXIF_IFD: sub, GPS_IFD: gps}))

    raw_orientation = ifd0.get(TAG.Orientation)
    facts.orientation = valid_orientation(raw_orientation)
    if raw_orientation is not None and facts.orientation is None:
        facts.warnings.append(f"invalid EXIF orientation {raw_orientation!r}: ignored")

    facts.make = as_text(ifd0.get(TAG.Make))
    facts.model = as_text(ifd0.get(TAG.Model))
    facts.lens = as_text(sub.get(TAG.LensModel))
    facts.exposure_time = exposure_text(sub.get(TAG.ExposureTime))
    facts.f_number = as_float(sub.get(TAG.FNumber))
    facts.focal_length = as_float(sub.get(TAG.FocalLength))
    iso = as_float(sub.get(TAG.ISOSpeedRatings))
    facts.iso = int(iso) if iso else None
    facts.exposure_bias = as_float(sub.get(TAG.ExposureBiasValue))
    facts.description = description_text(ifd0.get(TAG.ImageDescription))

    facts.times = _exif_times(ifd0, sub)
    facts.gps_raw = _gps(gps)
    facts.content_identifier = _apple_content_identifier(sub.get(TAG.MakerNote))
    return facts


def _exif_times(ifd0: dict, sub: dict) -> list[TimeCandidate]:
    offset = parse_offset(sub.get(TAG.OffsetTimeOriginal))
    found = []
    for tag, subsec in (
        (TAG.DateTimeOriginal, TAG.SubsecTimeOriginal),
        (TAG.DateTimeDigitized, TAG.SubsecTimeDigitized),
    ):
        parsed = parse_stamp(sub.get(tag))
        if parsed is None:
            continue
        parsed = with_subseconds(parsed, sub.get(subsec))
        if parsed.offset_minutes is None and offset is not None:
            parsed = ParsedTime(parsed.wall, offset)
        found.append(TimeCandidate(parsed, "exif"))
    return found


def _gps(gps: dict) -> tuple[object, object] | None:
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude))
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude))
    if lat is None or lon is None:
        return None
    if str(gps.get(ExifTags.GPS.GPSLatitudeRef, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(ExifTags.GPS.GPSLongitudeRef, "E")).upper().startswith("W"):
        lon = -lon
    return lat, lon


def _degrees(value: object) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    parts = [as_float(part) for part in value]
    if any(part is None for part in parts):
        return None
    degrees, minutes, seconds = parts  # type: ignore[misc]
    return degrees + minutes / 60 + seconds / 3600  # type: ignore[operator]


def _apple_content_identifier(maker_note: object) -> str | None:
    """Apple's MediaGroupUUID (a Live Photo's pairing key) from its maker note.

    The note is a big-endian IFD at byte 14 whose offsets count from the note's
    start; giving it a TIFF header in place of its own prefix lets Pillow read it.
    """
    if not isinstance(maker_note, bytes) or not maker_note.startswith(
        APPLE_MAKER_PREFIX
    ):
        return None
    tiff = b"MM\x00\x2a" + struct.pack(">I", 14) + maker_note[8:]
    note = Image.Exif()
    try:
        note.load(tiff)
    except (SyntaxError, ValueError, struct.error, OSError):
        return None
    return as_text(note.get(APPLE_CONTENT_IDENTIFIER))


def _xmp_bytes(image: Image.Image) -> bytes:
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = image.info.get(key)
        if isinstance(value, (bytes, str)) and value:
            return value.encode() if isinstance(value, str) else value
    tiff_tags = getattr(image, "tag_v2", None)
    packet = tiff_tags.get(700) if tiff_tags is not None else None
    return packet if isinstance(packet, bytes) else b""


def _add_xmp(facts: Facts, xmp: bytes) -> None:
    if not xmp:
        return
    text = xmp.decode("utf-8", errors="replace")
    for name in ("exif:DateTimeOriginal", "xmp:CreateDate", "photoshop:DateCreated"):
        parsed = parse_stamp(_xmp_value(text, name))
        if parsed is not None:
            facts.times.append(TimeCandidate(parsed, "xmp"))
    if facts.gps_raw is None:
        lat = _xmp_coordinate(_xmp_value(text, "exif:GPSLatitude"))
        lon = _xmp_coordinate(_xmp_value(text, "exif:GPSLongitude"))
        if lat is not None and lon is not None:
            facts.gps_raw = (lat, lon)
    facts.make = facts.make or as_text(_xmp_value(text, "tiff:Make"))
    facts.model = facts.model or as_text(_xmp_value(text, "tiff:Model"))


def _xmp_value(text: str, name: str) -> str | None:
    match = re.search(_XMP_VALUE.format(name=re.escape(name)), text)
    if match is None:
        return None
    return match.group(1) or match.group(2)


def _xmp_coordinate(value: str | None) -> float | None:
    """XMP writes GPS as 'DDD,MM.mmmk' or 'DDD,MM,SSk'."""
    match = _XMP_GPS.match(value or "")
    if match is None:
        return None
    degrees = float(match.group(1)) + float(match.group(2)) / 60
    degrees += float(match.group(3) or 0) / 3600
    return -degrees if match.group(4) in "SW" else degrees


def _raw_facts(path: Path) -> Facts:
    with open(path, "rb") as handle:
        head = handle.read(RAW_HEAD_BYTES)
    facts = _raw_exif_facts(head)

    try:
        with rawpy.imread(str(path)) as raw:
            sizes = raw.sizes
            facts.width, facts.height = sizes.width, sizes.height
            if facts.orientation is None:
                facts.orientation = LIBRAW_FLIPS.get(sizes.flip)
    except (rawpy.LibRawError, OSError) as error:
        logger.debug("LibRaw cannot open %s: %s", path, error)
        facts.width = as_int(facts.exif_raw.get("ExifIFD:ExifImageWidth"))
        facts.height = as_int(facts.exif_raw.get("ExifIFD:ExifImageHeight"))
    facts.quarter_turn = facts.orientation in (5, 6, 7, 8)
    return facts


def _raw_exif_facts(head: bytes) -> Facts:
    """EXIF of TIFF-like RAWs, and of the JPEG that Fujifilm embeds in RAF files."""
    if head.startswith(b"FUJIFILMCCD-RAW") and len(head) >= 92:
        start, length = struct.unpack_from(">II", head, 84)
        head = head[start : start + length]
        if not head.startswith(b"\xff\xd8"):
            return Facts()
        try:
            with Image.open(io.BytesIO(head)) as preview:
                return _facts_from_exif(preview.getexif(), preview)
        except (UnidentifiedImageError, *DECODE_ERRORS, UserWarning):
            return Facts()

    # Olympus and Panasonic change the TIFF magic number; the layout is TIFF.
    head = TIFF_VARIANTS.get(head[:4], head[:4]) + head[4:]
    if head[:4] not in (b"II*\x00", b"MM\x00*"):
        return Facts()
    exif = Image.Exif()
    try:
        exif.load(head)
        return _facts_from_exif(exif, None)
    except (*DECODE_ERRORS, UserWarning) as error:
        return Facts(warnings=[f"cannot read the RAW file's EXIF: {error}"])


def _dump(ifds: dict[str, dict]) -> dict:
    """Tags as `Group:Name` with JSON-friendly values, like exiftool's keys."""
    names = {IFD0: ExifTags.TAGS, EXIF_IFD: ExifTags.TAGS, GPS_IFD: ExifTags.GPSTAGS}
    out: dict = {}
    for group, tags in ifds.items():
        for tag, value in tags.items():
            if tag in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):
                continue
            name = names[group].get(tag, f"0x{tag:04x}")
            out[f"{group}:{name}"] = _plain(value)
    return out


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return f"(Binary data {len(value)} bytes)"
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, (int, str)) or value is None:
        return value
    number = as_float(value)
    return number if number is not None else str(value)

"""Exports: a photo re-encoded as JPEG, PNG, WebP or AVIF, upright and resized.

Decoding goes through the thumbnail readers (HEIF, RAW previews or sensor data,
Pillow for the rest), so an export looks the way the library shows the photo. The
colour profile travels with the pixels.

Privacy by default: only the capture date (DateTimeOriginal, its offset and
sub-seconds) is written into the export. The camera, lens, GPS position and the
rest of the source's EXIF are copied only when `keep_metadata` is asked for; the
maker note and embedded thumbnails never are, and Orientation is always 1 because
the pixels are already upright.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import ExifTags, Image

from lumilio.media import heif
from lumilio.media.errors import MediaError
from lumilio.media.kinds import FileKind
from lumilio.media.picture import DECODE_ERRORS
from lumilio.media.thumbnails import load_picture

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Format:
    pillow: str
    mime: str
    extension: str
    default_quality: int | None
    alpha: bool


FORMATS: dict[str, Format] = {
    "jpeg": Format("JPEG", "image/jpeg", "jpg", 90, False),
    "jpg": Format("JPEG", "image/jpeg", "jpg", 90, False),
    "png": Format("PNG", "image/png", "png", None, True),
    "webp": Format("WEBP", "image/webp", "webp", 85, True),
    "avif": Format("AVIF", "image/avif", "avif", 75, True),
}
# AVIF speed 8 of 10: about twice as fast as the default for a slightly larger file.
AVIF_SPEED = 8
# Decode everything when no size limit is given.
FULL_SIZE = 1 << 30

IFD = ExifTags.IFD
_DATE_TAGS = (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal,
              ExifTags.Base.SubsecTimeOriginal)
# Pointers and layout of the source file: meaningless (or wrong) in a new file.
_LAYOUT_TAGS = {
    ExifTags.Base.Orientation, ExifTags.Base.StripOffsets,
    ExifTags.Base.StripByteCounts, ExifTags.Base.RowsPerStrip,
    ExifTags.Base.JpegIFOffset, ExifTags.Base.JpegIFByteCount,
    ExifTags.Base.TileOffsets, ExifTags.Base.TileByteCounts,
    ExifTags.Base.ImageWidth, ExifTags.Base.ImageLength,
    ExifTags.Base.BitsPerSample, ExifTags.Base.Compression,
    ExifTags.Base.PhotometricInterpretation, ExifTags.Base.SamplesPerPixel,
    ExifTags.Base.PlanarConfiguration, ExifTags.Base.SubIFDs,
    ExifTags.Base.NewSubfileType, ExifTags.Base.InterColorProfile,
    ExifTags.Base.XMLPacket, ExifTags.Base.ExifOffset, ExifTags.Base.GPSInfo,
    0xC612, 0xC613, 0xC614,  # DNG version, backward version, unique camera model
}
_PRIVATE_EXIF_TAGS = {ExifTags.Base.MakerNote, ExifTags.Base.ExifInteroperabilityOffset,
                      ExifTags.Base.ExifImageWidth, ExifTags.Base.ExifImageHeight}


@dataclass(frozen=True)
class ExportOptions:
    format: Format
    quality: int = 0  # 0: the format's default
    max_width: int = 0  # 0: no limit
    max_height: int = 0
    keep_metadata: bool = False


def output_size(width: int, height: int, options: ExportOptions) -> tuple[int, int]:
    """The size that fits the limits, keeping the aspect ratio; never enlarged."""
    scale = 1.0
    if options.max_width:
        scale = min(scale, options.max_width / width)
    if options.max_height:
        scale = min(scale, options.max_height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def export(path: Path, kind: FileKind, options: ExportOptions, out: IO[bytes],
           shown_size: tuple[int, int] | None = None) -> tuple[int, int]:
    """Encode the photo at `path` into `out`; returns the exported size.

    `shown_size` (the catalog's upright width and height, when known) lets JPEGs
    and RAW previews decode at a reduced scale. Raises MediaError when the file
    cannot be decoded or encoded.
    """
    long_side = FULL_SIZE
    if shown_size and (options.max_width or options.max_height):
        long_side = max(output_size(*shown_size, options))
    picture = load_picture(path, kind, long_side)

    image = picture.image
    size = output_size(*image.size, options)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    image = _mode_for(image, options.format)
    exif = _exif(path, kind, options.keep_metadata)

    try:
        image.save(out, options.format.pillow, **_encoder_args(image, options, exif))
    except DECODE_ERRORS as error:
        raise MediaError(f"cannot encode {options.format.pillow}: {error}") from error
    logger.debug("exported %s as %s %s", path, options.format.pillow, image.size)
    return image.size


def _mode_for(image: Image.Image, fmt: Format) -> Image.Image:
    if image.mode == "RGBA" and not fmt.alpha:
        # JPEG has no transparency: flatten onto white, as viewers show it.
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        flat.info = image.info
        return flat
    if image.mode not in ("RGB", "RGBA"):
        return image.convert("RGBA" if fmt.alpha and "A" in image.mode else "RGB")
    return image


def _encoder_args(image: Image.Image, options: ExportOptions, exif: bytes) -> dict:
    fmt = options.format
    args: dict = {}
    if image.info.get("icc_profile"):
        args["icc_profile"] = image.info["icc_profile"]
    if exif:
        args["exif"] = exif
    quality = options.quality or fmt.default_quality
    if fmt.pillow == "JPEG":
        args.update(quality=quality, optimize=True)
    elif fmt.pillow == "WEBP":
        args.update(quality=quality, method=4)
    elif fmt.pillow == "AVIF":
        args.update(quality=quality, speed=AVIF_SPEED)
    elif fmt.pillow == "PNG":
        args.update(compress_level=6)
    return args


def _exif(path: Path, kind: FileKind, keep_all: bool) -> bytes:
    source = _source_exif(path, kind)
    if source is None:
        return b""
    main, details, gps = source
    out = Image.Exif()

    if keep_all:
        for tag, value in main.items():
            if tag not in _LAYOUT_TAGS:
                out[tag] = value
        kept = {t: v for t, v in details.items() if t not in _PRIVATE_EXIF_TAGS}
        if gps:
            out[IFD.GPSInfo] = gps
    else:
        kept = {t: details[t] for t in _DATE_TAGS if t in details}
    if kept:
        out[IFD.Exif] = kept
    if not len(out):
        return b""
    out[ExifTags.Base.Orientation] = 1
    try:
        return out.tobytes()
    except (ValueError, TypeError, struct.error) as error:
        # A value Pillow cannot write back (odd types in old cameras' EXIF):
        # the export goes out without it rather than not at all.
        logger.debug("EXIF of %s not copied: %s", path, error)
        return b""


def _source_exif(path: Path, kind: FileKind) -> tuple[dict, dict, dict] | None:
    """The source's main, Exif and GPS directories, read while the file is open."""
    heif.register_openers()
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            if not len(exif):
                return None
            return (dict(exif), dict(exif.get_ifd(IFD.Exif)),
                    dict(exif.get_ifd(IFD.GPSInfo)))
    except DECODE_ERRORS as error:
        # RAW formats Pillow cannot parse: the export carries no EXIF.
        logger.debug("no EXIF read from %s (%s): %s", path, kind.family, error)
        return None

"""WebP thumbnails in three sizes, from one decode per file.

Each family decodes once, at the smallest scale that covers the largest requested
size; the sizes are then made by successive reduction (large from the decode,
medium from large, small from medium). Colours are brought to sRGB before the
ICC profile is dropped, so wide-gamut photos do not turn dull.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageCms

from lumilio.media import frames, raw, stills
from lumilio.media.picture import Picture

if TYPE_CHECKING:
    from lumilio.media.kinds import FileKind
    from lumilio.media.metadata import MetadataReader

logger = logging.getLogger(__name__)

THUMBNAIL_SIZES = {"small": 400, "medium": 800, "large": 1920}
WEBP_QUALITY = 80
# Chosen with bench/bench_thumbnails.py on a 12 MP phone JPEG (CPU time, 2 cores):
# bicubic costs about 40 ms more per 3-size set than bilinear but lands far closer
# to a full-decode Lanczos reference (small size: 42 dB PSNR against 33 dB; an
# integer reduce() first gives 39 dB). WebP method 2 encodes the set in about
# 140 ms instead of 280 ms (method 4, Pillow's default) for files 4 % larger and
# 0.3 dB lower PSNR; encoding is the largest cost of the set.
RESAMPLE = Image.Resampling.BICUBIC
REDUCING_GAP: float | None = None
WEBP_METHOD = 2

_SRGB = ImageCms.createProfile("sRGB")


def render_thumbnails(
    path: Path,
    kind: FileKind,
    targets: dict[str, Path],
    *,
    reader: MetadataReader | None = None,
) -> tuple[int, int]:
    """Write each requested size to its target; return the source's displayed size.

    `targets` maps size names of THUMBNAIL_SIZES to output paths. `reader` lends its
    exiftool to find previews LibRaw cannot see in some RAW files.
    Raises MediaError when the file cannot be decoded.
    """
    unknown = set(targets) - set(THUMBNAIL_SIZES)
    if unknown:
        raise ValueError(f"unknown thumbnail sizes: {sorted(unknown)}")

    wanted = sorted(targets, key=THUMBNAIL_SIZES.__getitem__, reverse=True)
    longest = THUMBNAIL_SIZES[wanted[0]] if wanted else min(THUMBNAIL_SIZES.values())
    picture = load_picture(path, kind, longest, reader)

    image, profile = picture.image, picture.image.info.get("icc_profile")
    for index, name in enumerate(wanted):
        image = scale_down(image, THUMBNAIL_SIZES[name])
        if index == 0:
            image = to_srgb(image, profile)
        write_webp(image, targets[name])

    logger.debug("thumbnails of %s: %s from %s", path, wanted, picture.image.size)
    return picture.source_size


def load_picture(
    path: Path, kind: FileKind, long_side: int, reader: MetadataReader | None = None
) -> Picture:
    """The file as an upright picture, `long_side` pixels or more when it has them."""
    if kind.asset_type == "VIDEO":
        return frames.load_video_frame(path)
    if kind.asset_type == "AUDIO":
        return frames.load_audio_cover(path)
    if kind.is_raw:
        return raw.load_raw(path, long_side, reader)
    return stills.load_still(path, kind, long_side)


def scale_down(
    image: Image.Image,
    long_side: int,
    resample: Image.Resampling = RESAMPLE,
    reducing_gap: float | None = REDUCING_GAP,
) -> Image.Image:
    """The image with its long side at most `long_side`; never enlarged."""
    width, height = image.size
    longest = max(width, height)
    if longest <= long_side:
        return image
    scale = long_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, resample, reducing_gap=reducing_gap)


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The image in sRGB, converted from its embedded RGB profile when it has one."""
    if not icc_profile or image.mode not in ("RGB", "RGBA"):
        return image
    transform = _transform_to_srgb(bytes(icc_profile), image.mode)
    if transform is None:
        return image
    return ImageCms.applyTransform(image, transform) or image


@functools.lru_cache(maxsize=32)
def _transform_to_srgb(
    icc_profile: bytes, mode: str
) -> ImageCms.ImageCmsTransform | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if source.profile.xcolor_space.strip() != "RGB":
            return None
        description = (source.profile.profile_description or "").lower()
        if description.startswith("srgb"):
            return None
        # Worker threads share cached transforms; LittleCMS's one-pixel cache is
        # not safe to share, so it is switched off.
        return ImageCms.buildTransform(
            source, _SRGB, mode, mode, flags=ImageCms.Flags.NOCACHE
        )
    except (ImageCms.PyCMSError, OSError, ValueError) as error:
        logger.debug("colour profile not usable, kept as is: %s", error)
        return None


def write_webp(image: Image.Image, target: Path) -> None:
    """Save as WebP without metadata; readers never see a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        image.save(temporary, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise

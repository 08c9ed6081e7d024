"""A decoded, upright picture of a file, and the errors decoders raise."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import av
import rawpy
from PIL import Image

from lumilio.media.errors import MediaError

# What decoders raise for files they cannot read. Anything else is a bug of ours
# and should surface as one.
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    SyntaxError,  # Pillow's way of saying "not this format"
    EOFError,
    RuntimeError,  # pillow-heif
    struct.error,
    av.FFmpegError,
    rawpy.LibRawError,
    MemoryError,
)


@dataclass
class Picture:
    """Pixels ready to scale (already turned upright) and the source's display size.

    `image` may be smaller than the source (JPEG draft, embedded previews) but never
    smaller than what the largest requested thumbnail needs, when the source has it.
    """

    image: Image.Image
    source_size: tuple[int, int]


def decode_failure(family: str, error: BaseException) -> MediaError:
    """A MediaError that says in a few words why a decoder gave up."""
    if isinstance(error, Image.DecompressionBombError):
        return MediaError(f"image too large: {error}")
    message = str(error).strip() or type(error).__name__
    if "truncated" in message.lower():
        return MediaError(f"truncated {family.upper()}: the end of the file is missing")
    if isinstance(error, MemoryError):
        return MediaError(f"image too large to decode in memory ({family})")
    return MediaError(f"cannot decode {family.upper()}: {message}")

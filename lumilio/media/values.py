"""Small conversions shared by the exiftool reader and the fallback reader."""

from __future__ import annotations

import math
import re
from fractions import Fraction

# Text some cameras write into every description field; it describes nothing.
PLACEHOLDER_DESCRIPTIONS = frozenset(
    {
        "",
        "olympus digital camera",
        "sony dsc",
        "digital camera",
        "default",
        "image",
        "picasa",
        "<full-resolution>",
        "charset=ascii",
    }
)

VIDEO_CODEC_NAMES = {
    "h264": "H.264",
    "hevc": "HEVC",
    "av1": "AV1",
    "vp8": "VP8",
    "vp9": "VP9",
    "mpeg4": "MPEG-4",
    "mpeg2video": "MPEG-2",
    "mpeg1video": "MPEG-1",
    "mjpeg": "MJPEG",
    "prores": "ProRes",
    "h263": "H.263",
    "wmv3": "WMV",
    "theora": "Theora",
}
AUDIO_CODEC_NAMES = {
    "aac": "AAC",
    "mp3": "MP3",
    "mp3float": "MP3",
    "flac": "FLAC",
    "alac": "ALAC",
    "opus": "Opus",
    "vorbis": "Vorbis",
    "ac3": "AC-3",
    "eac3": "E-AC-3",
    "amrnb": "AMR-NB",
    "amrwb": "AMR-WB",
    "wmav2": "WMA",
}


def as_float(value: object) -> float | None:
    """A finite number from an int, float, Fraction-like or numeric text."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        text = str(value).strip().split(" ")[0]
        try:
            number = float(Fraction(text))
        except (ValueError, ZeroDivisionError):
            return None
    return number if math.isfinite(number) else None


def as_int(value: object) -> int | None:
    number = as_float(value)
    return round(number) if number is not None else None


def as_text(value: object) -> str | None:
    """Stripped text, or None for empty values, numbers and binary placeholders."""
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\x00").strip()
    if not text or text.startswith(("(Binary data", "base64:")):
        return None
    return text


def check_gps(
    lat: object, lon: object
) -> tuple[tuple[float, float] | None, str | None]:
    """The position if it is a real one, else None and the reason why not."""
    lat_f, lon_f = as_float(lat), as_float(lon)
    if lat_f is None or lon_f is None:
        return None, None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        return None, f"GPS position {lat_f:.6f},{lon_f:.6f} is out of range: dropped"
    if lat_f == 0 and lon_f == 0:
        return None, "GPS position is exactly 0,0 (a no-fix placeholder): dropped"
    return (lat_f, lon_f), None


def valid_orientation(value: object) -> int | None:
    number = as_int(value)
    return number if number is not None and 1 <= number <= 8 else None


def displayed_size(
    width: int | None, height: int | None, quarter_turn: bool
) -> tuple[int | None, int | None]:
    if quarter_turn:
        return height, width
    return width, height


def exposure_text(seconds: object) -> str | None:
    """Exposure time as photographers write it: '1/800', '0.5', '30'."""
    value = as_float(seconds)
    if value is None or value <= 0:
        return None
    if value >= 1:
        return f"{value:g}"
    denominator = round(1 / value)
    if denominator >= 2 and abs(1 / denominator - value) / value < 0.05:
        return f"1/{denominator}"
    return f"{value:.2g}"


def lens_from_info(value: object) -> str | None:
    """EXIF LensInfo ('24 105 4 4') as a readable lens description."""
    parts = [as_float(p) for p in str(value or "").split()]
    if len(parts) != 4 or any(p is None or p <= 0 for p in parts):
        return None
    short, long, wide_f, tele_f = (float(p) for p in parts)  # type: ignore[arg-type]
    focal = f"{short:g}mm" if short == long else f"{short:g}-{long:g}mm"
    aperture = f"f/{wide_f:g}" if wide_f == tele_f else f"f/{wide_f:g}-{tele_f:g}"
    return f"{focal} {aperture}"


def megapixels(width: int | None, height: int | None) -> str | None:
    if not width or not height:
        return None
    return f"{round(width * height / 1_000_000)}MP"


def description_text(value: object) -> str | None:
    text = as_text(value)
    if text is None or text.lower() in PLACEHOLDER_DESCRIPTIONS:
        return None
    return text


def codec_name(name: str | None, audio: bool = False) -> str | None:
    if not name:
        return None
    table = AUDIO_CODEC_NAMES if audio else VIDEO_CODEC_NAMES
    if name in table:
        return table[name]
    if name.startswith("pcm_"):
        return "PCM"
    return name.upper()


def year_from(value: object) -> int | None:
    match = re.search(r"(?<!\d)(1[89]\d{2}|2\d{3})(?!\d)", str(value or ""))
    return int(match.group(1)) if match else None


def compact(mapping: dict) -> dict:
    """The mapping without keys whose value is None."""
    return {key: value for key, value in mapping.items() if value is not None}

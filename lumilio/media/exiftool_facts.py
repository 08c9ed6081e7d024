"""exiftool's tags (grouped, machine values) turned into reader-neutral Facts."""

from __future__ import annotations

import logging

from lumilio.media.dates import ParsedTime, parse_offset, parse_stamp, with_subseconds
from lumilio.media.info import Facts, TimeCandidate
from lumilio.media.kinds import FileKind
from lumilio.media.values import (
    as_float,
    as_int,
    as_text,
    description_text,
    exposure_text,
    lens_from_info,
    valid_orientation,
)

logger = logging.getLogger(__name__)

# Groups that describe something other than the main image: the EXIF thumbnail,
# previews, and exiftool's own file-system facts.
FOREIGN_GROUPS = frozenset({"IFD1", "PreviewIFD", "System", "ExifTool", "File"})
# Where the main image's own EXIF lives, most specific first.
EXIF_GROUPS = ("ExifIFD", "IFD0", "SubIFD")
# H.264 streams (AVCHD) store the maker as a code; exiftool's table of them.
H264_MAKES = {0x0103: "Panasonic", 0x0108: "Sony", 0x1011: "Canon", 0x1104: "JVC"}
# Paths of this machine must not leak into what the API serves.
PRIVATE_KEYS = frozenset({"SourceFile", "System:Directory"})


class Tags:
    """exiftool's `Group:Tag` keys, searchable by tag name across groups."""

    def __init__(self, raw: dict) -> None:
        self.raw = raw
        self.by_name: dict[str, list[tuple[str, object]]] = {}
        for key, value in raw.items():
            group, _, name = key.rpartition(":")
            self.by_name.setdefault(name, []).append((group, value))

    def get(self, name: str, *groups: str) -> object | None:
        """The value of `name` from the first listed group that has it, or None.

        With no groups listed, any group but the foreign ones will do.
        """
        found = self.by_name.get(name, [])
        if groups:
            for wanted in groups:
                for group, value in found:
                    if group == wanted and value not in (None, ""):
                        return value
            return None
        for group, value in found:
            if group not in FOREIGN_GROUPS and value not in (None, ""):
                return value
        return None

    def text(self, *names: str) -> str | None:
        for name in names:
            for group, value in self.by_name.get(name, []):
                if group in FOREIGN_GROUPS:
                    continue
                text = as_text(value)
                if text is not None:
                    return text
        return None

    def number(self, *names: str) -> float | None:
        for name in names:
            for group, value in self.by_name.get(name, []):
                number = as_float(value) if group not in FOREIGN_GROUPS else None
                if number is not None:
                    return number
        return None


def facts_from_tags(raw: dict, kind: FileKind) -> Facts:
    tags = Tags(raw)
    facts = Facts(exif_raw={k: v for k, v in raw.items() if k not in PRIVATE_KEYS})

    _read_warnings(tags, facts)
    _read_size(tags, kind, facts)
    _read_camera(tags, facts)
    facts.gps_raw = _gps(tags)
    facts.content_identifier = tags.text("ContentIdentifier", "MediaGroupUUID")
    facts.duration = tags.number("Duration")

    if kind.asset_type == "PHOTO":
        facts.times = _photo_times(tags)
        _read_exposure(tags, facts)
        facts.description = _description(tags)
    elif kind.asset_type == "VIDEO":
        facts.times = _video_times(tags)
        rotation = as_int(tags.get("Rotation", "Composite", "QuickTime"))
        facts.rotation = rotation % 360 if rotation is not None else None
        facts.quarter_turn = facts.rotation in (90, 270)
        facts.description = description_text(tags.text("Description", "Comment"))
    else:
        _read_audio_tags(tags, facts)
    return facts


def _read_warnings(tags: Tags, facts: Facts) -> None:
    for name in ("Error", "Warning"):
        for group, value in tags.by_name.get(name, []):
            text = as_text(value)
            if text is None:
                continue
            if text.lower().startswith("[minor]"):
                logger.debug("exiftool %s (%s): %s", name.lower(), group, text)
                continue
            facts.warnings.append(f"exiftool: {text}")


def _read_size(tags: Tags, kind: FileKind, facts: Facts) -> None:
    size = as_text(tags.get("ImageSize", "Composite"))
    if size:
        parts = size.replace("x", " ").split()
        if len(parts) == 2:
            facts.width, facts.height = as_int(parts[0]), as_int(parts[1])

    raw_orientation = tags.get("Orientation", "IFD0")
    facts.orientation = valid_orientation(raw_orientation)
    if raw_orientation is not None and facts.orientation is None:
        facts.warnings.append(f"invalid EXIF orientation {raw_orientation!r}: ignored")

    if kind.family == "heif" and facts.orientation is None:
        # Without a valid EXIF orientation the container's turn (irot) decides.
        turn = as_int(tags.get("Rotation", "QuickTime"))
        facts.quarter_turn = turn in (90, 270)
    else:
        facts.quarter_turn = facts.orientation in (5, 6, 7, 8)


def _read_camera(tags: Tags, facts: Facts) -> None:
    facts.model = tags.text("Model", "CameraModelName", "UniqueCameraModel")
    facts.make = tags.text("Make")
    if facts.make is None:
        code = as_int(tags.get("Make", "H264"))
        facts.make = H264_MAKES.get(code) if code is not None else None

    # With -n exiftool gives LensID and LensType as numbers (a maker's code, not a
    # name a person can read): only a textual value is a lens name.
    lens = next((text for text in (tags.text(name) for name in (
        "LensModel", "LensID", "LensType", "Lens"))
        if text and not text.lstrip("-").isdigit()), None)
    if lens is None:
        lens = lens_from_info(tags.get("LensInfo"))
    facts.lens = lens


def _read_exposure(tags: Tags, facts: Facts) -> None:
    facts.exposure_time = exposure_text(
        tags.number("ExposureTime", "ShutterSpeedValue", "ShutterSpeed")
    )
    f_number = tags.number("FNumber", "Aperture", "ApertureValue")
    facts.f_number = round(f_number, 2) if f_number else None
    focal = tags.number("FocalLength", "FocalLengthIn35mmFormat")
    facts.focal_length = round(focal, 2) if focal else None
    iso = tags.number("ISO", "ISOSpeedRatings", "RecommendedExposureIndex")
    facts.iso = int(iso) if iso else None
    facts.exposure_bias = tags.number("ExposureCompensation")


def _description(tags: Tags) -> str | None:
    for name in (
        "ImageDescription",
        "UserComment",
        "XPComment",
        "Caption-Abstract",
        "Caption",
        "Description",
    ):
        text = description_text(tags.text(name))
        if text is not None:
            return text
    return None


def _gps(tags: Tags) -> tuple[object, object] | None:
    lat = tags.get("GPSLatitude", "Composite")
    lon = tags.get("GPSLongitude", "Composite")
    if lat is not None and lon is not None:
        return lat, lon

    lat, lon = tags.get("GPSLatitude", "GPS"), tags.get("GPSLongitude", "GPS")
    if lat is not None and lon is not None:
        south = str(tags.get("GPSLatitudeRef", "GPS") or "").upper().startswith("S")
        west = str(tags.get("GPSLongitudeRef", "GPS") or "").upper().startswith("W")
        lat_f, lon_f = as_float(lat), as_float(lon)
        if lat_f is not None and lon_f is not None:
            return (-lat_f if south else lat_f), (-lon_f if west else lon_f)

    lat, lon = tags.get("GPSLatitude", "XMP-exif"), tags.get("GPSLongitude", "XMP-exif")
    return (lat, lon) if lat is not None and lon is not None else None


def _photo_times(tags: Tags) -> list[TimeCandidate]:
    """DateTimeOriginal, else CreateDate, with OffsetTimeOriginal; then XMP."""
    offset = parse_offset(tags.get("OffsetTimeOriginal", "ExifIFD"))
    found = _exif_times(tags, "DateTimeOriginal", "SubSecTimeOriginal", offset)

    # Maker-specific blocks (CanonRaw, Reconyx, FLIR) carry the time when EXIF does not.
    for group, value in tags.by_name.get("DateTimeOriginal", []):
        parsed = parse_stamp(value)
        if parsed is None or group in EXIF_GROUPS or group == "Composite":
            continue
        if not group.startswith("XMP"):
            found.append(TimeCandidate(_with_offset(parsed, offset), "exif"))

    found += _exif_times(tags, "CreateDate", "SubSecTimeDigitized", offset)
    for name, group in (
        ("DateTimeOriginal", "XMP-exif"),
        ("CreateDate", "XMP-xmp"),
        ("DateCreated", "XMP-photoshop"),
    ):
        parsed = parse_stamp(tags.get(name, group))
        if parsed is not None:
            found.append(TimeCandidate(parsed, "xmp"))
    return found


def _video_times(tags: Tags) -> list[TimeCandidate]:
    """Keys:CreationDate (local, with offset), then QuickTime's UTC stamps."""
    found: list[TimeCandidate] = []

    parsed = parse_stamp(tags.get("CreationDate", "Keys", "UserData", "ItemList"))
    if parsed is not None:
        found.append(TimeCandidate(parsed, "quicktime"))

    for name, group in (
        ("CreateDate", "QuickTime"),
        ("MediaCreateDate", "Track1"),
        ("TrackCreateDate", "Track1"),
    ):
        parsed = parse_stamp(tags.get(name, group))
        if parsed is not None:
            found.append(TimeCandidate(parsed, "quicktime", utc=True))

    # Camera streams without a QuickTime header: AVCHD (H264), AVI (RIFF), FLIR.
    for group in ("H264", "RIFF", "UserData", "FLIR"):
        parsed = parse_stamp(tags.get("DateTimeOriginal", group))
        if parsed is not None:
            found.append(TimeCandidate(parsed, "exif"))

    for name, group in (("DateTimeOriginal", "XMP-exif"), ("CreateDate", "XMP-xmp")):
        parsed = parse_stamp(tags.get(name, group))
        if parsed is not None:
            found.append(TimeCandidate(parsed, "xmp"))
    return found


def _read_audio_tags(tags: Tags, facts: Facts) -> None:
    facts.title = tags.text("Title")
    facts.artist = tags.text("Artist", "AlbumArtist", "Band", "Performer")
    facts.album = tags.text("Album")
    facts.genre = tags.text("Genre")
    year = tags.text("Year", "Date", "RecordingTime", "ContentCreateDate")
    facts.year = int(year[:4]) if year and year[:4].isdigit() else None
    facts.description = description_text(tags.text("Comment", "Description"))
    facts.sample_rate = as_int(tags.number("SampleRate", "AudioSampleRate"))
    facts.channels = as_int(tags.number("AudioChannels", "Channels", "NumChannels"))


def _exif_times(
    tags: Tags, name: str, subsec_name: str, offset: int | None
) -> list[TimeCandidate]:
    for group in EXIF_GROUPS:
        parsed = parse_stamp(tags.get(name, group))
        if parsed is not None:
            parsed = with_subseconds(parsed, tags.get(subsec_name, "ExifIFD"))
            return [TimeCandidate(_with_offset(parsed, offset), "exif")]
    return []


def _with_offset(parsed: ParsedTime, offset: int | None) -> ParsedTime:
    if parsed.offset_minutes is not None or offset is None:
        return parsed
    return ParsedTime(parsed.wall, offset)

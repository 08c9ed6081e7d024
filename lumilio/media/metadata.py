"""Metadata of one file: capture time, place, size as displayed, camera, streams.

`MetadataReader` asks exiftool (one batch process per reader, one reader per worker
thread) or, where exiftool is missing, Pillow, pillow-heif, rawpy and PyAV. Either
way the same rules turn what the file says into a `MediaInfo` (`build_info`).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lumilio.media import avprobe
from lumilio.media.dates import date_from_name, mtime_wall
from lumilio.media.errors import MediaError
from lumilio.media.exiftool_facts import facts_from_tags
from lumilio.media.exiftool_process import ExifToolFailed, ExifToolProcess
from lumilio.media.info import Facts, MediaInfo, TimeCandidate
from lumilio.media.kinds import FileKind
from lumilio.media.pillow_facts import facts_from_pillow
from lumilio.media.values import (
    check_gps,
    compact,
    displayed_size,
    megapixels,
)

__all__ = ["MediaInfo", "MetadataReader", "build_info", "find_exiftool"]

logger = logging.getLogger(__name__)

EXIFTOOL_ENV = "LUMILIO_EXIFTOOL"
# Tags that mean exiftool found something in the file beyond its own complaint.
SUBSTANCE_TAGS = ("Composite:ImageSize", "File:MIMEType", "File:FileType")
# Embedded JPEGs of RAW files, largest first as cameras usually store them.
PREVIEW_TAGS = ("JpgFromRaw", "PreviewImage", "OtherImage")
# Clocks run a little ahead; a capture time beyond this is worth a warning.
FUTURE_SLACK = timedelta(days=2)

_fallback_announced = threading.Event()


def find_exiftool() -> str | None:
    """The exiftool program to use: $LUMILIO_EXIFTOOL if set, else the one on PATH."""
    configured = os.environ.get(EXIFTOOL_ENV)
    return shutil.which(configured or "exiftool")


class MetadataReader:
    """Reads metadata with one long-lived exiftool; use one instance per thread."""

    def __init__(
        self,
        exiftool_path: str | None = None,
        timeout_s: float = 30.0,
        use_exiftool: bool = True,
    ) -> None:
        """`timeout_s` bounds exiftool's time per file; `use_exiftool=False` asks for
        the Pillow/PyAV reader on purpose (tests, comparisons)."""
        self._process: ExifToolProcess | None = None
        if not use_exiftool:
            return
        executable = exiftool_path or find_exiftool()
        if executable is None:
            _announce_fallback("the exiftool program was not found")
            return
        self._process = ExifToolProcess(executable, timeout_s)

    @property
    def uses_exiftool(self) -> bool:
        """Whether reads go through exiftool (False: the Pillow/PyAV fallback)."""
        return self._process is not None

    @property
    def exiftool(self) -> ExifToolProcess | None:
        return self._process

    def read(self, path: Path, kind: FileKind) -> MediaInfo:
        """Everything the pipeline stores about the file; MediaError if unreadable."""
        try:
            size = path.stat().st_size
        except OSError as error:
            raise MediaError(f"cannot open file: {error.strerror or error}") from error
        if size == 0:
            raise MediaError("empty file")

        facts = self._exiftool_facts(path, kind) if self._process else None
        if facts is None:
            facts = _fallback_facts(path, kind)
        elif kind.asset_type in ("VIDEO", "AUDIO"):
            _add_stream_facts(facts, path, decode_rotation=False)

        info = build_info(facts, kind, path)
        logger.debug(
            "read %s: taken=%s (%s) size=%sx%s",
            path,
            info.taken_time,
            info.taken_source,
            info.width,
            info.height,
        )
        return info

    def read_preview(self, path: Path) -> bytes | None:
        """The largest embedded JPEG preview exiftool finds in a RAW file."""
        if self._process is None:
            return None
        best = b""
        for tag in PREVIEW_TAGS:
            try:
                data = self._process.read_binary(path, tag)
            except ExifToolFailed as error:
                logger.debug("no %s from %s: %s", tag, path, error)
                continue
            if data.startswith(b"\xff\xd8") and len(data) > len(best):
                best = data
        return best or None

    def close(self) -> None:
        if self._process is not None:
            self._process.close()

    def __enter__(self) -> MetadataReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _exiftool_facts(self, path: Path, kind: FileKind) -> Facts | None:
        assert self._process is not None
        failures: list[str] = []
        for _attempt in range(2):
            try:
                tags = self._process.read_tags(path)
                break
            except ExifToolFailed as error:
                failures.append(str(error))
                if self._process.starts == 0:
                    self._process = None
                    _announce_fallback(str(error))
                    return None
                logger.warning("exiftool failed on %s (%s); retrying once", path, error)
        else:
            raise MediaError(f"exiftool failed on this file twice: {failures[-1]}")

        error_text = tags.get("ExifTool:Error")
        if error_text and not any(key in tags for key in SUBSTANCE_TAGS):
            raise MediaError(str(error_text))
        return facts_from_tags(tags, kind)


def _fallback_facts(path: Path, kind: FileKind) -> Facts:
    if kind.asset_type == "PHOTO":
        return facts_from_pillow(path, kind)
    facts = Facts()
    _add_stream_facts(facts, path, decode_rotation=True, required=True)
    return facts


def _add_stream_facts(
    facts: Facts, path: Path, decode_rotation: bool, required: bool = False
) -> None:
    try:
        streams = avprobe.probe(path, decode_rotation=decode_rotation)
    except MediaError as error:
        if required:
            raise
        facts.warnings.append(f"streams unreadable: {error}")
        return
    facts.fill(streams)
    if facts.rotation is not None:
        facts.quarter_turn = facts.rotation in (90, 270)


def _announce_fallback(reason: str) -> None:
    if not _fallback_announced.is_set():
        _fallback_announced.set()
        logger.warning(
            "metadata falls back to Pillow/PyAV (%s): maker notes, most RAW "
            "formats and some video dates will be missing",
            reason,
        )


def build_info(facts: Facts, kind: FileKind, path: Path) -> MediaInfo:
    """Apply the house rules to what a reader found."""
    info = MediaInfo(exif_raw=facts.exif_raw, warnings=list(facts.warnings))

    _choose_time(info, facts.times, path)
    if facts.gps_raw is not None:
        info.gps, reason = check_gps(*facts.gps_raw)
        if reason:
            info.warnings.append(reason)

    if kind.asset_type != "AUDIO":  # a cover picture's size is not the file's
        info.width, info.height = displayed_size(
            facts.width, facts.height, facts.quarter_turn
        )
    info.orientation = facts.orientation
    if kind.asset_type in ("VIDEO", "AUDIO"):
        info.duration = facts.duration

    builders = {
        "PHOTO": _photo_specific,
        "VIDEO": _video_specific,
        "AUDIO": _audio_specific,
    }
    info.specific = builders[kind.asset_type](info, facts, kind)
    return info


def _choose_time(info: MediaInfo, times: list[TimeCandidate], path: Path) -> None:
    if times:
        chosen = times[0]
        if chosen.utc:
            info.taken_time = chosen.parsed.wall.replace(tzinfo=UTC)
        else:
            info.taken_time = chosen.parsed.as_capture()
            info.capture_offset_minutes = chosen.parsed.offset_minutes
        info.taken_source = chosen.source
        _warn_if_future(info)
        return

    from_name = date_from_name(path.name)
    if from_name is not None:
        info.taken_time, info.taken_source = from_name, "filename"
    else:
        info.taken_time, info.taken_source = mtime_wall(path), "mtime"


def _warn_if_future(info: MediaInfo) -> None:
    taken = info.taken_time
    assert taken is not None
    now = datetime.now(UTC) if taken.tzinfo else datetime.now()
    if taken > now + FUTURE_SLACK:
        info.warnings.append(f"capture time {taken.isoformat()} is in the future")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _photo_specific(info: MediaInfo, facts: Facts, kind: FileKind) -> dict:
    lat, lon = info.gps if info.gps else (None, None)
    dimensions = f"{info.width}x{info.height}" if info.width and info.height else None
    has_time = info.taken_source not in ("filename", "mtime")
    specific = {
        "taken_time": _iso(info.taken_time) if has_time else None,
        "capture_offset_minutes": info.capture_offset_minutes,
        "camera_make": facts.make,
        "camera_model": facts.model,
        "lens_model": facts.lens,
        "exposure_time": facts.exposure_time,
        "f_number": facts.f_number,
        "focal_length": facts.focal_length,
        "iso_speed": facts.iso,
        "exposure": facts.exposure_bias or 0.0,
        "dimensions": dimensions,
        "resolution": megapixels(info.width, info.height),
        "gps_latitude": lat,
        "gps_longitude": lon,
        "description": facts.description,
        "is_raw": kind.is_raw,
        "content_identifier": facts.content_identifier,
    }
    return compact(specific)


def _video_specific(info: MediaInfo, facts: Facts, kind: FileKind) -> dict:
    lat, lon = info.gps if info.gps else (None, None)
    has_time = info.taken_source not in ("filename", "mtime")
    specific = {
        "codec": facts.codec,
        "bitrate": facts.bitrate,
        "frame_rate": facts.frame_rate,
        "recorded_time": _iso(info.taken_time) if has_time else None,
        "capture_offset_minutes": info.capture_offset_minutes,
        "camera_make": facts.make,
        "camera_model": facts.model,
        "gps_latitude": lat,
        "gps_longitude": lon,
        "description": facts.description,
        "content_identifier": facts.content_identifier,
        "width": info.width,
        "height": info.height,
        "rotation": facts.rotation,
        "duration": info.duration,
    }
    return compact(specific)


def _audio_specific(info: MediaInfo, facts: Facts, kind: FileKind) -> dict:
    specific = {
        "codec": facts.codec,
        "bitrate": facts.bitrate,
        "sample_rate": facts.sample_rate,
        "channels": facts.channels,
        "artist": facts.artist,
        "album": facts.album,
        "title": facts.title,
        "genre": facts.genre,
        "year": facts.year,
        "description": facts.description,
    }
    return compact(specific)

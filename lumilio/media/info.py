"""What a reader learns about a file, before and after the house rules apply.

Readers (exiftool, or Pillow and PyAV when exiftool is missing) fill `Facts` with
what the file says. `metadata.build_info` then applies one set of rules to turn
facts into the `MediaInfo` the pipeline stores, so both readers agree on meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lumilio.media.dates import ParsedTime


@dataclass
class MediaInfo:
    taken_time: datetime | None = None
    capture_offset_minutes: int | None = None
    taken_source: str | None = None  # exif, xmp, quicktime, filename, mtime
    width: int | None = None  # as displayed, after orientation or rotation
    height: int | None = None
    orientation: int | None = None
    duration: float | None = None
    gps: tuple[float, float] | None = None
    specific: dict = field(default_factory=dict)
    exif_raw: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TimeCandidate:
    """A capture time found in the file; `utc` marks stamps that are UTC by spec."""

    parsed: ParsedTime
    source: str
    utc: bool = False


@dataclass
class Facts:
    times: list[TimeCandidate] = field(default_factory=list)
    gps_raw: tuple[object, object] | None = None
    width: int | None = None  # as stored, before any turn
    height: int | None = None
    orientation: int | None = None
    quarter_turn: bool = False  # whether display swaps width and height
    rotation: int | None = None  # video: degrees clockwise to display
    duration: float | None = None
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    exposure_time: str | None = None
    f_number: float | None = None
    focal_length: float | None = None
    iso: int | None = None
    exposure_bias: float | None = None
    description: str | None = None
    content_identifier: str | None = None
    codec: str | None = None
    bitrate: int | None = None
    frame_rate: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    artist: str | None = None
    album: str | None = None
    title: str | None = None
    genre: str | None = None
    year: int | None = None
    exif_raw: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def fill(self, other: Facts) -> None:
        """Take `other`'s values for every field this one left empty."""
        for name in self.__dataclass_fields__:
            if name in {"times", "exif_raw", "warnings", "quarter_turn"}:
                continue
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        self.times.extend(other.times)
        self.warnings.extend(w for w in other.warnings if w not in self.warnings)

"""Metadata of every corpus file against MANIFEST.tsv, through both readers.

Times are compared the way the acceptance probe compares them: a video stamp
without a zone is a UTC instant; any other stamp is a wall clock, read back from an
aware datetime in its own offset, and the offset must match where one is written.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from serverkit import manifest_time

from lumilio.media.errors import MediaError
from lumilio.media.info import MediaInfo
from lumilio.media.kinds import sniff
from lumilio.media.metadata import MetadataReader

# Pillow notes a Nikon tag of unusual length in the NEF stub; harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:Metadata Warning:UserWarning")

TAKEN_SOURCES = {"exif", "xmp", "quicktime", "filename", "mtime"}

# Where we knowingly differ from the manifest, for both readers, and why.
DIFFERENCES: dict[str, dict[str, str]] = {
    "edge/buggy_panorama.jpg": {"gps": "latitude 213.64 is out of range: dropped"},
    "edge/image-2011.jpg": {"gps": "exactly 0,0 is the no-fix placeholder: dropped"},
    "jpeg/FLIR_Vue_Pro_640.jpg": {"gps": "exactly 0,0 is the no-fix placeholder"},
    "jpeg/Samsung_GT-I9000_Galaxy_S.jpg": {
        "gps": "exactly 0,0 is the no-fix placeholder"
    },
    "jpeg/Nikon_D5000.jpg": {
        "gps": "the EXIF GPS tags are empty but XMP-exif holds a position (software "
        "geotagging); the manifest reads Composite tags only, we read XMP too"
    },
    "video/FLIR_Thermal.mp4": {
        "offset": "the manifest's stamp ends in Z, i.e. it is UTC; QuickTime's "
        "CreateDate is UTC by spec and tells nothing of the local zone, so the "
        "offset stays unknown (the instant matches)"
    },
}

# What the Pillow/PyAV reader cannot fill, and why.
FALLBACK_GAPS: dict[str, dict[str, str]] = {
    **{
        path: {
            "taken": "Canon CR3 keeps EXIF in ISO-BMFF boxes Pillow does not read",
            "offset": "as taken",
            "model": "as taken",
        }
        for path in ("raw/Canon-R6-pruned.CR3", "raw/exiftool-stub/CanonRaw.cr3")
    },
    "raw/canon-powershot-s40.crw": {"model": "Canon CRW (CIFF) is not TIFF"},
    "raw/exiftool-stub/Minolta.mrw": {
        "taken": "Minolta MRW wraps its TIFF block in its own container",
        "model": "as taken",
    },
    "video/Sony_ILCE-7M3.mts": {
        "taken": "AVCHD writes date and camera into H.264 SEI messages that FFmpeg "
        "does not expose",
        "offset": "as taken",
        "model": "as taken",
        "duration": "FFmpeg estimates 0.54 s from timestamps; exiftool reads 0.45 s",
    },
}
FALLBACK_ERRORS = {"edge/corrupted.heic": "cannot read image"}


def _expected_size(row: dict[str, str]) -> tuple[int, int]:
    width, height = int(float(row["width"])), int(float(row["height"]))
    if row["orientation"] in ("5", "6", "7", "8") or row["rotation"] in ("90", "270"):
        return height, width
    return width, height


def mismatches(row: dict[str, str], info: MediaInfo) -> dict[str, str]:
    """Fields where `info` disagrees with the manifest row, with what was seen."""
    found: dict[str, str] = {}
    path = row["path"]

    sized = row["width"] and row["kind"] != "audio" and not path.startswith("raw/")
    if sized and (info.width, info.height) != _expected_size(row):
        found["size"] = f"{info.width}x{info.height}"

    want_time, want_offset = manifest_time(row["taken"])
    if row["offset"]:
        want_offset = manifest_time("2000:01:01 00:00:00" + row["offset"])[1]
    if want_time is not None:
        got = info.taken_time
        if got is None or info.taken_source in ("filename", "mtime"):
            found["taken"] = f"{got} from {info.taken_source}"
        elif row["kind"] == "video" and want_offset is None:
            instant = got.astimezone(UTC).replace(tzinfo=None)
            if abs(instant - want_time) > timedelta(seconds=1):
                found["taken"] = got.isoformat()
        elif abs(got.replace(tzinfo=None) - want_time) > timedelta(seconds=1):
            found["taken"] = got.isoformat()
    if want_offset is not None and info.capture_offset_minutes != want_offset:
        found["offset"] = str(info.capture_offset_minutes)

    # The manifest's raw numbers, so that dropped positions show as differences.
    want_gps = (
        (float(row["gps_lat"]), float(row["gps_lon"])) if row["gps_lat"] else None
    )
    if want_gps or info.gps:
        close = bool(want_gps and info.gps) and all(
            abs(a - b) < 1e-4
            for a, b in zip(want_gps, info.gps, strict=True)  # type: ignore[arg-type]
        )
        if not close:
            found["gps"] = str(info.gps)

    model = (info.specific.get("camera_model") or "").lower()
    if row["model"] and row["model"].lower() not in model:
        found["model"] = model

    if row["duration_s"]:
        want = float(row["duration_s"])
        if info.duration is None or abs(info.duration - want) > max(0.05, want * 0.02):
            found["duration"] = str(info.duration)
    return found


def test_manifest_fields(
    any_reader: MetadataReader, media: Path, manifest_row: dict[str, str]
) -> None:
    row = manifest_row
    path = media / row["path"]
    fallback = not any_reader.uses_exiftool
    if fallback and row["path"] in FALLBACK_ERRORS:
        with pytest.raises(MediaError, match=FALLBACK_ERRORS[row["path"]]):
            any_reader.read(path, sniff(path))
        return

    info = any_reader.read(path, sniff(path))

    allowed = dict(DIFFERENCES.get(row["path"], {}))
    if fallback:
        allowed.update(FALLBACK_GAPS.get(row["path"], {}))
    found = mismatches(row, info)
    unexpected = {k: v for k, v in found.items() if k not in allowed}
    assert unexpected == {}
    # Listed differences must still occur, or the lists above are out of date.
    assert set(allowed) <= set(found)
    assert info.taken_source in TAKEN_SOURCES
    assert info.taken_time is not None


@pytest.mark.parametrize(
    "relative",
    [
        "edge/buggy_panorama.jpg",
        "edge/image-2011.jpg",
        "jpeg/FLIR_Vue_Pro_640.jpg",
        "jpeg/Samsung_GT-I9000_Galaxy_S.jpg",
    ],
)
def test_impossible_positions_are_dropped_with_a_warning(
    any_reader: MetadataReader, media: Path, relative: str
) -> None:
    info = any_reader.read(media / relative, sniff(media / relative))

    assert info.gps is None
    assert "gps_latitude" not in info.specific
    assert any("GPS position" in warning for warning in info.warnings)


def test_xmp_position_is_used_when_exif_gps_is_empty(
    any_reader: MetadataReader, media: Path
) -> None:
    path = media / "jpeg/Nikon_D5000.jpg"

    info = any_reader.read(path, sniff(path))

    assert info.gps == pytest.approx((48.8887264, 21.0432512), abs=1e-6)


def test_utc_video_stamp_keeps_offset_unknown(
    any_reader: MetadataReader, media: Path
) -> None:
    path = media / "video/FLIR_Thermal.mp4"

    info = any_reader.read(path, sniff(path))

    assert info.taken_time == datetime(2021, 5, 16, 19, 27, 55, tzinfo=UTC)
    assert info.capture_offset_minutes is None
    assert info.taken_source == "quicktime"


def test_local_video_stamp_comes_with_its_offset(
    any_reader: MetadataReader, media: Path
) -> None:
    path = media / "video/with-gps.mov"

    info = any_reader.read(path, sniff(path))

    assert info.taken_time is not None
    assert info.taken_time.isoformat() == "2019-07-24T11:25:40+03:00"
    assert info.capture_offset_minutes == 180
    assert (info.width, info.height, info.specific["rotation"]) == (320, 568, 90)


def test_photo_time_without_offset_is_a_naive_wall_clock(
    any_reader: MetadataReader, media: Path
) -> None:
    path = media / "jpeg/Canon_40D.jpg"

    info = any_reader.read(path, sniff(path))

    assert info.taken_time == datetime(2008, 5, 30, 15, 56, 1)
    assert info.taken_time.tzinfo is None
    assert (info.capture_offset_minutes, info.taken_source) == (None, "exif")


def test_subseconds_and_offset_original_make_an_aware_time(
    any_reader: MetadataReader, media: Path
) -> None:
    path = media / "livephoto/train.jpg"

    info = any_reader.read(path, sniff(path))

    assert info.taken_time is not None
    assert info.taken_time.isoformat() == "2021-04-10T11:44:00.814000+01:00"
    assert info.capture_offset_minutes == 60


def test_xmp_date_is_used_without_exif_date(
    any_reader: MetadataReader, media: Path
) -> None:
    path = media / "jpeg/thompson-springs.jpg"

    info = any_reader.read(path, sniff(path))

    assert info.taken_time == datetime(2022, 1, 10, 15, 15, 44, 310000)
    assert info.taken_source == "xmp"


def test_live_photo_halves_share_a_content_identifier(
    any_reader: MetadataReader, media: Path
) -> None:
    still = any_reader.read(
        media / "livephoto/train.jpg", sniff(media / "livephoto/train.jpg")
    )
    motion = any_reader.read(
        media / "livephoto/train.mov", sniff(media / "livephoto/train.mov")
    )

    expected = "E905E6C6-C747-4805-942F-9904A0281F02"
    assert still.specific["content_identifier"] == expected
    assert motion.specific["content_identifier"] == expected


@pytest.mark.parametrize(
    ("relative", "size"),
    [
        ("heic/classic-car.heic", (3024, 4032)),  # irot 270 and EXIF 6: one turn
        ("heic/iphone_7.heic", (3024, 4032)),  # EXIF 6 only
        ("heic/HMD_Nokia_8.3_5G.heif", (4608, 3456)),  # irot 270 but EXIF 1
        ("heic/IMG_2927.HEIC", (3024, 4032)),  # stored portrait
        ("heic/cheers_1440x960.heic", (1440, 960)),  # no EXIF at all
    ],
)
def test_heic_size_is_turned_exactly_once(
    any_reader: MetadataReader, media: Path, relative: str, size: tuple[int, int]
) -> None:
    info = any_reader.read(media / relative, sniff(media / relative))

    assert (info.width, info.height) == size
    assert info.specific["dimensions"] == f"{size[0]}x{size[1]}"


def _schema_properties(shared: Path, name: str) -> set[str]:
    document = json.loads((shared / "api/openapi.json").read_text())
    schemas = document.get("components", {}).get("schemas") or document["definitions"]
    return set(schemas[name]["properties"])


@pytest.mark.parametrize(
    ("relative", "schema", "extra"),
    [
        ("livephoto/train.jpg", "dbtypes.PhotoSpecificMetadata", {"camera_make"}),
        ("raw/canon_eos_6d.dng", "dbtypes.PhotoSpecificMetadata", {"camera_make"}),
        (
            "livephoto/train.mov",
            "dbtypes.VideoSpecificMetadata",
            {"camera_make", "width", "height", "rotation", "duration"},
        ),
        ("audio/silence-44-s.flac", "dbtypes.AudioSpecificMetadata", set()),
    ],
)
def test_specific_metadata_speaks_the_api_schema(
    any_reader: MetadataReader,
    media: Path,
    shared: Path,
    relative: str,
    schema: str,
    extra: set[str],
) -> None:
    info = any_reader.read(media / relative, sniff(media / relative))

    assert set(info.specific) <= _schema_properties(shared, schema) | extra
    json.dumps(info.specific)  # stored as JSON as it is


def test_photo_specific_fields(exiftool_reader: MetadataReader, media: Path) -> None:
    path = media / "livephoto/train.jpg"

    specific = exiftool_reader.read(path, sniff(path)).specific

    assert specific["camera_make"] == "Apple"
    assert specific["camera_model"] == "iPhone 6s"
    assert specific["lens_model"] == "iPhone 6s back camera 4.15mm f/2.2"
    assert specific["exposure_time"] == "1/801"
    assert specific["f_number"] == 2.2
    assert specific["focal_length"] == 4.15
    assert specific["iso_speed"] == 25
    assert specific["exposure"] == 0.0
    assert specific["dimensions"] == "4032x3024"
    assert specific["resolution"] == "12MP"
    assert specific["is_raw"] is False
    assert specific["taken_time"] == "2021-04-10T11:44:00.814000+01:00"
    assert specific["capture_offset_minutes"] == 60


def test_video_and_audio_stream_fields(any_reader: MetadataReader, media: Path) -> None:
    video = any_reader.read(
        media / "video/quicktime-hvc1.mov", sniff(media / "video/quicktime-hvc1.mov")
    )
    audio = any_reader.read(
        media / "audio/silence-44-s.flac", sniff(media / "audio/silence-44-s.flac")
    )

    assert video.specific["codec"] == "HEVC"
    assert video.specific["frame_rate"] == pytest.approx(29.96, abs=0.01)
    assert video.specific["bitrate"] > 1_000_000
    assert video.specific["camera_model"] == "iPad mini"
    assert (video.width, video.height) == (720, 1280)
    assert audio.specific == {
        "codec": "FLAC",
        "bitrate": audio.specific["bitrate"],
        "sample_rate": 44100,
        "channels": 2,
        "artist": audio.specific["artist"],
        "album": "Quod Libet Test Data",
        "title": "Silence",
        "genre": "Silence",
        "year": 2004,
    }
    assert audio.specific["artist"].startswith("piman")
    assert audio.duration == pytest.approx(3.685, abs=0.01)


def test_opus_duration_comes_from_the_stream(
    exiftool_reader: MetadataReader, media: Path
) -> None:
    path = media / "audio/example.opus"

    info = exiftool_reader.read(path, sniff(path))

    assert info.duration == pytest.approx(12.72, abs=0.01)
    assert info.specific["codec"] == "Opus"


def test_raw_file_is_marked_raw(any_reader: MetadataReader, media: Path) -> None:
    path = media / "raw/canon_eos_6d.dng"

    info = any_reader.read(path, sniff(path))

    assert info.specific["is_raw"] is True
    assert info.specific["camera_model"] == "Canon EOS 6D"
    assert (info.width, info.height) == (1224, 816)


def test_exif_raw_keeps_grouped_tags(
    exiftool_reader: MetadataReader, media: Path
) -> None:
    info = exiftool_reader.read(
        media / "livephoto/train.jpg", sniff(media / "livephoto/train.jpg")
    )

    assert info.exif_raw["IFD0:Model"] == "iPhone 6s"
    assert info.exif_raw["Apple:MediaGroupUUID"].startswith("E905E6C6")
    assert "SourceFile" not in info.exif_raw  # it names a path on the server
    assert "System:Directory" not in info.exif_raw
    json.dumps(info.exif_raw)


def test_edge_files_give_values_or_a_media_error(
    any_reader: MetadataReader, media: Path, edge_file: str
) -> None:
    path = media / edge_file
    try:
        info = any_reader.read(path, sniff(path))
    except MediaError as error:
        assert str(error)
        return
    assert info.taken_time is not None
    assert info.taken_source in TAKEN_SOURCES
    assert all(isinstance(warning, str) and warning for warning in info.warnings)


def test_invalid_orientation_zero_is_reported_not_used(
    any_reader: MetadataReader, media: Path
) -> None:
    path = media / "edge/huawei-gps-error.jpg"

    info = any_reader.read(path, sniff(path))

    assert info.orientation is None
    assert (info.width, info.height) == (500, 375)
    assert any("orientation" in warning for warning in info.warnings)


def test_future_capture_time_is_kept_with_a_warning(
    any_reader: MetadataReader, media: Path
) -> None:
    path = media / "jpeg/Sigma_DP1.jpg"

    info = any_reader.read(path, sniff(path))

    assert info.taken_time == datetime(2038, 5, 5, 1, 29, 24)
    assert any("future" in warning for warning in info.warnings)


def test_missing_file_is_a_media_error(
    any_reader: MetadataReader, tmp_path: Path, media: Path
) -> None:
    kind = sniff(media / "jpeg/Canon_40D.jpg")

    with pytest.raises(MediaError, match="cannot open file"):
        any_reader.read(tmp_path / "gone.jpg", kind)

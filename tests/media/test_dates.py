from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from lumilio.media.dates import date_from_name, parse_offset, parse_stamp
from lumilio.media.kinds import sniff


@pytest.mark.parametrize(
    ("text", "wall", "offset"),
    [
        ("2019:01:02 03:04:05", datetime(2019, 1, 2, 3, 4, 5), None),
        ("2019:04:24 22:24:00+02:00 DST", datetime(2019, 4, 24, 22, 24), 120),
        ("2021:05:16 19:27:55Z", datetime(2021, 5, 16, 19, 27, 55), 0),
        ("2022-01-10T15:15:44.31", datetime(2022, 1, 10, 15, 15, 44, 310000), None),
        ("2023-09-22T18:34:05+0200", datetime(2023, 9, 22, 18, 34, 5), 120),
        (
            "2021:04:10 11:44:00.814-05:30",
            datetime(2021, 4, 10, 11, 44, 0, 814000),
            -330,
        ),
    ],
)
def test_stamps_keep_wall_clock_and_written_offset(
    text: str, wall: datetime, offset: int | None
) -> None:
    parsed = parse_stamp(text)

    assert parsed is not None
    assert (parsed.wall, parsed.offset_minutes) == (wall, offset)


@pytest.mark.parametrize(
    "text", ["0000:00:00 00:00:00", "2020:08:28", "2019:13:01 00:00:00", "", "  :  :  "]
)
def test_placeholders_and_dates_without_time_are_no_capture_time(text: str) -> None:
    assert parse_stamp(text) is None


def test_capture_is_aware_only_with_an_offset() -> None:
    with_offset = parse_stamp("2020:05:04 18:39:11")
    assert with_offset is not None
    assert with_offset.as_capture().tzinfo is None

    aware = parse_stamp("2020:05:04 18:39:11-04:00")
    assert aware is not None
    moment = aware.as_capture()
    assert moment.utcoffset() == timedelta(hours=-4)
    assert moment.astimezone(UTC) == datetime(2020, 5, 4, 22, 39, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("+02:00", 120),
        ("-05:00", -300),
        ("+0530", 330),
        ("Z", 0),
        ("   :  ", None),
        ("+15:00", None),
        ("+01:75", None),
        (None, None),
    ],
)
def test_offsets(text: str | None, minutes: int | None) -> None:
    assert parse_offset(text) == minutes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IMG_20190102_030405.jpg", datetime(2019, 1, 2, 3, 4, 5)),
        ("PXL_20190102_030405123.jpg", datetime(2019, 1, 2, 3, 4, 5)),
        ("VID_20190102_030405.mp4", datetime(2019, 1, 2, 3, 4, 5)),
        ("IMG-20190102-WA0001.jpg", datetime(2019, 1, 2)),
        ("Screenshot_2019-01-02-03-04-05.png", datetime(2019, 1, 2, 3, 4, 5)),
        ("Screenshot_20190102-030405_Chrome.jpg", datetime(2019, 1, 2, 3, 4, 5)),
        ("2019-01-02 03.04.05.jpg", datetime(2019, 1, 2, 3, 4, 5)),
        ("DSC01234.JPG", None),
        ("IMG_1234.HEIC", None),
        ("scan_20191301.jpg", None),
    ],
)
def test_dates_in_file_names(name: str, expected: datetime | None) -> None:
    assert date_from_name(name) == expected


def test_file_without_any_date_gets_its_mtime_as_local_wall_clock(
    copy_of,
    exiftool_reader,
) -> None:
    path = copy_of("jpeg/without_exif.jpg", "holiday.jpg")
    stamp = datetime(2015, 6, 7, 8, 9, 10).timestamp()
    os.utime(path, (stamp, stamp))

    info = exiftool_reader.read(path, sniff(path))

    assert (info.taken_time, info.taken_source) == (
        datetime(2015, 6, 7, 8, 9, 10),
        "mtime",
    )
    assert info.capture_offset_minutes is None


def test_file_named_with_a_date_uses_it(copy_of, any_reader) -> None:
    path = copy_of("jpeg/without_exif.jpg", "IMG_20190102_030405.jpg")

    info = any_reader.read(path, sniff(path))

    assert (info.taken_time, info.taken_source) == (
        datetime(2019, 1, 2, 3, 4, 5),
        "filename",
    )

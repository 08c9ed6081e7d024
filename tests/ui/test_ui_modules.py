"""The UI's pure modules, run inside chromium: capture times, layout, wording."""

from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = pytest.mark.browser


def call(page, module: str, function: str, *args):
    return page.evaluate(
        "async ([path, name, args]) => (await import(path))[name](...args)",
        [f"/js/{module}", function, list(args)],
    )


def test_capture_time_with_offset_shows_the_wall_clock_of_the_place(modules_page):
    asset = {"taken_time": "2023-11-01T14:11:17Z", "capture_offset_minutes": 60}

    text = call(modules_page, "captime.js", "formatCaptureTime", asset)

    assert "1 Nov 2023" in text
    assert "15:11:17" in text
    assert text.endswith("UTC+01:00")


def test_capture_time_without_offset_is_shown_as_written(modules_page):
    # The camera wrote 15:38:54 with no zone; the server sends it as if UTC.
    asset = {"taken_time": "2015-07-16T15:38:54Z", "capture_offset_minutes": None}

    text = call(modules_page, "captime.js", "formatCaptureTime", asset)

    assert "16 Jul 2015" in text
    assert "15:38:54" in text
    assert "UTC" not in text


@pytest.mark.parametrize(
    ("minutes", "label"),
    [(0, "UTC+00:00"), (330, "UTC+05:30"), (-240, "UTC-04:00"), (-570, "UTC-09:30")],
)
def test_offset_label(modules_page, minutes, label):
    assert call(modules_page, "captime.js", "formatOffset", minutes) == label


def test_days_follow_the_local_wall_clock_not_utc(modules_page):
    # 01:00 UTC on the 5th is still the evening of the 4th at UTC-04:00.
    evening = {"taken_time": "2020-05-05T01:00:00Z", "capture_offset_minutes": -240}
    naive = {"taken_time": "2020-05-05T01:00:00Z", "capture_offset_minutes": None}

    assert call(modules_page, "captime.js", "dayKey", evening) == "2020-05-04"
    assert call(modules_page, "captime.js", "dayKey", naive) == "2020-05-05"


def test_nanosecond_timestamps_parse(modules_page):
    parsed = call(modules_page, "captime.js", "parseInstant",
                  "2023-11-01T14:11:17.123456789+01:00")

    assert parsed == 1698844277123


def test_asset_without_capture_time_falls_back_to_its_upload(modules_page):
    asset = {"taken_time": None, "upload_time": "2024-03-01T10:00:00Z"}

    clock = call(modules_page, "captime.js", "captureClock", asset)

    # The page runs in Europe/Berlin, one hour ahead of UTC in March.
    assert clock["source"] == "uploaded"
    assert clock["wall"].replace(tzinfo=None) == datetime(2024, 3, 1, 11, 0)


def test_full_rows_fill_the_width_exactly(modules_page):
    aspects = [1.5, 0.75, 1.33, 3, 1, 0.5, 1.5, 1.5, 0.8, 2, 1, 1.2]

    rows = call(modules_page, "layout.js", "packRows", aspects, 1000, 200, 4)

    for row in rows[:-1]:
        tiles = row["tiles"]
        assert tiles[0]["left"] == 0
        assert tiles[-1]["left"] + tiles[-1]["width"] == 1000
        for before, after in zip(tiles, tiles[1:]):
            assert after["left"] == before["left"] + before["width"] + 4
        assert 100 <= row["height"] <= 300
    placed = [tile["offset"] for row in rows for tile in row["tiles"]]
    assert placed == list(range(len(aspects)))


def test_a_lone_photo_at_the_end_of_a_day_is_not_blown_up(modules_page):
    rows = call(modules_page, "layout.js", "packRows", [1.5], 1200, 200, 4)

    assert rows == [{"height": 200, "tiles": [
        {"offset": 0, "left": 0, "width": 300, "height": 200}]}]


def test_tiles_take_their_shape_from_width_and_height(modules_page):
    def aspect(width, height):
        size = {"width": width, "height": height}
        return call(modules_page, "layout.js", "aspectOf", size)

    assert aspect(3072, 4080) == pytest.approx(3072 / 4080)
    assert aspect(0, 0) == 1
    assert aspect(8000, 1000) == 3


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"camera_make": "Canon", "camera_model": "Canon EOS 40D"}, "Canon EOS 40D"),
        ({"camera_make": "NIKON CORPORATION", "camera_model": "NIKON D5300"},
         "NIKON D5300"),
        ({"camera_make": "Google", "camera_model": "Pixel 8 Pro"},
         "Google Pixel 8 Pro"),
        ({"camera_model": "ILCE-7SM3"}, "ILCE-7SM3"),
        ({}, ""),
    ],
)
def test_camera_names_do_not_repeat_the_make(modules_page, meta, expected):
    assert call(modules_page, "format.js", "formatCamera", meta) == expected


def test_exposure_reads_like_a_camera_display(modules_page):
    meta = {"exposure_time": "0.008", "f_number": 2.8, "iso_speed": 200,
            "focal_length": 4.2}

    text = call(modules_page, "format.js", "formatExposure", meta)

    assert text == "1/125 s · f/2.8 · ISO 200 · 4.2 mm"


def test_coordinates_carry_their_hemisphere(modules_page):
    text = call(modules_page, "format.js", "formatCoordinates",
                51.17828056, -1.82663889)

    assert text == "51.17828° N, 1.82664° W"


def test_out_of_range_gps_is_not_a_place(modules_page):
    # edge/buggy_panorama.jpg really stores latitude 213.64.
    meta = {"gps_latitude": 213.64000889, "gps_longitude": 103.48}

    assert call(modules_page, "format.js", "hasPlace", meta) is False


@pytest.mark.parametrize(
    ("seconds", "text"), [(4.00166667, "0:04"), (61, "1:01"), (3723, "1:02:03")]
)
def test_durations(modules_page, seconds, text):
    assert call(modules_page, "format.js", "formatDuration", seconds) == text

"""The five statistics endpoints on real photos: counts, clocks, scope, errors."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from two_users import assert_error, start_library

# Capture times (from the manifest): Sony 2007-06-15 04:42:32 and Iceland 2012-08-08
# 22:07:18 carry no zone, so they count as written; Nokia 2022-08-14 14:12:31+03:00 is
# 11:12:31 UTC; Nikon D70 2008-03-15 09:52:01, Canon 40D 2008-05-30 15:56:01.
PHOTOS = ["jpeg/Sony_HDR-HC3.jpg", "jpeg/Iceland-P3.jpg", "jpeg/HMD_Nokia_8.3_5G.jpg",
          "jpeg/Nikon_D70.jpg", "jpeg/Canon_40D.jpg"]
# bob's own photo (Pentax K10D) was taken 2008-05-04 16:47:24.
UTC_HOURS = {4: 1, 22: 1, 11: 1, 9: 1, 15: 1, 16: 1}
# Los Angeles is UTC-7 in summer; daylight saving had begun on 2008-03-09, so the
# Nikon's 09:52 UTC on 2008-03-15 is 02:52 there, not 01:52.
LA_HOURS = {21: 1, 15: 1, 4: 1, 2: 1, 8: 1, 9: 1}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    library = start_library(tmp_path_factory.mktemp("stats"), PHOTOS)
    yield library
    library.server.stop()


def get(lib, path: str, token="default") -> dict:
    res = lib.server.get(path, token=token)
    assert res.status_code == 200, res.text
    return res.json()


def test_available_years_are_newest_first_and_scoped(lib):
    assert get(lib, "/stats/available-years") == {"years": [2022, 2012, 2008, 2007]}
    assert get(lib, "/stats/available-years", token=lib.bob) == {"years": [2008]}
    repos = lib.server.get("/repositories").json()["repositories"]
    folder = next(r for r in repos if r["name"] == "photos")["id"]
    assert get(lib, f"/stats/available-years?repository_id={folder}")["years"] == [
        2022, 2012, 2008, 2007]


def test_daily_activity_by_year_range_and_viewer_clock(lib):
    assert get(lib, "/stats/daily-activity?year=2007") == {
        "data": [{"date": "2007-06-15", "count": 1}]}
    la = get(lib, "/stats/daily-activity?year=2007"
                  "&viewer_timezone=America/Los_Angeles")
    assert la == {"data": [{"date": "2007-06-14", "count": 1}]}
    year_2008 = get(lib, "/stats/daily-activity?year=2008")["data"]
    assert year_2008 == [{"date": "2008-03-15", "count": 1},
                         {"date": "2008-05-04", "count": 1},
                         {"date": "2008-05-30", "count": 1}]

    day = "start_date=2012-08-09&end_date=2012-08-09"
    assert get(lib, f"/stats/daily-activity?{day}") == {"data": []}
    assert get(lib, f"/stats/daily-activity?{day}&viewer_timezone=Asia/Tokyo") == {
        "data": [{"date": "2012-08-09", "count": 1}]}
    # An unknown zone is UTC, as in the browse query.
    assert get(lib, f"/stats/daily-activity?{day}&viewer_timezone=Mars/Base") == {
        "data": []}
    # The default is this calendar year; nothing was taken in it.
    assert get(lib, "/stats/daily-activity")["data"] == []
    assert get(lib, "/stats/daily-activity?days=36500")["data"][0] == {
        "date": "2007-06-15", "count": 1}


def test_heatmap_day_matches_the_browse_date_filter(lib):
    zone = "Asia/Tokyo"
    data = get(lib, f"/stats/daily-activity?year=2012&viewer_timezone={zone}")["data"]
    assert data == [{"date": "2012-08-09", "count": 1}]
    res = lib.server.post("/assets/list", {
        "filter": {"date": {"from": "2012-08-09"}}, "viewer_timezone": zone,
        "stack_mode": "expanded"})
    names = [i["asset"]["original_filename"] for i in res.json()["items"]]
    assert names == ["Iceland-P3.jpg"]


def test_hourly_distribution_follows_the_viewer_clock(lib):
    utc = get(lib, "/stats/time-distribution?type=hourly")
    assert utc["type"] == "hourly"
    assert {d["value"]: d["count"] for d in utc["data"]} == UTC_HOURS
    assert [d["value"] for d in utc["data"]] == sorted(UTC_HOURS)
    assert {d["label"] for d in utc["data"]} == {f"{h}:00" for h in UTC_HOURS}
    la = get(lib, "/stats/time-distribution?viewer_timezone=America/Los_Angeles")
    assert {d["value"]: d["count"] for d in la["data"]} == LA_HOURS


def test_monthly_distribution_newest_first_with_month_starts(lib):
    monthly = get(lib, "/stats/time-distribution?type=monthly")
    labels = [d["label"] for d in monthly["data"]]
    assert labels == ["2022-08", "2012-08", "2008-05", "2008-03", "2007-06"]
    counts = {d["label"]: d["count"] for d in monthly["data"]}
    assert counts["2008-05"] == 2
    first = monthly["data"][0]
    assert first["value"] == int(datetime(2022, 8, 1, tzinfo=ZoneInfo("UTC"))
                                 .timestamp())
    tokyo = get(lib, "/stats/time-distribution?type=monthly&viewer_timezone=Asia/Tokyo")
    month = next(d for d in tokyo["data"] if d["label"] == "2012-08")
    assert month["value"] == int(datetime(2012, 8, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
                                 .timestamp())


def test_camera_lens_and_focal_length_agree_with_the_assets(lib):
    details = [lib.server.get(f"/assets/{a['asset_id']}").json()["specific_metadata"]
               for a in lib.server.assets()]
    pairs: dict = {}
    focal: dict = {}
    for meta in details:
        if meta.get("camera_model") and meta.get("lens_model"):
            key = (meta["camera_model"], meta["lens_model"])
            pairs[key] = pairs.get(key, 0) + 1
        if meta.get("focal_length"):
            focal[meta["focal_length"]] = focal.get(meta["focal_length"], 0) + 1

    lenses = get(lib, "/stats/camera-lens")
    got = {(d["camera_model"], d["lens_model"]): d["count"] for d in lenses["data"]}
    assert got == pairs and lenses["total"] == sum(pairs.values())
    assert ("NIKON D800E", "16.0-35.0 mm f/4.0") in got
    assert len(get(lib, "/stats/camera-lens?limit=1")["data"]) == 1

    lengths = get(lib, "/stats/focal-length")
    assert {d["focal_length"]: d["count"] for d in lengths["data"]} == focal
    assert lengths["total"] == sum(focal.values()) and len(focal) >= 3


def test_a_user_counts_only_their_own(lib):
    hours = get(lib, "/stats/time-distribution", token=lib.bob)["data"]
    assert hours == [{"label": "16:00", "value": 16, "count": 1}]
    assert get(lib, "/stats/daily-activity?year=2012", token=lib.bob) == {"data": []}
    lenses = get(lib, "/stats/camera-lens", token=lib.bob)["data"]
    assert all(d["camera_model"] == "PENTAX K10D" for d in lenses)


def test_trash_is_not_counted(lib):
    sony = lib.id("Sony_HDR-HC3.jpg")
    lib.server.request("DELETE", f"/assets/{sony}")
    try:
        assert 2007 not in get(lib, "/stats/available-years")["years"]
    finally:
        lib.server.post(f"/assets/{sony}/restore", {})
    assert 2007 in get(lib, "/stats/available-years")["years"]


@pytest.mark.parametrize("path", [
    "/stats/time-distribution?type=weekly",
    "/stats/daily-activity?year=1800", "/stats/daily-activity?year=twenty",
    "/stats/daily-activity?year=2020&start_date=2020-01-01&end_date=2020-02-01",
    "/stats/daily-activity?start_date=2020-01-01",
    "/stats/daily-activity?end_date=2020-01-01",
    "/stats/daily-activity?start_date=2020-02-01&end_date=2020-01-01",
    "/stats/daily-activity?start_date=2020-13-01&end_date=2020-12-31",
    "/stats/daily-activity?start_date=20200101&end_date=2020-12-31",
    "/stats/daily-activity?days=0", "/stats/daily-activity?days=36501",
    "/stats/camera-lens?limit=0", "/stats/camera-lens?limit=x",
    "/stats/focal-length?repository_id=not-a-uuid",
    "/stats/available-years?repository_id=1",
])
def test_bad_parameters_are_400(lib, path):
    assert_error(lib.server.get(path), 400)


@pytest.mark.parametrize("name", ["available-years", "camera-lens", "focal-length",
                                  "time-distribution", "daily-activity"])
def test_anonymous_is_401(lib, name):
    assert_error(lib.server.get(f"/stats/{name}", token=None), 401)

"""The whole shared media corpus, imported through a running server, against the
manifest: capture time and offset, GPS, displayed size, camera model and MIME type."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest
from serverkit import MEDIA, manifest, manifest_time

pytestmark = pytest.mark.slow

# Deliberate differences from the manifest, each with its reason.
GPS_DROPPED = {
    "edge/buggy_panorama.jpg": "latitude 213.64 is out of range",
    "edge/image-2011.jpg": "0,0 is the 'no fix' placeholder, not a place",
}
# The manifest writes "Z" for FLIR_Thermal's QuickTime date: that marks a UTC stamp,
# not the zone the clip was filmed in, so the offset stays unknown (the instant is
# compared all the same).
OFFSET_UNKNOWN = {"video/FLIR_Thermal.mp4"}
# The manifest gives the size the camera wrote; these RAW stubs have no pixels.
SIZE_NOT_COMPARED_PREFIX = "raw/"


def offset_minutes(text: str) -> int | None:
    return manifest_time("2000:01:01 00:00:00" + text)[1] if text else None


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    from serverkit import Server

    root = tmp_path_factory.mktemp("corpus")
    library = root / "library"
    shutil.copytree(MEDIA, library)
    server = Server(root / "data", [library]).start()
    try:
        server.sign_up()
        server.wait_idle(timeout=600)
        assets = server.assets()
        yield server, {a["storage_path"]: a for a in assets}
    finally:
        server.stop()


def rows(kind_filter=None):
    return [r for r in manifest() if kind_filter is None or kind_filter(r)]


def test_every_readable_file_is_imported(imported):
    _, by_path = imported
    missing = [r["path"] for r in rows() if r["path"] not in by_path and r["mime"]]
    assert missing == []


@pytest.mark.parametrize("row", rows(lambda r: r["mime"]), ids=lambda r: r["path"])
def test_mime_type(imported, row):
    _, by_path = imported
    assert by_path[row["path"]]["mime_type"] == row["mime"]


@pytest.mark.parametrize(
    "row",
    rows(lambda r: r["width"] and r["kind"] != "audio"
         and not r["path"].startswith(SIZE_NOT_COMPARED_PREFIX)
         and not r["path"].startswith("edge/")),
    ids=lambda r: r["path"])
def test_displayed_size(imported, row):
    _, by_path = imported
    width, height = int(float(row["width"])), int(float(row["height"]))
    if row["orientation"] in ("5", "6", "7", "8") or row["rotation"] in ("90", "270"):
        width, height = height, width
    asset = by_path[row["path"]]
    assert (asset.get("width"), asset.get("height")) == (width, height)


@pytest.mark.parametrize(
    "row", rows(lambda r: r["taken"] and not r["path"].startswith("edge/")),
    ids=lambda r: r["path"])
def test_capture_time_and_offset(imported, row):
    _, by_path = imported
    asset = by_path[row["path"]]
    want, want_offset = manifest_time(row["taken"])
    if row["offset"]:
        want_offset = offset_minutes(row["offset"])
    got = datetime.fromisoformat(asset["taken_time"].replace("Z", "+00:00"))
    offset = asset.get("capture_offset_minutes")

    if row["path"] in OFFSET_UNKNOWN:
        want_offset = None
    if row["kind"] == "video" and want_offset is None:
        # QuickTime dates without a zone are UTC by the format's definition.
        assert abs(got.astimezone(timezone.utc).replace(tzinfo=None) - want) <= \
            timedelta(seconds=1)
        return
    wall = got.astimezone(timezone.utc).replace(tzinfo=None) + timedelta(
        minutes=offset or 0)
    assert abs(wall - want) <= timedelta(seconds=1)
    assert offset == want_offset


@pytest.mark.parametrize(
    "row", rows(lambda r: r["gps_lat"] or r["path"] in GPS_DROPPED),
    ids=lambda r: r["path"])
def test_gps(imported, row):
    _, by_path = imported
    meta = by_path[row["path"]]["specific_metadata"]
    got = (meta.get("gps_latitude"), meta.get("gps_longitude"))
    if row["path"] in GPS_DROPPED or (float(row["gps_lat"]), float(row["gps_lon"])) \
            == (0.0, 0.0):
        # Out of range, or the exact 0,0 that cameras write when they had no fix.
        assert got == (None, None), GPS_DROPPED.get(row["path"], "0,0 placeholder")
        return
    want = (float(row["gps_lat"]), float(row["gps_lon"]))
    assert got[0] is not None and abs(got[0] - want[0]) < 1e-4
    assert abs(got[1] - want[1]) < 1e-4


@pytest.mark.parametrize(
    "row", rows(lambda r: r["model"] and r["kind"] in ("jpeg", "heic", "raw")),
    ids=lambda r: r["path"])
def test_camera_model(imported, row):
    _, by_path = imported
    model = by_path[row["path"]]["specific_metadata"].get("camera_model") or ""
    assert row["model"].lower() in model.lower()


def test_edge_files_end_in_values_or_an_error_state(imported):
    server, by_path = imported
    for row in rows(lambda r: r["path"].startswith("edge/")):
        asset = by_path.get(row["path"])
        if asset is None:
            # Only a file with no content at all may be refused at discovery, and it
            # still must appear as a failed asset, not vanish silently.
            pytest.fail(f"{row['path']} is not in the catalog")
        state = asset["processing"]["state"]
        if row["width"]:
            assert state in ("complete", "warning", "failed"), row["path"]
        else:
            assert state == "failed", row["path"]
            assert asset["processing"]["errors"], row["path"]


def test_unreadable_files_say_why(imported):
    _, by_path = imported
    empty = by_path["edge/empty.jpg"]["processing"]
    assert empty["state"] == "failed"
    assert "empty" in empty["errors"][0]["error"].lower()
    corrupted = by_path["edge/corrupted.heic"]["processing"]
    assert corrupted["state"] == "failed"


def test_thumbnails_exist_for_decodable_photos(imported):
    server, by_path = imported
    for path in ("jpeg/Canon_40D.jpg", "heic/IMG_2682.heic", "video/with-gps.mov",
                 "raw/canon_eos_6d.dng", "png-webp-gif/norway.webp"):
        asset = by_path[path]
        res = server.get(f"/assets/{asset['asset_id']}/thumbnail?size=small")
        assert res.status_code == 200, path
        assert res.headers["content-type"] == "image/webp"


def test_queue_is_idle_and_nothing_discarded(imported):
    server, _ = imported
    stats = server.get("/admin/river/stats").json()
    assert stats["available"] == stats["running"] == stats["retryable"] == 0
    assert stats["discarded"] == 0


def test_gps_from_xmp_when_exif_gps_is_incomplete(imported):
    # A deliberate difference: the manifest leaves Nikon_D5000's place empty because
    # its EXIF GPS seconds are 0/0 (undefined), but the file's XMP holds the full
    # position (48°53.323582'N, 21°2.59507'E), which is what a person expects to see.
    _, by_path = imported
    meta = by_path["jpeg/Nikon_D5000.jpg"]["specific_metadata"]
    assert abs(meta["gps_latitude"] - 48.888726) < 1e-4
    assert abs(meta["gps_longitude"] - 21.043251) < 1e-4

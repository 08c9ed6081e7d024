"""Featured photos, map points, sectioned search and the indexing endpoints."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

from lumilio.services import featured
from two_users import assert_error, start_library

# GPS in the manifest: Kodak (-0.37, 36.06), IMG_4120 (50.05, 8.57), Iceland (65.06,
# -16.63); the Samsung writes 0,0 (no fix) and buggy_panorama a latitude of 213.
PHOTOS = ["jpeg/Kodak_CX7530.jpg", "jpeg/IMG_4120.JPG", "jpeg/Iceland-P3.jpg",
          "jpeg/Samsung_GT-I9000_Galaxy_S.jpg", "edge/buggy_panorama.jpg",
          "jpeg/Canon_40D.jpg", "jpeg/Nikon_D70.jpg", "jpeg/Sony_HDR-HC3.jpg",
          "jpeg/gps/DSCN0010.jpg", "jpeg/gps/DSCN0021.jpg"]
ON_THE_MAP = {"Kodak_CX7530.jpg", "IMG_4120.JPG", "Iceland-P3.jpg", "DSCN0010.jpg",
              "DSCN0021.jpg"}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    library = start_library(tmp_path_factory.mktemp("discover"), PHOTOS)
    yield library
    library.server.stop()


def ok(res) -> dict:
    assert res.status_code == 200, res.text
    return res.json()


# -- featured -------------------------------------------------------------------------


def test_featured_is_the_same_for_a_seed_and_within_the_count(lib):
    s = lib.server
    first = ok(s.get("/assets/featured?count=8&days=0&seed=demo"))
    again = ok(s.get("/assets/featured?count=8&days=0&seed=demo"))
    picked = [a["asset_id"] for a in first["assets"]]
    assert picked == [a["asset_id"] for a in again["assets"]]
    assert first["count"] == len(picked) == 8 and len(set(picked)) == 8
    assert first["candidate_count"] == len(PHOTOS) + 1  # the admin sees bob's
    assert first["strategy"] == "weighted_aes_v1" and first["seed"] == "demo"
    assert first["generated_at_time"].endswith("Z")

    seeds = {tuple(a["asset_id"] for a in ok(s.get(
        f"/assets/featured?count=3&days=0&seed=s{i}"))["assets"]) for i in range(6)}
    assert len(seeds) > 1  # the seed really changes the pick

    today = ok(s.get("/assets/featured?days=0"))
    assert today["seed"] == datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert today["count"] == 8  # the default count


def test_featured_respects_owner_dates_and_candidates(lib):
    s = lib.server
    bobs = ok(s.get("/assets/featured?days=0", token=lib.bob))
    assert [a["asset_id"] for a in bobs["assets"]] == [lib.bobs_asset]
    # Every corpus photo here was taken more than a year ago.
    assert ok(s.get("/assets/featured?days=365"))["candidate_count"] == 0
    few = ok(s.get("/assets/featured?days=0&candidate_limit=16&count=24"))
    assert few["count"] == len(PHOTOS) + 1  # fewer photos than slots: all of them


@pytest.mark.parametrize("query", [
    "count=0", "count=25", "count=x", "candidate_limit=15", "candidate_limit=1001",
    "days=-1", "days=36501", "repository_id=nope", "seed=" + "x" * 201,
])
def test_featured_bad_parameters_are_400(lib, query):
    assert_error(lib.server.get(f"/assets/featured?{query}"), 400)


def row(asset_id, day, camera="", width=4000, height=3000, **extra):
    return {"asset_id": asset_id, "sort_time": f"{day}T12:00:00.000000Z",
            "camera_model": camera, "width": width, "height": height, **extra}


def test_diversity_limits_then_fill_by_rank():
    ranked = [row(f"a{i}", "2024-05-01", "Cam") for i in range(3)]
    ranked += [row(f"b{i}", f"2024-06-0{i + 1}", "Cam") for i in range(3)]
    ranked += [row(f"c{i}", f"2024-07-0{i + 1}", width=3000, height=4000)
               for i in range(5)]
    chosen = [r["asset_id"] for r in featured.diversify(ranked, 8)]
    # Two of the first day; the camera's third slot goes to b0; then portraits
    # (no camera) until the portrait shape has four; the rest fills by rank.
    assert chosen[:7] == ["a0", "a1", "b0", "c0", "c1", "c2", "c3"]
    assert chosen[7] == "a2"
    assert Counter(featured.shape(r) for r in ranked) == {"landscape": 6,
                                                          "portrait": 5}


def test_weights_and_keys_follow_the_reference():
    today = datetime(2025, 1, 1, tzinfo=timezone.utc)
    bare = {"sort_time": "2025-01-01T00:00:00.000000Z", "width": None,
            "height": None, "rating": 0, "liked": 0, "specific_metadata": None,
            "taken_source": "mtime", "camera_model": None, "lens_model": None,
            "gps_latitude": None, "gps_longitude": None}
    # Only recency: 0.05 + 0.95 * 0.45.
    assert featured.weight(bare, today) == pytest.approx(0.05 + 0.95 * 0.45)
    rich = {**bare, "width": 6000, "height": 4000, "rating": 5, "liked": 1,
            "taken_source": "exif", "camera_model": "X", "lens_model": "Y",
            "gps_latitude": 10.0, "gps_longitude": 10.0,
            "specific_metadata": '{"exposure_time": "1/100", "f_number": 2.8}'}
    assert featured.weight(rich, today) == pytest.approx(1.0)
    old = {**bare, "sort_time": "2024-09-03T00:00:00.000000Z"}  # 120 days before
    assert featured.weight(old, today) == pytest.approx(0.05 + 0.95 * 0.45 / 2)

    assert featured.key("s", "a", 0.5) == featured.key("s", "a", 0.5)
    assert featured.key("s", "a", 1.0) == pytest.approx(featured.key("s", "a", 0.5) / 2)
    assert featured.key("s", "a", 1.0) != featured.key("t", "a", 1.0)


# -- map points -----------------------------------------------------------------------


def test_map_points_are_valid_positions_newest_first(lib):
    s = lib.server
    res = ok(s.get("/assets/map-points"))
    names = [p["original_filename"] for p in res["points"]]
    assert set(names) == ON_THE_MAP and res["total"] == len(ON_THE_MAP)
    assert res["limit"] == 1000 and res["offset"] == 0
    taken = [p["taken_time"] for p in res["points"]]
    assert taken == sorted(taken, reverse=True)
    iceland = next(p for p in res["points"] if p["original_filename"] ==
                   "Iceland-P3.jpg")
    assert iceland["gps_latitude"] == pytest.approx(65.0556, abs=1e-3)
    assert iceland["gps_longitude"] == pytest.approx(-16.6257, abs=1e-3)
    assert iceland["upload_time"].endswith("Z")

    page = ok(s.get("/assets/map-points?limit=2&offset=1"))
    assert [p["asset_id"] for p in page["points"]] == [
        p["asset_id"] for p in res["points"][1:3]]
    assert ok(s.get("/assets/map-points", token=lib.bob))["total"] == 0


@pytest.mark.parametrize("query", ["limit=0", "limit=5001", "limit=x", "offset=-1",
                                   "repository_id=zz"])
def test_map_points_bad_parameters_are_400(lib, query):
    assert_error(lib.server.get(f"/assets/map-points?{query}"), 400)


# -- search ---------------------------------------------------------------------------


def search(lib, token="default", **body) -> dict:
    return ok(lib.server.post("/assets/search", body, token=token))


def names(items) -> list[str]:
    return [i["asset"]["original_filename"] for i in items]


def test_search_by_file_name_says_semantic_is_unavailable(lib):
    found = search(lib, query="ICELAND", enhancement_mode="auto",
                   top_results_limit=9, stack_mode="collapsed")
    assert names(found["result_items"]) == ["Iceland-P3.jpg"]
    assert found["results_total_assets"] == found["results_total_visible"] == 1
    assert found["top_items"] == []  # fewer matches than the best-results size
    meta = found["top_results_meta"]
    assert meta["enabled"] is True and meta["degraded"] is True
    assert meta["reason"] == "semantic_unavailable"
    assert "filename" in meta["source_types"]
    assert "embedding" not in meta["source_types"]
    assert found["stack_mode"] == "collapsed"
    item = found["result_items"][0]
    assert item["type"] == "asset" and item["id"] == f"asset:{lib.id('Iceland-P3.jpg')}"


def test_search_top_items_sort_and_pages(lib):
    found = search(lib, query="DSCN", top_results_limit=2, debug=True,
                   pagination={"limit": 1, "offset": 1})
    assert names(found["top_items"]) == ["DSCN0021.jpg", "DSCN0010.jpg"]
    assert names(found["result_items"]) == ["DSCN0010.jpg"]
    assert found["limit"] == 1 and found["offset"] == 1
    debug = found["top_results_meta"]["debug"]
    assert [d["contributions"]["filename"]["rank"] for d in debug] == [1, 2]
    sources = {x["type"]: x for x in found["top_results_meta"]["sources"]}
    assert sources["filename"]["candidate_count"] == 2

    only = search(lib, query="DSCN", top_results_limit=2, enhancement_mode="only")
    assert names(only["top_items"]) == ["DSCN0021.jpg", "DSCN0010.jpg"]
    assert only["result_items"] == []
    recent = search(lib, query="jpg", sort_by="recently_added")
    uploads = [i["asset"]["upload_time"] for i in recent["result_items"]]
    assert uploads == sorted(uploads, reverse=True)


def test_search_respects_filters_and_owner(lib):
    found = search(lib, query="jpg", filter={"camera_model": "NIKON D70"})
    assert names(found["result_items"]) == ["Nikon_D70.jpg"]
    assert search(lib, query="Iceland", token=lib.bob)["results_total_assets"] == 0
    bobs = search(lib, query="pentax", token=lib.bob)
    assert [i["asset"]["asset_id"] for i in bobs["result_items"]] == [lib.bobs_asset]


def test_search_without_query_or_enhancement_is_a_browse(lib):
    empty = search(lib, query="  ", stack_mode="expanded")
    assert empty["top_results_meta"] == {"enabled": False, "reason": "empty_query"}
    assert empty["results_total_assets"] == len(PHOTOS) + 1  # the admin sees bob's
    off = search(lib, query="iceland", enhancement_mode="off")
    assert off["top_results_meta"] == {"enabled": False, "reason": "disabled"}
    assert names(off["result_items"]) == ["Iceland-P3.jpg"]


@pytest.mark.parametrize("body", [
    {"query": "x", "enhancement_mode": "magic"}, {"query": "x", "sort_by": "size"},
    {"query": "x", "stack_mode": "flat"}, {"query": 5},
    {"query": "x", "top_results_limit": "9"}, {"query": "x", "debug": "yes"},
    {"query": "x", "filter": {"type": "DOCUMENT"}}, {"query": "x", "filter": []},
    {"query": "x", "pagination": {"limit": "ten"}},
    {"query": "x", "filter": {"rating": 7}},
])
def test_search_bad_bodies_are_400(lib, body):
    assert_error(lib.server.post("/assets/search", body), 400)


# -- indexing -------------------------------------------------------------------------


def test_indexing_lists_repositories_and_counts_photos(lib):
    s = lib.server
    repos = ok(s.get("/assets/indexing/repositories"))["repositories"]
    assert {r["name"] for r in repos} >= {"photos"}
    assert all(set(r) == {"id", "name", "path", "role", "is_primary"} for r in repos)
    assert sum(r["is_primary"] for r in repos) == 1

    stats = ok(s.get("/assets/indexing/stats"))
    assert stats["photo_total"] == len(PHOTOS) + 1 and stats["reindex_jobs"] == 0
    for name in ("semantic", "ocr", "face"):
        task = stats["tasks"][name]
        assert task["total_count"] == stats["photo_total"]
        assert 0 <= task["indexed_count"] <= task["total_count"]
        assert task["queued_jobs"] >= 0
    assert stats["tasks"]["bioclip"]["total_count"] == 0
    folder = next(r["id"] for r in repos if r["name"] == "photos")
    scoped = ok(s.get(f"/assets/indexing/stats?repository_id={folder}"))
    assert scoped["photo_total"] == len(PHOTOS)


def test_indexing_rebuild_refuses_bioclip(lib):
    bio = assert_error(lib.server.post("/assets/indexing/rebuild",
                                       {"tasks": ["bioclip"]}), 400)
    assert "album" in bio["error"]


@pytest.mark.parametrize("body", [
    {"tasks": ["colour"]}, {"tasks": "semantic"}, {"tasks": [1]}, {"limit": 0},
    {"limit": 501}, {"limit": "5"}, {"missing_only": "yes"},
    {"repository_id": "nope"}, {"repository_id": 3},
])
def test_indexing_rebuild_bad_bodies_are_400(lib, body):
    assert_error(lib.server.post("/assets/indexing/rebuild", body), 400)


def test_indexing_is_for_admins(lib):
    s = lib.server
    for method, path in [("GET", "/assets/indexing/repositories"),
                         ("GET", "/assets/indexing/stats"),
                         ("POST", "/assets/indexing/rebuild")]:
        assert_error(s.request(method, path, token=lib.bob,
                               json={} if method == "POST" else None), 403)
    assert_error(s.get("/assets/indexing/stats?repository_id="
                       "00000000-0000-4000-8000-000000000000"), 404)

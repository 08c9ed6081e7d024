"""Stars, favourites, descriptions and metadata of single assets, through the API."""

from __future__ import annotations

import pytest

from two_users import assert_error, start_library

PHOTOS = ["jpeg/Canon_40D.jpg", "jpeg/Nikon_D70.jpg", "jpeg/Kodak_CX7530.jpg"]
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    library = start_library(tmp_path_factory.mktemp("edits"), PHOTOS)
    yield library
    library.server.stop()


def detail(lib, asset_id: str) -> dict:
    res = lib.server.get(f"/assets/{asset_id}")
    assert res.status_code == 200, res.text
    return res.json()


def test_rating_and_like_show_on_the_asset_and_in_the_lists(lib):
    s = lib.server
    canon, nikon = lib.id("Canon_40D.jpg"), lib.id("Nikon_D70.jpg")

    assert s.request("PUT", f"/assets/{canon}/rating", json={"rating": 4}).json() == {
        "message": "Rating updated successfully"}
    assert s.request("PUT", f"/assets/{nikon}/like",
                     json={"liked": True}).status_code == 200
    assert detail(lib, canon)["rating"] == 4 and detail(lib, nikon)["liked"] is True

    rated = s.get("/assets/rating/4").json()
    assert [a["asset_id"] for a in rated["assets"]] == [canon]
    assert rated["total"] == 1 and rated["limit"] == 20 and rated["offset"] == 0
    liked = s.get("/assets/liked?limit=100").json()
    assert [a["asset_id"] for a in liked["assets"]] == [nikon]
    assert liked["limit"] == 100

    assert s.request("PUT", f"/assets/{canon}/rating-and-like",
                     json={"rating": 0, "liked": True}).status_code == 200
    after = detail(lib, canon)
    assert after["rating"] == 0 and after["liked"] is True
    # Rating 0 lists the unrated, which is now every one of alice's photos.
    unrated = {a["asset_id"] for a in s.get("/assets/rating/0?limit=100").json()[
        "assets"]}
    assert {canon, nikon, lib.id("Kodak_CX7530.jpg")} <= unrated
    assert lib.bobs_asset in unrated  # the admin sees every asset
    liked = s.get("/assets/liked?limit=1&offset=1").json()
    assert liked["total"] == 2 and len(liked["assets"]) == 1


@pytest.mark.parametrize("path,body", [
    ("rating", {"rating": 6}), ("rating", {"rating": -1}), ("rating", {"rating": 2.5}),
    ("rating", {"rating": "5"}), ("rating", {"rating": True}), ("rating", {}),
    ("like", {"liked": "yes"}), ("like", {"liked": 1}), ("like", {}),
    ("rating-and-like", {"rating": 3}), ("rating-and-like", {"liked": True}),
    ("rating-and-like", {"rating": 9, "liked": True}),
    ("description", {"description": 42}), ("description", {}),
    ("description", {"description": "x" * 10_001}),
])
def test_bad_values_are_400(lib, path, body):
    canon = lib.id("Canon_40D.jpg")
    before = detail(lib, canon)
    assert_error(lib.server.request("PUT", f"/assets/{canon}/{path}", json=body), 400)
    after = detail(lib, canon)
    assert (after["rating"], after["liked"]) == (before["rating"], before["liked"])


def test_malformed_json_and_bad_ids_are_400(lib):
    s = lib.server
    canon = lib.id("Canon_40D.jpg")
    assert_error(s.request("PUT", f"/assets/{canon}/rating", content=b"{rating: 5",
                           headers={"Content-Type": "application/json"}), 400)
    assert_error(s.request("PUT", "/assets/not-a-uuid/rating", json={"rating": 1}), 400)
    for bad in ("6", "-1", "x", "1.5"):
        assert_error(s.get(f"/assets/rating/{bad}"), 400)
    assert_error(s.get("/assets/liked?limit=many"), 400)
    assert_error(s.get("/assets/liked?offset=-3"), 400)


def test_missing_and_foreign_assets_are_404(lib):
    s = lib.server
    canon = lib.id("Canon_40D.jpg")
    for path, body in [("rating", {"rating": 1}), ("like", {"liked": True}),
                       ("rating-and-like", {"rating": 1, "liked": True}),
                       ("description", {"description": "x"})]:
        assert_error(s.request("PUT", f"/assets/{MISSING}/{path}", json=body), 404)
        assert_error(s.request("PUT", f"/assets/{canon}/{path}", json=body,
                               token=lib.bob), 404)
    assert_error(s.request("PUT", f"/assets/{canon}", token=lib.bob,
                           json={"specific_metadata": {}}), 404)
    assert_error(s.get(f"/assets/{canon}/albums", token=lib.bob), 404)
    assert_error(s.request("PUT", f"/assets/{canon}/rating", token=None,
                           json={"rating": 1}), 401)


def test_bob_changes_his_own_and_sees_only_his_own(lib):
    s = lib.server
    res = s.request("PUT", f"/assets/{lib.bobs_asset}/rating-and-like",
                    json={"rating": 5, "liked": True}, token=lib.bob)
    assert res.status_code == 200, res.text
    liked = s.get("/assets/liked", token=lib.bob).json()
    assert [a["asset_id"] for a in liked["assets"]] == [lib.bobs_asset]
    rated = s.get("/assets/rating/5", token=lib.bob).json()
    assert [a["asset_id"] for a in rated["assets"]] == [lib.bobs_asset]
    # The admin may change bob's asset too.
    assert s.request("PUT", f"/assets/{lib.bobs_asset}/like",
                     json={"liked": False}).status_code == 200
    assert s.get("/assets/liked", token=lib.bob).json()["total"] == 0


def test_description_goes_into_the_metadata_and_can_be_cleared(lib):
    s = lib.server
    nikon = lib.id("Nikon_D70.jpg")
    camera = detail(lib, nikon)["specific_metadata"]["camera_model"]

    res = s.request("PUT", f"/assets/{nikon}/description",
                    json={"description": "  Spring walk  "})
    assert res.json() == {"message": "Description updated successfully"}
    meta = detail(lib, nikon)["specific_metadata"]
    assert meta["description"] == "Spring walk" and meta["camera_model"] == camera

    s.request("PUT", f"/assets/{nikon}/description", json={"description": ""})
    meta = detail(lib, nikon)["specific_metadata"]
    assert "description" not in meta and meta["camera_model"] == camera


def test_put_asset_replaces_metadata_and_the_filters_follow(lib):
    s = lib.server
    kodak = lib.id("Kodak_CX7530.jpg")
    meta = detail(lib, kodak)["specific_metadata"]
    meta.update({"camera_model": "Renamed Camera", "lens_model": "Test Lens 35mm",
                 "focal_length": 35.0, "description": "edited"})
    res = s.request("PUT", f"/assets/{kodak}", json={"specific_metadata": meta})
    assert res.json() == {"message": "Asset updated successfully"}

    assert detail(lib, kodak)["specific_metadata"] == meta
    found = s.assets(camera_model="Renamed Camera", lens="Test Lens 35mm")
    assert [a["asset_id"] for a in found] == [kodak]
    options = s.get("/assets/filter-options").json()
    assert "Renamed Camera" in options["camera_models"]


@pytest.mark.parametrize("body", [
    {}, {"specific_metadata": "text"}, {"specific_metadata": []},
    {"specific_metadata": {"focal_length": "35mm"}},
    {"specific_metadata": {"is_raw": 1}},
    {"specific_metadata": {"iso_speed": 100.5}},
    {"specific_metadata": {"gps_latitude": 95.0, "gps_longitude": 10.0}},
    {"specific_metadata": {"gps_latitude": 45.0}},
    {"specific_metadata": {"nested": {"a": 1}}},
    {"specific_metadata": {"big": "x" * 70_000}},
])
def test_bad_metadata_is_400_and_changes_nothing(lib, body):
    canon = lib.id("Canon_40D.jpg")
    before = detail(lib, canon)["specific_metadata"]
    assert_error(lib.server.request("PUT", f"/assets/{canon}", json=body), 400)
    assert detail(lib, canon)["specific_metadata"] == before


def test_non_finite_numbers_are_refused(lib):
    canon = lib.id("Canon_40D.jpg")
    res = lib.server.request("PUT", f"/assets/{canon}",
                             content=b'{"specific_metadata": {"f_number": NaN}}',
                             headers={"Content-Type": "application/json"})
    assert_error(res, 400)


def test_a_typed_capture_time_moves_the_photo_and_outlives_a_reread(lib):
    s = lib.server
    canon = lib.id("Canon_40D.jpg")
    meta = detail(lib, canon)["specific_metadata"]
    meta["taken_time"] = "2031-01-02T03:04:05+02:00"
    assert s.request("PUT", f"/assets/{canon}",
                     json={"specific_metadata": meta}).status_code == 200

    moved = detail(lib, canon)
    assert moved["taken_time"] == "2031-01-02T01:04:05Z"
    assert moved["specific_metadata"]["capture_offset_minutes"] == 120
    assert s.assets()[0]["asset_id"] == canon  # newest first on the timeline

    res = s.post(f"/assets/{canon}/reprocess", {"tasks": ["metadata_asset"]})
    assert res.status_code in (200, 202), res.text
    s.wait_idle()
    again = detail(lib, canon)
    assert again["taken_time"] == "2031-01-02T01:04:05Z"
    assert again["specific_metadata"]["taken_time"] == moved["specific_metadata"][
        "taken_time"]


@pytest.mark.parametrize("typed", ["yesterday", "2031-13-40T00:00:00", "2031"])
def test_a_capture_time_that_is_not_a_time_is_400(lib, typed):
    nikon = lib.id("Nikon_D70.jpg")
    meta = detail(lib, nikon)["specific_metadata"]
    before = detail(lib, nikon)["taken_time"]
    meta["taken_time"] = typed
    assert_error(lib.server.request("PUT", f"/assets/{nikon}",
                                    json={"specific_metadata": meta}), 400)
    assert detail(lib, nikon)["taken_time"] == before

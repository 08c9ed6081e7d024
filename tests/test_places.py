"""Location clusters through the API, on GPS photos of the shared media.

The expected names are what the shipped GeoNames place list gives for each photo's
position (the manifest's GPS): the nearest populated place, its region and country.
"""

from __future__ import annotations

import pygeohash
import pytest

from serverkit import MEDIA, Server, copy_media, manifest

EXPECTED = {
    "jpeg/gps/DSCN0010.jpg": ("Arezzo", "Tuscany", "Italy"),
    "jpeg/gps/DSCN0021.jpg": ("Arezzo", "Tuscany", "Italy"),
    "jpeg/Apple_iPhone_4.jpg": ("Rome", "Lazio", "Italy"),
    "heic/Stonehenge.heic": ("Lark Hill", "England", "United Kingdom"),
    "jpeg/Oppo_R7_Plus.jpg": ("Rødberg", "Buskerud", "Norway"),
    "heic/iphone_7.heic": ("Takasago", "Hyōgo", "Japan"),
}
# No GPS; GPS at 0,0 (no fix); a latitude of 213 degrees.
NOWHERE = ["jpeg/Canon_40D.jpg", "edge/image-2011.jpg", "edge/buggy_panorama.jpg"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    root = copy_media(tmp_path_factory.mktemp("places-library"),
                      [*EXPECTED, *NOWHERE])
    data = tmp_path_factory.mktemp("places-data")
    server = Server(data / "data", [root]).start()
    server.sign_up()
    server.wait_idle()
    server.ids = {a["original_filename"]: a["asset_id"] for a in server.assets()}
    yield server
    server.stop()


def clusters(s: Server, query: str = "", token: str | None = "default") -> dict:
    res = s.get(f"/locations/clusters{query}", token=token)
    assert res.status_code == 200, res.text
    return res.json()


def expected_geohash(rel: str) -> str:
    row = next(r for r in manifest() if r["path"] == rel)
    return pygeohash.encode(float(row["gps_lat"]), float(row["gps_lon"]), precision=7)


def test_gps_photos_land_in_named_clusters(lib):
    found = clusters(lib)
    by_geohash = {c["geohash"]: c for c in found["clusters"]}
    assert found["total"] == len(EXPECTED) == len(by_geohash)
    assert (found["limit"], found["offset"]) == (100, 0)

    for rel, (city, region, country) in EXPECTED.items():
        cluster = by_geohash[expected_geohash(rel)]
        assert (cluster["city"], cluster["region"], cluster["country"]) == \
            (city, region, country), rel
        assert cluster["label"] == f"{city}, {region}, {country}"
        assert cluster["photo_count"] == 1 and cluster["precision"] == 7
        assert cluster["geocode_status"] == "resolved"
        assert cluster["provider"] == "offline"
        row = next(r for r in manifest() if r["path"] == rel)
        assert cluster["centroid_latitude"] == pytest.approx(float(row["gps_lat"]),
                                                             abs=1e-5)


def test_photos_without_a_valid_position_are_in_no_cluster(lib):
    total = sum(c["photo_count"] for c in clusters(lib)["clusters"])
    assert total == len(EXPECTED)
    assert len(lib.ids) == len(EXPECTED) + len(NOWHERE)
    for rel in NOWHERE:
        name = rel.split("/")[-1]
        asset = lib.get(f"/assets/{lib.ids[name]}").json()
        assert "gps_latitude" not in asset["specific_metadata"] or \
            asset["specific_metadata"]["gps_latitude"] is None, rel


def test_paging_and_geohash_filter(lib):
    arezzo = clusters(lib, "?geohash=sr8rq")
    assert arezzo["total"] == 2
    assert {c["city"] for c in arezzo["clusters"]} == {"Arezzo"}
    page = clusters(lib, "?limit=2&offset=4")
    assert page["total"] == len(EXPECTED) and len(page["clusters"]) == 2
    everything = [c["cluster_id"] for c in clusters(lib)["clusters"]]
    assert [c["cluster_id"] for c in page["clusters"]] == everything[4:6]

    for bad in ("?limit=0", "?limit=1001", "?offset=-1", "?geohash=ail",
                "?repository_id=nope"):
        assert lib.get(f"/locations/clusters{bad}").status_code == 400, bad
    assert lib.get("/locations/clusters", token=None).status_code == 401


def test_place_names_are_a_search_source(lib):
    res = lib.post("/assets/search", {"query": "photos in Arezzo",
                                      "pagination": {"limit": 50}})
    assert res.status_code == 200, res.text
    body = res.json()
    assert "place" in body["top_results_meta"]["source_types"]
    found = {i["asset"]["original_filename"] for i in body["result_items"]}
    assert found == {"DSCN0010.jpg", "DSCN0021.jpg"}

    japan = lib.post("/assets/search", {"query": "Japan"}).json()
    assert [i["asset"]["original_filename"] for i in japan["result_items"]] == \
        ["iphone_7.heic"]


def test_rebuild_follows_the_trash(lib):
    japan = lib.ids["iphone_7.heic"]
    assert lib.request("DELETE", f"/assets/{japan}").status_code == 200
    repos = lib.get("/repositories").json()["repositories"]
    repo = next(r["id"] for r in repos if not r["is_primary"])
    res = lib.post("/locations/rebuild", {"repository_id": repo})
    assert res.status_code == 200, res.text
    queued = res.json()
    assert queued["status"] == "queued" and queued["repository_id"] == repo
    assert isinstance(queued["job_id"], int)
    lib.wait_idle()
    assert "Japan" not in {c.get("country") for c in clusters(lib)["clusters"]}

    assert lib.post(f"/assets/{japan}/restore").status_code == 200
    assert lib.post("/locations/rebuild", {}).json()["status"] == "queued"
    lib.wait_idle()
    assert "Japan" in {c.get("country") for c in clusters(lib)["clusters"]}


def test_other_users_see_only_their_places(lib):
    other = lib.sign_up("bob")["token"]
    assert clusters(lib, token=other)["total"] == 0
    assert lib.post("/locations/rebuild", {}, token=other).status_code == 403
    assert MEDIA.is_dir()

"""Albums through the API: ownership, members, order under concurrent edits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from two_users import assert_error, start_library

PHOTOS = ["jpeg/Canon_40D.jpg", "jpeg/Nikon_D70.jpg", "jpeg/Kodak_CX7530.jpg",
          "jpeg/Sony_HDR-HC3.jpg", "jpeg/Olympus_C8080WZ.jpg",
          "jpeg/Ricoh_Caplio_RR330.jpg"]
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    library = start_library(tmp_path_factory.mktemp("albums"), PHOTOS)
    yield library
    library.server.stop()


def create(lib, token="default", **body) -> dict:
    res = lib.server.post("/albums", body, token=token)
    assert res.status_code == 200, res.text
    return res.json()


def members(lib, album_id: int) -> list[tuple[str, int]]:
    res = lib.server.get(f"/albums/{album_id}/assets")
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["count"] == len(body["assets"]) and body["album_id"] == album_id
    return [(a["asset_id"], a["position"]) for a in body["assets"]]


def test_create_get_update_delete(lib):
    s = lib.server
    canon = lib.id("Canon_40D.jpg")
    album = create(lib, album_name=" Trip ", description="x")
    assert album["album_name"] == "Trip" and album["description"] == "x"
    assert album["album_type"] == "default" and album["asset_count"] == 0
    assert album["user_id"] == s.get("/auth/me").json()["user_id"]
    assert album["created_at"].endswith("Z")
    assert "display_cover_asset_id" not in album or \
        album["display_cover_asset_id"] is None

    aid = album["album_id"]
    res = s.request("PUT", f"/albums/{aid}", json={
        "album_name": "Trip 2", "album_type": "bio", "cover_asset_id": canon})
    assert res.status_code == 200, res.text
    updated = res.json()
    assert (updated["album_name"], updated["album_type"]) == ("Trip 2", "bio")
    assert updated["cover_asset_id"] == canon == updated["display_cover_asset_id"]
    assert updated["description"] == "x"  # untouched fields stay

    cleared = s.request("PUT", f"/albums/{aid}",
                        json={"cover_asset_id": "", "description": ""}).json()
    assert "cover_asset_id" not in cleared and "description" not in cleared
    assert s.get(f"/albums/{aid}").json()["album_name"] == "Trip 2"

    assert s.request("DELETE", f"/albums/{aid}").json() == {
        "message": "Album deleted successfully"}
    assert_error(s.get(f"/albums/{aid}"), 404)


def test_list_is_paged_and_only_mine(lib):
    s = lib.server
    made = [create(lib, album_name=f"Page {i}")["album_id"] for i in range(3)]
    create(lib, token=lib.bob, album_name="Bob's")

    first = s.get("/albums?limit=2").json()
    assert first["limit"] == 2 and first["offset"] == 0 and len(first["albums"]) == 2
    everything = s.get("/albums?limit=1000").json()
    assert everything["limit"] == 100  # capped
    names = [a["album_name"] for a in everything["albums"]]
    assert "Bob's" not in names and everything["total"] == len(names)
    assert set(made) <= {a["album_id"] for a in everything["albums"]}
    second = s.get("/albums?limit=2&offset=2").json()
    assert not {a["album_id"] for a in first["albums"]} & {
        a["album_id"] for a in second["albums"]}
    bobs = s.get("/albums", token=lib.bob).json()
    assert [a["album_name"] for a in bobs["albums"]] == ["Bob's"]


def test_members_add_remove_and_both_routes(lib):
    s = lib.server
    aid = create(lib, album_name="Members")["album_id"]
    canon, nikon, kodak = (lib.id(n) for n in (
        "Canon_40D.jpg", "Nikon_D70.jpg", "Kodak_CX7530.jpg"))

    assert s.post(f"/albums/{aid}/assets/{canon}", {}).json() == {
        "message": "Asset added to album successfully"}
    assert s.post(f"/assets/{nikon}/albums/{aid}").status_code == 200
    assert s.post(f"/albums/{aid}/assets/{kodak}", {"position": 0}).status_code == 200
    assert s.post(f"/albums/{aid}/assets/{canon}", {}).status_code == 200  # again
    assert members(lib, aid) == [(kodak, 0), (canon, 1), (nikon, 2)]

    album = s.get(f"/albums/{aid}").json()
    assert album["asset_count"] == 3 and album["display_cover_asset_id"] == kodak
    of_asset = s.get(f"/assets/{canon}/albums").json()
    assert of_asset["asset_id"] == canon and of_asset["count"] == 1
    entry = of_asset["albums"][0]
    assert entry["album_id"] == aid and entry["position"] == 1 and entry["added_time"]
    assert s.get(f"/assets/{canon}").json()["albums"][0]["album_id"] == aid

    assert s.request("DELETE", f"/albums/{aid}/assets/{kodak}").status_code == 200
    assert members(lib, aid) == [(canon, 0), (nikon, 1)]
    assert_error(s.request("DELETE", f"/albums/{aid}/assets/{kodak}"), 404)

    # The browse filter by album agrees.
    assert {a["asset_id"] for a in s.assets(album_id=aid)} == {canon, nikon}


def test_trashed_members_are_hidden_and_come_back(lib):
    s = lib.server
    aid = create(lib, album_name="Trash")["album_id"]
    sony, canon = lib.id("Sony_HDR-HC3.jpg"), lib.id("Canon_40D.jpg")
    for asset in (sony, canon):
        s.post(f"/albums/{aid}/assets/{asset}", {})
    s.request("PUT", f"/albums/{aid}", json={"cover_asset_id": sony})

    s.request("DELETE", f"/assets/{sony}")
    try:
        album = s.get(f"/albums/{aid}").json()
        assert album["asset_count"] == 1 and album["display_cover_asset_id"] == canon
        assert [m for m, _ in members(lib, aid)] == [canon]
    finally:
        s.post(f"/assets/{sony}/restore", {})
    assert [m for m, _ in members(lib, aid)] == [sony, canon]


def test_reorder_moves_and_clamps(lib):
    s = lib.server
    aid = create(lib, album_name="Order")["album_id"]
    ids = [lib.id(n) for n in ("Canon_40D.jpg", "Nikon_D70.jpg", "Kodak_CX7530.jpg",
                               "Sony_HDR-HC3.jpg")]
    for asset in ids:
        s.post(f"/albums/{aid}/assets/{asset}", {})

    def move(asset, position):
        res = s.request("PUT", f"/albums/{aid}/assets/{asset}/position",
                        json={"position": position})
        assert res.status_code == 200, res.text

    move(ids[3], 0)
    assert [m for m, _ in members(lib, aid)] == [ids[3], ids[0], ids[1], ids[2]]
    move(ids[3], 99)
    assert members(lib, aid) == [(ids[0], 0), (ids[1], 1), (ids[2], 2), (ids[3], 3)]
    move(ids[0], 2)
    assert [m for m, _ in members(lib, aid)] == [ids[1], ids[2], ids[0], ids[3]]

    for bad in ({"position": -1}, {"position": "1"}, {"position": 1.5}, {}):
        assert_error(s.request("PUT", f"/albums/{aid}/assets/{ids[0]}/position",
                               json=bad), 400)
    outsider = lib.id("Olympus_C8080WZ.jpg")
    assert_error(s.request("PUT", f"/albums/{aid}/assets/{outsider}/position",
                           json={"position": 0}), 404)


def test_concurrent_adds_and_moves_keep_positions_dense(lib):
    s = lib.server
    aid = create(lib, album_name="Busy")["album_id"]
    ids = list(lib.by_name[n]["asset_id"] for n in sorted(lib.by_name))

    def add(i):
        return s.post(f"/albums/{aid}/assets/{ids[i]}", {"position": i % 3})

    with ThreadPoolExecutor(6) as pool:
        assert all(r.status_code == 200 for r in pool.map(add, range(len(ids))))

    def move(i):
        return s.request("PUT", f"/albums/{aid}/assets/{ids[i]}/position",
                         json={"position": (i * 7) % len(ids)})

    with ThreadPoolExecutor(6) as pool:
        moves = list(pool.map(move, list(range(len(ids))) * 3))
    assert all(r.status_code == 200 for r in moves)
    found = members(lib, aid)
    assert sorted(m for m, _ in found) == sorted(ids)
    assert [p for _, p in found] == list(range(len(ids)))


def test_albums_of_other_users_do_not_exist(lib):
    s = lib.server
    mine = create(lib, album_name="Private")["album_id"]
    canon = lib.id("Canon_40D.jpg")
    s.post(f"/albums/{mine}/assets/{canon}", {})
    bobs = create(lib, token=lib.bob, album_name="Bob only")["album_id"]

    for method, path, body in [
            ("GET", f"/albums/{mine}", None),
            ("PUT", f"/albums/{mine}", {"album_name": "x"}),
            ("DELETE", f"/albums/{mine}", None),
            ("GET", f"/albums/{mine}/assets", None),
            ("POST", f"/albums/{mine}/assets/{lib.bobs_asset}", {}),
            ("DELETE", f"/albums/{mine}/assets/{canon}", None),
            ("PUT", f"/albums/{mine}/assets/{canon}/position", {"position": 0}),
            ("POST", f"/assets/{lib.bobs_asset}/albums/{mine}", {})]:
        assert_error(s.request(method, path, json=body, token=lib.bob), 404)
    # bob cannot put alice's photo into his own album, nor take it as a cover.
    assert_error(s.post(f"/albums/{bobs}/assets/{canon}", {}, token=lib.bob), 404)
    assert_error(s.post("/albums", {"album_name": "c", "cover_asset_id": canon},
                        token=lib.bob), 404)
    # The admin sees only her own albums as well: albums are personal.
    assert_error(s.get(f"/albums/{bobs}"), 404)
    # An album the admin put bob's photo into is not named to bob on his photo.
    assert s.post(f"/albums/{mine}/assets/{lib.bobs_asset}", {}).status_code == 200
    bob_sees = s.get(f"/assets/{lib.bobs_asset}", token=lib.bob).json()["albums"]
    assert [a["album_id"] for a in bob_sees] == []
    assert [a["album_id"] for a in s.get(f"/assets/{lib.bobs_asset}").json()[
        "albums"]] == [mine]
    s.request("DELETE", f"/albums/{mine}/assets/{lib.bobs_asset}")
    assert members(lib, mine) == [(canon, 0)]
    assert s.get("/albums", token=None).status_code == 401


@pytest.mark.parametrize("body", [
    {}, {"album_name": ""}, {"album_name": "   "}, {"album_name": 5},
    {"album_name": "x" * 256}, {"album_name": "a", "album_type": "smart"},
    {"album_name": "a", "description": ["x"]},
    {"album_name": "a", "cover_asset_id": "nope"},
    {"album_name": "a", "cover_asset_id": 12},
])
def test_bad_album_bodies_are_400(lib, body):
    assert_error(lib.server.post("/albums", body), 400)


def test_bad_ids_and_missing_things(lib):
    s = lib.server
    aid = create(lib, album_name="Errors")["album_id"]
    assert_error(s.get("/albums/abc"), 400)
    assert_error(s.get("/albums/0"), 400)
    assert_error(s.get("/albums/999999"), 404)
    assert_error(s.post(f"/albums/{aid}/assets/not-a-uuid", {}), 400)
    assert_error(s.post(f"/albums/{aid}/assets/{MISSING}", {}), 404)
    assert_error(s.post(f"/albums/{aid}/assets/{lib.id('Canon_40D.jpg')}",
                        {"position": "first"}), 400)
    assert_error(s.request("PUT", f"/albums/{aid}", json={"album_type": "x"}), 400)
    assert_error(s.request("PUT", f"/albums/{aid}", json={"album_name": ""}), 400)
    assert_error(s.post("/albums", {"album_name": "a", "cover_asset_id": MISSING}), 404)
    assert_error(s.get("/albums?repository_id=zzz"), 400)
    assert_error(s.get("/albums?limit=x"), 400)


def test_species_rebuild_needs_a_bio_album_and_the_model(lib):
    s = lib.server
    plain = create(lib, album_name="Plain")["album_id"]
    bio = create(lib, album_name="Birds", album_type="bio")["album_id"]
    assert_error(s.post(f"/albums/{plain}/bioclip/rebuild", {}), 400)
    species = s.get("/assets/indexing/stats").json()["tasks"]["bioclip"]
    res = s.post(f"/albums/{bio}/bioclip/rebuild", {})
    if species["available"] and species["enabled"]:
        assert res.status_code == 200 and res.json()["status"] == "queued"
    else:
        assert_error(res, 503)


def test_repository_filter_scopes_counts(lib):
    s = lib.server
    aid = create(lib, album_name="Repos")["album_id"]
    s.post(f"/albums/{aid}/assets/{lib.id('Canon_40D.jpg')}", {})
    repos = s.get("/repositories").json()["repositories"]
    folder = next(r for r in repos if r["name"] == "photos")["id"]
    other = next(r for r in repos if r["name"] != "photos")["id"]
    assert s.get(f"/albums/{aid}?repository_id={folder}").json()["asset_count"] == 1
    assert s.get(f"/albums/{aid}?repository_id={other}").json()["asset_count"] == 0
    listed = s.get(f"/albums/{aid}/assets?repository_id={other}").json()
    assert listed["count"] == 0

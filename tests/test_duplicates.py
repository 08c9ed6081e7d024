"""Duplicate groups through the API, on copies of the shared media.

The library holds exact copies under other names and in other folders, a photo saved
again at half size, and the look-alikes that must stay apart: two frames of a video
0.2 s apart (a burst), a photo and its edit with another crop (IMG_4120 and
IMG_E4120 of the corpus), and nearly black or white pictures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import apsw
import av
import pytest
from PIL import Image

from serverkit import MEDIA, Server

COPIES = {
    "ladybug.jpg": ["copies/ladybug copy.jpg", "old disk/2011/IMG_0001.jpg"],
    "ship.jpg": ["copies/ship-copy.jpg"],
}
SINGLES = ["jpeg/ladybug.jpg", "jpeg/ship.jpg", "jpeg/Iceland-P3.jpg",
           "jpeg/IMG_4120.JPG", "jpeg/IMG_E4120.JPG"]
TRAPS = ["burst/train-1.jpg", "burst/train-2.jpg", "dark/ship-night.jpg",
         "dark/ladybug-night.jpg", "dark/black.jpg", "dark/white.jpg",
         "IMG_4120.JPG", "IMG_E4120.JPG"]


def _frames(video: Path, times: list[float]) -> list[Image.Image]:
    found = []
    with av.open(str(video)) as container:
        for frame in container.decode(container.streams.video[0]):
            if frame.time is not None and len(found) < len(times) \
                    and frame.time >= times[len(found)]:
                found.append(frame.to_image())
    return found


def build_library(root: Path) -> Path:
    for rel in SINGLES:
        shutil.copy2(MEDIA / rel, root / Path(rel).name)
    for name, copies in COPIES.items():
        for rel in copies:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(MEDIA / "jpeg" / name, root / rel)

    (root / "exports").mkdir()
    with Image.open(MEDIA / "jpeg/Iceland-P3.jpg") as image:
        half = image.resize((image.width // 2, image.height // 2))
        half.save(root / "exports/iceland-small.jpg", quality=60)

    (root / "burst").mkdir()
    for index, frame in enumerate(_frames(MEDIA / "livephoto/train.mov",
                                          [0.1, 0.3]), 1):
        frame.save(root / f"burst/train-{index}.jpg", quality=90)

    (root / "dark").mkdir()
    for name in ("ship", "ladybug"):
        with Image.open(MEDIA / f"jpeg/{name}.jpg") as image:
            image.point(lambda v: v * 4 // 100).save(root / f"dark/{name}-night.jpg")
    Image.new("RGB", (640, 480), (0, 0, 0)).save(root / "dark/black.jpg")
    Image.new("RGB", (640, 480), (255, 255, 255)).save(root / "dark/white.jpg")
    return root


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    root = build_library(tmp_path_factory.mktemp("dup-library"))
    data = tmp_path_factory.mktemp("dup-data")
    server = Server(data / "data", [root]).start()
    server.sign_up()
    server.wait_idle()
    repos = server.get("/repositories").json()["repositories"]
    server.repo = next(r["id"] for r in repos if not r["is_primary"])
    server.ids = {a["storage_path"]: a["asset_id"] for a in server.assets()}
    yield server
    server.stop()


def detect(s: Server) -> dict:
    res = s.post("/duplicates/detect", {"repository_id": s.repo})
    assert res.status_code == 200, res.text
    return res.json()


def groups(s: Server, status: str = "pending") -> list[dict]:
    res = s.get(f"/duplicates/groups?repository_id={s.repo}&status={status}"
                "&limit=100")
    assert res.status_code == 200, res.text
    return res.json()["groups"]


def names(group: dict) -> set[str]:
    return {m["asset"]["storage_path"] for m in group["assets"]}


def tag(s: Server, asset_id: str, name: str) -> None:
    # No API writes tags yet (recognition will); the catalog is written directly,
    # as recognition would, while the server runs (WAL allows it).
    conn = apsw.Connection(str(s.data_dir / "catalog.db"))
    conn.set_busy_timeout(10_000)
    with conn:
        conn.execute("INSERT OR IGNORE INTO tags (tag_name) VALUES (?)", (name,))
        conn.execute("INSERT INTO asset_tags (asset_id, tag_id, source) SELECT ?,"
                     " tag_id, 'user' FROM tags WHERE tag_name = ?", (asset_id, name))
    conn.close()


def test_copies_are_grouped_and_look_alikes_are_not(lib):
    result = detect(lib)
    found = {frozenset(names(g)): g for g in groups(lib)}

    ladybug = frozenset({"ladybug.jpg", *COPIES["ladybug.jpg"]})
    ship = frozenset({"ship.jpg", *COPIES["ship.jpg"]})
    iceland = frozenset({"Iceland-P3.jpg", "exports/iceland-small.jpg"})
    assert set(found) == {ladybug, ship, iceland}
    assert found[ladybug]["method"] == found[ship]["method"] == "exact"
    assert found[iceland]["method"] == "phash"
    assert (result["groups"], result["exact_groups"], result["phash_groups"]) == \
        (3, 2, 1)
    assert result["assets_affected"] == 7

    grouped = {n for g in found for n in g}
    assert not grouped & set(TRAPS)


def test_group_detail_has_sizes_keeper_and_evidence(lib):
    group = next(g for g in groups(lib) if "old disk/2011/IMG_0001.jpg" in names(g))
    size = (MEDIA / "jpeg/ladybug.jpg").stat().st_size
    assert group["asset_count"] == 3 and group["total_size"] == 3 * size
    assert group["recoverable_bytes"] == 2 * size
    assert group["status"] == "pending" and group["detection_version"]

    full = lib.get(f"/duplicates/groups/{group['group_id']}").json()
    keeper = full["recommended_keeper_asset_id"]
    roles = {m["asset"]["asset_id"]: m["role"] for m in full["assets"]}
    assert roles[keeper] == "keeper" and sorted(roles.values()).count("candidate") == 2
    assert len(full["edges"]) == 2
    assert all(e["method"] == "exact" and e["distance"] == 0 and e["confidence"] == 1
               for e in full["edges"])

    iceland = next(g for g in groups(lib) if "Iceland-P3.jpg" in names(g))
    edge = lib.get(f"/duplicates/groups/{iceland['group_id']}").json()["edges"][0]
    assert edge["method"] == "phash" and 0 <= edge["distance"] <= 6
    # The larger file is the one to keep.
    assert lib.ids["Iceland-P3.jpg"] == iceland["recommended_keeper_asset_id"]


def test_merge_combines_and_trashes_restorably(lib):
    s = lib
    original, copy = s.ids["ship.jpg"], s.ids["copies/ship-copy.jpg"]
    first = s.post("/albums", {"album_name": "Harbour"}).json()["album_id"]
    second = s.post("/albums", {"album_name": "Boats"}).json()["album_id"]
    assert s.post(f"/albums/{first}/assets/{original}", {}).status_code == 200
    assert s.post(f"/albums/{second}/assets/{copy}", {}).status_code == 200
    s.request("PUT", f"/assets/{original}/rating", json={"rating": 2})
    s.request("PUT", f"/assets/{copy}/rating", json={"rating": 4})
    s.request("PUT", f"/assets/{copy}/like", json={"liked": True})
    tag(s, original, "sea")
    tag(s, copy, "boat")

    group = next(g for g in groups(s) if "ship.jpg" in names(g))
    res = s.post(f"/duplicates/groups/{group['group_id']}/merge",
                 {"keeper_asset_id": original})
    assert res.status_code == 200, res.text
    merged = res.json()
    assert merged["merged_duplicates"] == [copy]
    assert merged["recovered_bytes"] == (MEDIA / "jpeg/ship.jpg").stat().st_size

    kept = s.get(f"/assets/{original}").json()
    assert kept["rating"] == 4 and kept["liked"] is True
    assert {t["tag_name"] for t in kept["tags"]} == {"sea", "boat"}
    assert {a["album_name"] for a in kept["albums"]} == {"Harbour", "Boats"}

    trashed = s.assets(is_deleted=True)
    assert [a["asset_id"] for a in trashed] == [copy]
    assert s.post(f"/assets/{copy}/restore").status_code == 200
    assert copy in {a["asset_id"] for a in s.assets()}

    again = s.post(f"/duplicates/groups/{group['group_id']}/merge",
                   {"keeper_asset_id": original})
    assert again.status_code == 409


def test_decisions_survive_detection(lib):
    s = lib
    iceland = next(g for g in groups(s) if "Iceland-P3.jpg" in names(g))
    res = s.post(f"/duplicates/groups/{iceland['group_id']}/dismiss")
    assert res.status_code == 200, res.text

    detect(s)
    pending = [names(g) for g in groups(s)]
    # The restored ship copy and the dismissed pair are not offered again.
    assert pending == [{"ladybug.jpg", *COPIES["ladybug.jpg"]}]
    assert [g["group_id"] for g in groups(s, "dismissed")] == [iceland["group_id"]]
    merged = groups(s, "merged")
    assert len(merged) == 1 and merged[0]["keeper_asset_id"] == s.ids["ship.jpg"]

    summary = s.get(f"/duplicates/summary?repository_id={s.repo}").json()
    size = (MEDIA / "jpeg/ladybug.jpg").stat().st_size
    assert summary["pending_groups"] == 1 and summary["merged_groups"] == 1
    assert summary["dismissed_groups"] == 1 and summary["pending_assets"] == 3
    assert summary["recoverable_assets"] == 2
    assert summary["recoverable_bytes"] == 2 * size
    assert summary["last_detected_at"].endswith("Z")


def test_bad_requests(lib):
    s = lib
    assert s.post("/duplicates/detect", {}).status_code == 400
    assert s.post("/duplicates/detect", {"repository_id": "nope"}).status_code == 400
    missing = "00000000-0000-4000-8000-000000000000"
    assert s.get(f"/duplicates/groups/{missing}").status_code == 404
    assert s.get("/duplicates/groups?status=maybe").status_code == 400
    assert s.get("/duplicates/summary", token=None).status_code == 401

    group = groups(s)[0]
    outsider = s.ids["Iceland-P3.jpg"]
    res = s.post(f"/duplicates/groups/{group['group_id']}/merge",
                 {"keeper_asset_id": outsider})
    assert res.status_code == 400
    keeper = group["recommended_keeper_asset_id"]
    res = s.post(f"/duplicates/groups/{group['group_id']}/merge",
                 {"keeper_asset_id": keeper, "duplicate_asset_ids": [keeper]})
    assert res.status_code == 400

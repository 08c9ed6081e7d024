"""Recognition through a running server, on the photos of shared/media/ml.

To test people, the test derives more photos of the two portraits (a crop, a
mirror image, a brighter copy and a smaller copy of each): the media holds one photo
per person.
"""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image, ImageEnhance, ImageOps

from serverkit import MEDIA, Server

ML_ON = {"LUMILIO_ML_SEMANTIC": "true", "LUMILIO_ML_OCR": "true",
         "LUMILIO_ML_FACES": "true", "LUMILIO_ML_SPECIES": "true"}
PHOTOS = ["astronaut.png", "grace_hopper.jpg", "chelsea.png", "coffee.png",
          "rocket.jpg", "page.png", "text.png"]
# (left, top, right, bottom) crops that keep each portrait's face.
CROPS = {"astronaut.png": (60, 0, 452, 420), "grace_hopper.jpg": (50, 40, 480, 560)}


def derive_variants(source: Path, folder: Path) -> list[str]:
    image = ImageOps.exif_transpose(Image.open(source)).convert("RGB")
    stem = source.stem
    variants = {
        f"{stem}-crop.jpg": image.crop(CROPS[source.name]),
        f"{stem}-mirror.jpg": ImageOps.mirror(image),
        f"{stem}-bright.jpg": ImageEnhance.Brightness(image).enhance(1.35),
        f"{stem}-small.jpg": image.resize((image.width * 3 // 5,
                                           image.height * 3 // 5)),
    }
    for name, picture in variants.items():
        picture.save(folder / name, quality=92)
    return list(variants)


# -- a stand-in for iNaturalist, speaking its JSON on loopback -------------------------

TAXA = {
    "Felis catus": {"id": 118552, "name": "Felis catus",
                    "preferred_common_name": "Domestic Cat",
                    "wikipedia_url": "https://en.wikipedia.org/wiki/Cat",
                    "default_photo": {"medium_url": "https://example.org/cat.jpg",
                                      "attribution": "(c) someone",
                                      "license_code": "cc-by"}},
}


class INaturalistStandIn(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/v1/taxa":
            name = query.get("q", [""])[0].lower()
            results = [t for t in TAXA.values() if name in (
                t["name"].lower(), t["preferred_common_name"].lower())]
            body = {"total_results": len(results), "page": 1, "per_page": 10,
                    "results": results}
        elif url.path.startswith("/v1/taxa/"):
            taxon_id = int(url.path.rsplit("/", 1)[1])
            found = [dict(t, wikipedia_summary="The cat is a small carnivore.")
                     for t in TAXA.values() if t["id"] == taxon_id]
            body = {"total_results": len(found), "results": found}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def inaturalist():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), INaturalistStandIn)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


@pytest.fixture(scope="module")
def lib(tmp_path_factory, inaturalist):
    root = tmp_path_factory.mktemp("recognition")
    library = root / "photos"
    (library / "variants").mkdir(parents=True)
    for name in PHOTOS:
        shutil.copy2(MEDIA / "ml" / name, library / name)
    for name in CROPS:
        derive_variants(MEDIA / "ml" / name, library / "variants")
    url = f"http://127.0.0.1:{inaturalist.server_address[1]}/v1"
    server = Server(root / "data", [library],
                    {**ML_ON, "LUMILIO_INATURALIST_URL": url}).start()
    server.sign_up()
    server.wait_idle()
    server.ids = {a["original_filename"]: a["asset_id"] for a in server.assets()}
    server.library = library
    yield server
    server.stop()


def ok(res) -> dict:
    assert res.status_code == 200, res.text
    return res.json()


def detail(lib, name: str, **flags) -> dict:
    query = "&".join(f"{k}={str(v).lower()}" for k, v in flags.items())
    return ok(lib.get(f"/assets/{lib.ids[name]}?{query}"))


def search(lib, query: str, **body) -> dict:
    return ok(lib.post("/assets/search", {"query": query, **body}))


def first_name(items: list[dict]) -> str | None:
    return items[0]["asset"]["original_filename"] if items else None


# -- semantic search ------------------------------------------------------------------


@pytest.mark.parametrize("query, expected", [
    ("a cat", "chelsea.png"), ("a cup of coffee", "coffee.png"),
    ("rocket launch", "rocket.jpg")])
def test_search_finds_photos_by_what_they_show(lib, query, expected):
    found = search(lib, query, enhancement_mode="off")
    assert first_name(found["result_items"]) == expected
    assert found["top_results_meta"] == {"enabled": False, "reason": "disabled"}

    enhanced = search(lib, query, top_results_limit=1, debug=True)
    assert first_name(enhanced["top_items"]) == expected
    meta = enhanced["top_results_meta"]
    assert meta["enabled"] is True and meta["degraded"] is False
    assert "embedding" in meta["source_types"]
    assert meta["debug"][0]["contributions"]["embedding"]["rank"] == 1


def test_semantic_browse_and_classifier_preview(lib):
    listed = ok(lib.post("/assets/list", {"query": "a cat", "search_type": "semantic",
                                          "stack_mode": "expanded"}))
    assert first_name(listed["items"]) == "chelsea.png"

    preview = ok(lib.post("/classifiers/preview", {
        "positive_prompts": ["a cat"], "negative_prompts": ["a rocket"],
        "threshold": 0.0, "limit": 3}))
    assert preview["matches"][0]["asset_id"] == lib.ids["chelsea.png"]
    assert preview["count"] == len(preview["matches"]) <= 3
    scores = [m["score"] for m in preview["matches"]]
    assert scores == sorted(scores, reverse=True) and scores[-1] >= 0.0

    bad = lib.post("/classifiers/preview", {"positive_prompts": []})
    assert bad.status_code == 400


# -- OCR ------------------------------------------------------------------------------


def test_ocr_reads_the_printed_page_with_boxes(lib):
    found = detail(lib, "page.png", include_ocr=True)["ocr_result"]
    text = " ".join(i["text_content"] for i in found["text_items"])
    for word in ("Region-based", "segmentation", "markers", "background"):
        assert word in text
    assert found["total_count"] == len(found["text_items"]) >= 5
    item = found["text_items"][0]
    box = item["bounding_box"]
    assert 0 <= box["x"] < 1 and 0 < box["width"] <= 1
    assert 0.5 <= item["confidence"] <= 1 and item["text_length"] > 0


def test_ocr_finds_the_text_of_the_handwritten_photo(lib):
    # The tiny recogniser reads only fragments of this slanted handwriting; the
    # lines themselves are found.
    found = detail(lib, "text.png", include_ocr=True)["ocr_result"]
    assert found["total_count"] >= 1
    assert "ocr_result" not in detail(lib, "text.png")  # only when asked


def test_ocr_text_is_a_search_source(lib):
    found = search(lib, "segmentation markers", debug=True)
    assert first_name(found["result_items"]) == "page.png"
    sources = {s["type"]: s for s in found["top_results_meta"]["sources"]}
    assert sources["ocr"]["candidate_count"] == 1


# -- faces and people -----------------------------------------------------------------


def test_faces_in_portraits_and_none_elsewhere(lib):
    for name in ("astronaut.png", "grace_hopper.jpg"):
        result = detail(lib, name, include_faces=True)["face_result"]
        assert result["total_faces"] == 1
        face = result["faces"][0]
        assert face["confidence"] >= 0.7 and face["is_primary"] is True
        assert 0 < face["bounding_box"]["width"] < 1
    for name in ("chelsea.png", "coffee.png", "rocket.jpg"):
        assert detail(lib, name, include_faces=True)["face_result"]["total_faces"] == 0
    crops = list((lib.library / ".lumilio" / "faces").rglob("*.webp"))
    assert len(crops) == 10  # two portraits and four variants of each


def test_people_rebuild_makes_two_people_and_keeps_names(lib):
    built = ok(lib.post("/people/rebuild"))
    assert built["algorithm"] == "hdbscan-v1"
    assert built["candidate_faces"] == built["clustered_faces"] == 10
    assert built["clusters_total"] == 2 and built["noise_faces"] == 0

    people = ok(lib.get("/people"))
    assert people["total"] == 2
    assert sorted(p["asset_count"] for p in people["people"]) == [5, 5]
    person = people["people"][0]
    members = ok(lib.post(f"/people/{person['person_id']}/assets/list",
                          {"stack_mode": "expanded"}))
    stems = {i["asset"]["original_filename"].split("-")[0].split(".")[0]
             for i in members["items"]}
    assert len(stems) == 1 and members["total_assets"] == 5

    renamed = ok(lib.request("PATCH", f"/people/{person['person_id']}",
                             json={"name": "Eileen"}))
    assert renamed["name"] == "Eileen" and renamed["is_confirmed"] is True
    again = ok(lib.post("/people/rebuild"))
    assert again["clusters_reused"] == 2 and again["clusters_created"] == 0
    kept = ok(lib.get(f"/people/{person['person_id']}"))
    assert kept["name"] == "Eileen" and kept["asset_count"] == 5
    assert ok(lib.get("/people"))["people"][0]["person_id"] == person["person_id"]

    cover = lib.get(kept["cover_face_image_path"].removeprefix("/api/v1"))
    assert cover.status_code == 200 and cover.headers["content-type"] == "image/webp"
    assert lib.get("/people/999999").status_code == 404
    assert lib.request("PATCH", f"/people/{person['person_id']}",
                       json={"name": ""}).status_code == 400


def test_a_new_face_joins_its_person_between_rebuilds(lib):
    people = {p["person_id"]: p for p in ok(lib.get("/people"))["people"]}
    source = lib.library / "variants" / "grace_hopper-mirror.jpg"
    copy = lib.library / "variants" / "grace_hopper-late.jpg"
    ImageOps.grayscale(Image.open(source)).convert("RGB").save(copy, quality=90)
    lib.post("/repositories/" + lib.assets()[0]["repository_id"] + "/scan")
    lib.wait_idle()
    late = next(a for a in lib.assets() if a["original_filename"] == copy.name)
    face = ok(lib.get(f"/assets/{late['asset_id']}?include_faces=true"))[
        "face_result"]["faces"][0]
    assert face["cluster_id"] in people
    assert people[face["cluster_id"]]["asset_count"] == 5
    assert ok(lib.get(f"/people/{face['cluster_id']}"))["asset_count"] == 6


# -- labels, species, bio albums ------------------------------------------------------


def test_labels_are_tags_and_species_come_with_bio_albums(lib):
    cat = detail(lib, "chelsea.png")
    assert any("cat" in t["tag_name"].lower() for t in cat["tags"])
    assert all(0 < t["confidence"] <= 1 for t in cat["tags"])
    assert cat["species_predictions"] == []  # not in a bio album yet

    album = ok(lib.post("/albums", {"album_name": "Wildlife", "album_type": "bio"}))
    ok(lib.post(f"/albums/{album['album_id']}/assets/{lib.ids['chelsea.png']}"))
    ok(lib.post(f"/albums/{album['album_id']}/assets/{lib.ids['coffee.png']}"))
    lib.wait_idle()
    species = detail(lib, "chelsea.png")["species_predictions"]
    assert species and all(s["score"] > 0 for s in species)
    assert detail(lib, "coffee.png")["species_predictions"] == []

    rebuilt = ok(lib.post(f"/albums/{album['album_id']}/bioclip/rebuild"))
    assert rebuilt == {"status": "queued", "queued_assets": 0,
                       "message": rebuilt["message"]}
    plain = ok(lib.post("/albums", {"album_name": "Plain"}))
    assert lib.post(f"/albums/{plain['album_id']}/bioclip/rebuild").status_code == 400


def test_species_reference_is_cached_and_says_when_offline(lib, inaturalist):
    ref = ok(lib.get("/species/reference?scientific_name=Felis%20catus&locale=en"))
    assert ref["taxon_id"] == 118552 and ref["common_name"] == "Domestic Cat"
    assert ref["wikipedia_summary"].startswith("The cat")
    assert ref["provider"] == "inaturalist" and ref["image_license"] == "cc-by"
    assert lib.get("/species/reference?common_name=unicorn").status_code == 404
    assert lib.get("/species/reference").status_code == 400

    inaturalist.shutdown()
    inaturalist.server_close()
    again = ok(lib.get("/species/reference?scientific_name=Felis%20catus&locale=en"))
    assert again == ref
    offline = lib.get("/species/reference?scientific_name=Canis%20lupus")
    assert offline.status_code == 503
    assert "offline" in offline.json()["error"]


# -- state, capabilities, indexing ----------------------------------------------------


def test_each_task_state_is_on_the_asset(lib):
    found = detail(lib, "coffee.png")
    status = json.loads(bytes(found["status"]).decode())
    for task in ("process_semantic", "process_ocr", "process_face"):
        assert status["tasks"][task]["state"] == "complete"
    assert status["state"] == "complete"


def test_capabilities_and_indexing_stats(lib):
    tasks = ok(lib.get("/capabilities", token=None))["ml"]["tasks"]
    for name in ("semantic_image_embed", "semantic_text_embed", "ocr",
                 "face_recognition", "bioclip_classify"):
        assert tasks[name] == {"enabled": True, "available": True}

    stats = ok(lib.get("/assets/indexing/stats"))
    photos = stats["photo_total"]
    for name in ("semantic", "ocr", "face"):
        task = stats["tasks"][name]
        assert task["indexed_count"] == task["total_count"] == photos
        assert task["available"] is True

    queued = ok(lib.post("/assets/indexing/rebuild", {"tasks": ["ocr"],
                                                      "missing_only": False,
                                                      "limit": 2}))
    assert queued["status"] == "queued" and queued["job_id"] > 0
    assert queued["requested_tasks"] == ["ocr"] and queued["limit"] == 2
    lib.wait_idle()
    assert ok(lib.get("/assets/indexing/stats"))["tasks"]["ocr"][
        "indexed_count"] == photos


def test_switching_a_task_off_stops_new_work(lib):
    ok(lib.request("PATCH", "/settings/system", json={"ml": {"ocr_enabled": False}}))
    try:
        skipped = ok(lib.post("/assets/indexing/rebuild", {"tasks": ["ocr"]}))
        assert skipped["status"] == "skipped"
        assert skipped["disabled_tasks"] == ["ocr"]
        tasks = ok(lib.get("/capabilities"))["ml"]["tasks"]
        assert tasks["ocr"] == {"enabled": False, "available": True}
        meta = search(lib, "segmentation", debug=True)["top_results_meta"]
        assert "ocr" not in meta["source_types"]
    finally:
        ok(lib.request("PATCH", "/settings/system",
                       json={"ml": {"ocr_enabled": True}}))

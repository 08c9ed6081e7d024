"""Stacks on real files: Live Photo, RAW+JPEG, bursts, stacking by hand, the list."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rawpy
from serverkit import MEDIA, PASSWORD, Server, copy_media
from PIL import Image
from two_users import BOBS_PHOTO, Library, assert_error, upload

LIVE = ["livephoto/train.jpg", "livephoto/train.mov"]
SINGLES = ["jpeg/Canon_40D.jpg", "jpeg/Nikon_D70.jpg", "jpeg/ladybug.jpg"]
RAW = "raw/canon_eos_6d.dng"
RAW_TAKEN = "2019:06:06 07:29:51"
BURST = {"burst_001.jpg": "10:00:00", "burst_002.jpg": "10:00:00",
         "burst_003.jpg": "10:00:01", "burst_004.jpg": "10:00:07"}


def exif(model: str, taken: str) -> Image.Exif:
    tags = Image.Exif()
    tags[0x010F] = model.split()[0]  # Make
    tags[0x0110] = model  # Model
    tags[0x8769] = {0x9003: taken}  # Exif IFD: DateTimeOriginal
    return tags


def jpeg_beside_raw(folder: Path) -> None:
    """The JPEG a camera would write beside its RAW: same name, same moment."""
    shutil.copy2(MEDIA / RAW, folder / "canon_eos_6d.dng")
    with rawpy.imread(str(MEDIA / RAW)) as raw:
        pixels = raw.postprocess(half_size=True, use_camera_wb=True)
    Image.fromarray(pixels).save(folder / "canon_eos_6d.jpg", quality=85,
                                 exif=exif("Canon EOS 6D", RAW_TAKEN))


def burst_frames(folder: Path) -> None:
    """Four frames of one camera: three within a second, one six seconds later."""
    with Image.open(MEDIA / "jpeg/Nikon_D70.jpg") as source:
        frame = source.convert("RGB")
    for shade, (name, clock) in enumerate(BURST.items()):
        tinted = Image.eval(frame, lambda v, s=shade: min(255, v + 8 * s))
        tinted.save(folder / name, quality=90,
                    exif=exif("Burstcam Pro", f"2020:01:01 {clock}"))


def start(root: Path, library: Path) -> Library:
    """alice (admin) owns the folder's files; bob uploads one photo of his own."""
    server = Server(root / "data", [library]).start()
    server.sign_up()
    res = server.post("/auth/register/start",
                      {"username": "bob", "password": PASSWORD}, token=None)
    assert res.status_code == 200, res.text
    bob = res.json()["token"]
    bobs_asset = upload(server, bob, BOBS_PHOTO)
    server.wait_idle()
    mine = {a["original_filename"]: a for a in server.assets()
            if a["asset_id"] != bobs_asset}
    return Library(server, bob, mine, bobs_asset)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    root = tmp_path_factory.mktemp("stacks")
    library = copy_media(root / "photos", LIVE + SINGLES)
    extra = library / "shots"
    extra.mkdir()
    jpeg_beside_raw(extra)
    burst_frames(extra)
    found = start(root, library)
    assert len(found.by_name) == len(LIVE + SINGLES) + 2 + len(BURST)
    yield found
    found.server.stop()


def stack_of(lib, name: str, token="default") -> dict:
    res = lib.server.get(f"/assets/{lib.id(name)}/stack", token=token)
    assert res.status_code == 200, res.text
    return res.json()


def members(stack: dict) -> list[tuple[str, str, int]]:
    return [(m["asset_id"], m["relation"], m["position"])
            for m in stack["stack"]["members"]]


def test_live_photo_pair_is_stacked_after_import(lib):
    found = stack_of(lib, "train.jpg")
    assert found["asset_id"] == lib.id("train.jpg")
    assert found["stack"]["stack_kind"] == "live_photo"
    assert found["stack"]["member_count"] == 2
    assert members(found) == [(lib.id("train.jpg"), "live_photo_still", 0),
                              (lib.id("train.mov"), "live_photo_video", 1)]
    assert stack_of(lib, "train.mov")["stack"]["stack_id"] == \
        found["stack"]["stack_id"]


def test_raw_and_its_jpeg_are_stacked(lib):
    found = stack_of(lib, "canon_eos_6d.jpg")["stack"]
    assert found["stack_kind"] == "raw_jpeg"
    # Taken at the same moment: the RAW original comes first and is the cover.
    assert [(m["asset_id"], m["relation"]) for m in found["members"]] == [
        (lib.id("canon_eos_6d.dng"), "raw_original"),
        (lib.id("canon_eos_6d.jpg"), "jpeg_original")]


def test_frames_within_a_second_form_a_burst(lib):
    found = stack_of(lib, "burst_002.jpg")["stack"]
    assert found["stack_kind"] == "manual"
    assert [m["asset_id"] for m in found["members"]] == [
        lib.id(n) for n in ("burst_001.jpg", "burst_002.jpg", "burst_003.jpg")]
    assert {m["relation"] for m in found["members"]} == {"alternative"}
    assert_error(lib.server.get(f"/assets/{lib.id('burst_004.jpg')}/stack"), 404)


def test_detection_again_creates_nothing(lib):
    repos = lib.server.get("/repositories").json()["repositories"]
    for repo in repos:
        res = lib.server.post(f"/repositories/{repo['id']}/stacks/detect")
        assert res.status_code == 200, res.text
        assert res.json() == {"repository_id": repo["id"], "stacks_created": 0}


def test_collapsed_list_folds_each_stack_into_one_item(lib):
    total = len(lib.by_name) + 1  # bob's photo: the admin sees it too
    expanded = lib.server.post("/assets/list", {
        "stack_mode": "expanded", "pagination": {"limit": 100}}).json()
    assert expanded["total_assets"] == expanded["total_visible"] == total

    collapsed = lib.server.post("/assets/list", {
        "stack_mode": "collapsed", "pagination": {"limit": 100}}).json()
    # Live pair, RAW pair and a three-frame burst: 1 + 1 + 2 assets fold away.
    assert collapsed["total_assets"] == total
    assert collapsed["total_visible"] == total - 4
    stacks = {i["stack"]["stack_kind"]: i["stack"] for i in collapsed["items"]
              if i["type"] == "stack"}
    assert stacks["live_photo"]["stack_size"] == 2
    assert stacks["live_photo"]["cover_asset_id"] == lib.id("train.jpg")
    assert stacks["raw_jpeg"]["member_asset_ids"] == [
        lib.id("canon_eos_6d.dng"), lib.id("canon_eos_6d.jpg")]

    # A filter matching one member still shows the whole stack, by its cover.
    videos = lib.server.post("/assets/list", {
        "stack_mode": "collapsed", "filter": {"type": "VIDEO"}}).json()
    assert videos["total_assets"] == 1
    assert videos["items"][0]["asset"]["asset_id"] == lib.id("train.jpg")
    assert videos["items"][0]["stack"]["matched_member_ids"] == [lib.id("train.mov")]


def test_stacking_by_hand_and_taking_apart(lib):
    server = lib.server
    a, b = lib.id("Canon_40D.jpg"), lib.id("Nikon_D70.jpg")
    res = server.post("/assets/stacks", {"asset_ids": [b, a]})
    assert res.status_code == 201, res.text
    made = res.json()
    assert made["stack_kind"] == "manual" and made["member_count"] == 2
    assert [m["asset_id"] for m in made["members"]] == [b, a]

    assert_error(server.post("/assets/stacks", {"asset_ids": [a, lib.id(
        "ladybug.jpg")]}), 409)
    assert server.request("DELETE", f"/assets/{a}/stack").status_code == 200
    # Left alone, the other member is no stack any more.
    assert_error(server.get(f"/assets/{b}/stack"), 404)
    assert_error(server.request("DELETE", f"/assets/{a}/stack"), 404)


def test_a_member_taken_out_is_not_stacked_again(lib):
    server = lib.server
    jpeg, raw = lib.id("canon_eos_6d.jpg"), lib.id("canon_eos_6d.dng")
    assert server.request("DELETE", f"/assets/{jpeg}/stack").status_code == 200
    assert_error(server.get(f"/assets/{raw}/stack"), 404)
    repo = server.get("/repositories").json()["repositories"][0]["id"]
    again = server.post(f"/repositories/{repo}/stacks/detect").json()
    assert again["stacks_created"] == 0
    assert_error(server.get(f"/assets/{jpeg}/stack"), 404)

    # Stacking by hand is still possible, and lifts the mark.
    res = server.post("/assets/stacks", {"asset_ids": [raw, jpeg]})
    assert res.status_code == 201, res.text


def test_bad_requests_get_clean_errors(lib):
    server = lib.server
    one = lib.id("ladybug.jpg")
    assert_error(server.post("/assets/stacks", {"asset_ids": [one]}), 400)
    assert_error(server.post("/assets/stacks", {"asset_ids": [one, "nope"]}), 400)
    assert_error(server.post("/assets/stacks", {"asset_ids": "x"}), 400)
    assert_error(server.post("/assets/stacks", {}), 400)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(server.post("/assets/stacks", {"asset_ids": [one, unknown]}), 404)
    assert_error(server.get(f"/assets/{unknown}/stack"), 404)
    assert_error(server.get("/assets/not-an-id/stack"), 400)
    assert_error(server.post(f"/repositories/{unknown}/stacks/detect"), 404)
    assert_error(server.get(f"/assets/{one}/stack", token=None), 401)
    assert_error(server.request("DELETE", f"/assets/{one}/stack", token=None), 401)


def test_other_users_assets_stay_out_of_reach(lib):
    server, bob = lib.server, lib.bob
    alices = lib.id("train.jpg")
    assert_error(server.get(f"/assets/{alices}/stack", token=bob), 404)
    assert_error(server.request("DELETE", f"/assets/{alices}/stack", token=bob), 404)
    assert_error(server.post("/assets/stacks", {
        "asset_ids": [lib.bobs_asset, lib.id("ladybug.jpg")]}, token=bob), 404)
    repo = server.get("/repositories").json()["repositories"][0]["id"]
    assert_error(server.post(f"/repositories/{repo}/stacks/detect", token=bob), 403)
    # Even an admin cannot put two people's photos into one stack.
    assert_error(server.post("/assets/stacks", {
        "asset_ids": [lib.bobs_asset, lib.id("ladybug.jpg")]}), 400)

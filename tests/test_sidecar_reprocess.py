"""Edit sidecars written beside the library, and reprocessing of single assets."""

from __future__ import annotations

import json

import pytest
from serverkit import PASSWORD, Server, copy_media
from two_users import assert_error

FILES = ["jpeg/Canon_40D.jpg", "video/small_video.mp4", "edge/broken.jpg",
         "jpeg/snow.jpg"]
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("sidecar")
    library = copy_media(root / "media", FILES)
    server = Server(root / "data", [library]).start()
    server.sign_up()
    server.wait_idle()
    server.library = library
    server.ids = {a["original_filename"]: a["asset_id"] for a in server.assets()}
    res = server.post("/auth/register/start",
                      {"username": "bob", "password": PASSWORD}, token=None)
    server.stranger = res.json()["token"]
    yield server
    server.stop()


def put(server: Server, asset_id: str, body, **kw):
    return server.request("PUT", f"/assets/{asset_id}/sidecar", json=body, **kw)


def test_a_new_asset_has_a_default_sidecar(server):
    asset = server.ids["Canon_40D.jpg"]
    res = server.get(f"/assets/{asset}/sidecar")
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["asset_id"] == asset and body["exists"] is False
    sidecar = body["sidecar"]
    assert sidecar["version"] == 1 and sidecar["asset_id"] == asset
    assert sidecar["adjustments"]["exposure"] == 0
    assert sidecar["adjustments"]["flipHorizontal"] is False
    assert sidecar["source"]["original_filename"] == "Canon_40D.jpg"
    assert sidecar["source"]["width"] == 100


def test_edits_are_saved_beside_the_photos(server):
    asset = server.ids["Canon_40D.jpg"]
    sent = {"asset_id": asset, "version": 1,
            "source": {"original_filename": "forged.jpg"},
            "adjustments": {"exposure": 0.5, "contrast": -12, "flipHorizontal": True,
                            "crop": {"x": 0, "y": 5, "width": 80, "height": 50},
                            "sparkle": 11}}
    res = put(server, asset, sent)
    assert res.status_code == 200, res.text
    saved = res.json()
    assert saved["exists"] is True
    sidecar = saved["sidecar"]
    assert sidecar["adjustments"] == {"exposure": 0.5, "contrast": -12,
                                      "flipHorizontal": True,
                                      "crop": {"x": 0, "y": 5, "width": 80,
                                               "height": 50}}
    # The server describes the asset itself and stamps the time.
    assert sidecar["source"]["original_filename"] == "Canon_40D.jpg"
    assert sidecar["updated_at"].endswith("Z")

    folder = server.library / ".lumilio" / "sidecars"
    assert [p.name for p in folder.iterdir()] == [f"{asset}.lumilio-sidecar"]
    assert json.loads((folder / f"{asset}.lumilio-sidecar").read_text()) == sidecar
    again = server.get(f"/assets/{asset}/sidecar").json()
    assert again == {"asset_id": asset, "exists": True, "sidecar": sidecar}


@pytest.mark.parametrize("body", [
    {"version": 2},
    {"version": "1"},
    {"asset_id": UNKNOWN},
    {"source": "not an object"},
    {"updated_at": 12345},
    {"adjustments": []},
    {"adjustments": {"exposure": "high"}},
    {"adjustments": {"exposure": True}},
    {"adjustments": {"flipVertical": 1}},
    {"adjustments": {"crop": {"x": 0, "y": 0, "width": 10}}},
    {"adjustments": {"crop": {"x": -1, "y": 0, "width": 10, "height": 10}}},
    {"adjustments": {"crop": {"x": 0, "y": 0, "width": 0, "height": 10}}},
])
def test_invalid_sidecars_are_refused(server, body):
    assert_error(put(server, server.ids["snow.jpg"], body), 400)


def test_sidecar_errors(server):
    asset = server.ids["snow.jpg"]
    nan = server.request("PUT", f"/assets/{asset}/sidecar",
                         content=b'{"adjustments": {"exposure": NaN}}')
    assert_error(nan, 400)
    assert_error(server.request("PUT", f"/assets/{asset}/sidecar", content=b"{"), 400)
    assert_error(server.get(f"/assets/{UNKNOWN}/sidecar"), 404)
    assert_error(server.get("/assets/x/sidecar"), 400)
    assert_error(server.get(f"/assets/{asset}/sidecar", token=None), 401)
    assert_error(server.get(f"/assets/{asset}/sidecar", token=server.stranger), 404)
    assert_error(put(server, asset, {}, token=server.stranger), 404)
    assert not (server.library / ".lumilio" / "sidecars" /
                f"{asset}.lumilio-sidecar").exists()


def reprocess(server: Server, name: str, body: dict, **kw):
    return server.post(f"/assets/{server.ids[name]}/reprocess", body, **kw)


def test_unknown_task_names_are_listed(server):
    body = assert_error(reprocess(server, "Canon_40D.jpg", {"tasks": ["nope"]}), 400)
    assert body["message"] == "Invalid queue name: nope"
    assert "metadata_asset" in body["error"] and "transcode_asset" in body["error"]
    assert_error(reprocess(server, "Canon_40D.jpg", {"tasks": ["transcode_asset"]}),
                 400)
    assert_error(reprocess(server, "Canon_40D.jpg", {"tasks": "metadata_asset"}), 400)
    assert_error(reprocess(server, "Canon_40D.jpg", {"force_full_retry": "yes"}), 400)
    # Recognition is off in this library: its steps cannot be asked for.
    assert_error(reprocess(server, "Canon_40D.jpg", {"tasks": ["process_ocr"]}), 400)
    assert_error(server.post(f"/assets/{UNKNOWN}/reprocess", {}), 404)
    assert_error(reprocess(server, "Canon_40D.jpg", {}, token=server.stranger), 404)


def thumbnail(server: Server, name: str) -> bytes:
    res = server.get(f"/assets/{server.ids[name]}/thumbnail?size=small")
    assert res.status_code == 200, res.text
    return res.content


def test_named_tasks_run_again(server):
    before = thumbnail(server, "Canon_40D.jpg")
    res = reprocess(server, "Canon_40D.jpg", {"tasks": ["thumbnail_asset"]})
    assert res.status_code == 200, res.text
    assert res.json() == {"asset_id": server.ids["Canon_40D.jpg"], "status": "queued",
                          "message": "Reprocessing job queued successfully",
                          "retry_tasks": ["thumbnail_asset"], "failed_tasks": []}
    server.wait_idle()
    assert thumbnail(server, "Canon_40D.jpg") == before
    detail = server.get(f"/assets/{server.ids['Canon_40D.jpg']}").json()
    assert detail["processing"]["state"] == "complete"


def test_the_web_version_is_made_again(server):
    video = server.ids["small_video.mp4"]
    web = server.get(f"/assets/{video}").json()["hash"] + "_web.mp4"
    path = server.library / ".lumilio" / "web" / web
    assert path.exists()
    res = reprocess(server, "small_video.mp4", {"tasks": ["transcode_asset"]})
    assert res.json()["retry_tasks"] == ["transcode_asset"]
    server.wait_idle()
    assert path.exists()
    status = bytes(server.get(f"/assets/{video}").json()["status"]).decode()
    assert json.loads(status)["tasks"]["transcode_asset"]["state"] == "complete"


def test_full_reprocess(server):
    res = reprocess(server, "small_video.mp4", {})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["retry_tasks"] == ["all_failed_tasks"]
    assert body["message"] == "Full reprocessing job queued successfully"
    server.wait_idle()
    detail = server.get(f"/assets/{server.ids['small_video.mp4']}").json()
    assert detail["processing"]["state"] == "complete"
    assert server.get(f"/assets/{detail['asset_id']}/thumbnail").status_code == 200


def test_a_broken_file_needs_a_forced_retry(server):
    body = assert_error(reprocess(server, "broken.jpg", {}), 400)
    assert "force_full_retry" in body["error"]
    res = reprocess(server, "broken.jpg", {"force_full_retry": True})
    assert res.status_code == 200, res.text
    server.wait_idle()
    detail = server.get(f"/assets/{server.ids['broken.jpg']}").json()
    assert detail["processing"]["state"] == "failed"


def test_a_missing_file_cannot_be_reprocessed(server):
    (server.library / "jpeg" / "snow.jpg").unlink()
    assert_error(reprocess(server, "snow.jpg", {}), 404)

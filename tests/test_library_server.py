"""The library core through a running server: watcher, uploads, restarts, access."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import blake3
import httpx
import pytest

from serverkit import MEDIA, PASSWORD, copy_media

SOME_PHOTOS = [
    "jpeg/Canon_40D.jpg", "jpeg/Nikon_D70.jpg", "jpeg/pixel_8.jpg",
    "heic/IMG_2682.heic", "png-webp-gif/norway.webp",
]


def wait_for(predicate, timeout: float = 30, step: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def test_registered_folder_is_indexed_in_place(make_server, tmp_path):
    library = copy_media(tmp_path / "photos", SOME_PHOTOS)
    before = {p: p.read_bytes() for p in library.rglob("*") if p.is_file()}
    server = make_server([library]).start()
    server.sign_up()
    server.wait_idle()

    assets = server.assets()
    assert sorted(a["storage_path"] for a in assets) == sorted(SOME_PHOTOS)
    # Originals untouched; the app's own files only in .lumilio/ and .lumiliorepo.
    for path, data in before.items():
        assert path.read_bytes() == data
    extra = {p.relative_to(library).parts[0] for p in library.iterdir()}
    assert extra == {"jpeg", "heic", "png-webp-gif", ".lumilio", ".lumiliorepo",
                     "inbox"}
    repofile = (library / ".lumiliorepo").read_text()
    assert "id:" in repofile and "storage_strategy: date" in repofile


def test_watcher_imports_a_dropped_file_but_not_while_it_is_written(
        make_server, tmp_path):
    library = copy_media(tmp_path / "photos", SOME_PHOTOS[:1])
    server = make_server([library], LUMILIO_WATCH_SETTLE="1.5").start()
    server.sign_up()
    server.wait_idle()

    data = (MEDIA / "jpeg/Nikon_D70.jpg").read_bytes()
    target = library / "new" / "dropped.jpg"
    target.parent.mkdir()
    with target.open("wb") as f:
        # Written in chunks with pauses shorter than the settle time: a copy in
        # progress must never be imported half-written.
        for start in range(0, len(data), len(data) // 6 + 1):
            f.write(data[start:start + len(data) // 6 + 1])
            f.flush()
            time.sleep(0.6)
            names = [a["original_filename"] for a in server.assets()]
            assert "dropped.jpg" not in names

    asset = wait_for(lambda: next(
        (a for a in server.assets() if a["original_filename"] == "dropped.jpg"),
        None))
    server.wait_idle()
    detail = server.get(f"/assets/{asset['asset_id']}").json()
    assert detail["hash"] == blake3.blake3(data).hexdigest()
    assert detail["file_size"] == len(data)
    assert detail["specific_metadata"]["camera_model"] == "NIKON D70"


def test_watcher_ignores_hidden_and_temporary_files(make_server, tmp_path):
    library = copy_media(tmp_path / "photos", SOME_PHOTOS[:1])
    server = make_server([library], LUMILIO_WATCH_SETTLE="0.5").start()
    server.sign_up()
    server.wait_idle()
    shutil.copy(MEDIA / "jpeg/Nikon_D70.jpg", library / ".hidden.jpg")
    shutil.copy(MEDIA / "jpeg/Nikon_D70.jpg", library / "copying.jpg.part")
    shutil.copy(MEDIA / "jpeg/Nikon_D70.jpg", library / "visible.jpg")
    wait_for(lambda: any(a["original_filename"] == "visible.jpg"
                         for a in server.assets()))
    time.sleep(2)
    names = {a["original_filename"] for a in server.assets()}
    assert ".hidden.jpg" not in names and "copying.jpg.part" not in names


def test_scan_finds_moved_and_vanished_files(make_server, tmp_path):
    library = copy_media(tmp_path / "photos", SOME_PHOTOS)
    server = make_server([library], LUMILIO_WATCH="false").start()
    server.sign_up()
    server.wait_idle()
    before = {a["storage_path"]: a["asset_id"] for a in server.assets()}

    (library / "moved").mkdir()
    (library / "jpeg/Canon_40D.jpg").rename(library / "moved/Canon_40D.jpg")
    (library / "jpeg/Nikon_D70.jpg").unlink()
    repo = next(r for r in server.get("/repositories").json()["repositories"]
                if r["path"] == str(library.resolve()))
    res = server.post(f"/repositories/{repo['id']}/scan", {})
    assert res.status_code == 200 and res.json()["status"] == "queued"
    scan = wait_for(lambda: (lambda s: s if s["status"] == "completed" else None)(
        server.get(f"/repositories/{repo['id']}/scans/latest").json()))
    assert scan["updated_count"] == 1 and scan["deleted_count"] == 1
    server.wait_idle()

    after = {a["storage_path"]: a["asset_id"] for a in server.assets()}
    assert after["moved/Canon_40D.jpg"] == before["jpeg/Canon_40D.jpg"]
    assert "jpeg/Nikon_D70.jpg" not in after
    # Missing is not purged: the asset is still there by id.
    gone = server.get(f"/assets/{before['jpeg/Nikon_D70.jpg']}").json()
    assert gone["is_missing"] is True


def test_a_name_that_is_not_utf8_is_skipped_and_the_rest_imported(
        make_server, tmp_path):
    library = copy_media(tmp_path / "photos", SOME_PHOTOS[:2])
    # A name from an old Latin-1 system: the byte 0xE9 alone is not UTF-8.
    odd = os.fsdecode(os.fsencode(library / "jpeg") + b"/caf\xe9.jpg")
    shutil.copy(MEDIA / "jpeg/pixel_8.jpg", odd)
    server = make_server([library], LUMILIO_WATCH="false").start()
    server.sign_up()
    server.wait_idle()

    assert sorted(a["storage_path"] for a in server.assets()) == [
        "jpeg/Canon_40D.jpg", "jpeg/Nikon_D70.jpg"]
    repo = next(r for r in server.get("/repositories").json()["repositories"]
                if r["path"] == str(library.resolve()))
    scan = server.get(f"/repositories/{repo['id']}/scans/latest").json()
    assert scan["status"] == "completed" and scan["skipped_count"] == 1
    assert "caf\\xe9.jpg" in server.log() and "not valid UTF-8" in server.log()
    assert Path(odd).exists()  # skipped, never touched


def test_kill_during_import_then_restart_imports_everything_once(
        make_server, tmp_path):
    # Many copies of real files under distinct names, so the import takes a while.
    library = tmp_path / "many"
    sources = sorted((MEDIA / "jpeg").glob("*.jpg"))[:20]
    for i in range(4):
        for src in sources:
            target = library / f"set{i}" / src.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    expected = {p.relative_to(library).as_posix() for p in library.rglob("*.jpg")}

    data_dir = tmp_path / "data"
    first = make_server([library], data_dir=data_dir, LUMILIO_WATCH="false").start()
    first.sign_up()
    wait_for(lambda: first.get("/admin/river/stats").json()["completed"] >= 10,
             timeout=120, step=0.1)
    first.stop(signal.SIGKILL)

    second = make_server([library], data_dir=data_dir, LUMILIO_WATCH="false").start()
    login = second.post("/auth/login", {"username": "alice", "password": PASSWORD},
                        token=None).json()
    second.token = login["token"]
    second.wait_idle(timeout=300)
    paths = Counter(a["storage_path"] for a in second.assets())
    assert set(paths) == expected
    assert max(paths.values()) == 1
    states = Counter(a["processing"]["state"] for a in second.assets())
    assert states == {"complete": len(expected)}


def test_two_concurrent_uploads_of_one_file_give_one_asset(server):
    data = (MEDIA / "jpeg/Canon_40D.jpg").read_bytes()
    digest = blake3.blake3(data).hexdigest()
    results = []

    def send():
        res = httpx.post(server.base + "/api/v1/assets",
                         headers={"Authorization": f"Bearer {server.token}",
                                  "X-Content-Hash": digest},
                         files={"file": ("Canon_40D.jpg", data, "image/jpeg")},
                         timeout=60)
        results.append(res)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200, 200]
    ids = {r.json()["asset_id"] for r in results}
    assert len(ids) == 1
    assert sorted(r.json()["status"] for r in results) == ["duplicate", "processing"]
    server.wait_idle()
    assert len(server.assets()) == 1


def test_upload_with_a_wrong_hash_is_refused(server):
    data = (MEDIA / "jpeg/Canon_40D.jpg").read_bytes()
    res = httpx.post(server.base + "/api/v1/assets",
                     headers={"Authorization": f"Bearer {server.token}",
                              "X-Content-Hash": hashlib.sha256(data).hexdigest()},
                     files={"file": ("a.jpg", data, "image/jpeg")}, timeout=60)
    assert res.status_code == 400
    assert res.json()["code"] == 400 and res.json()["message"]
    assert server.assets() == []


def test_upload_lands_in_the_inbox_by_date_and_serves_its_files(server):
    data = (MEDIA / "heic/IMG_2682.heic").read_bytes()
    res = httpx.post(server.base + "/api/v1/assets",
                     headers={"Authorization": f"Bearer {server.token}"},
                     files={"file": ("../../evil/IMG_2682.heic", data)}, timeout=60)
    assert res.status_code == 200, res.text
    assert res.json()["file_name"] == "IMG_2682.heic"
    server.wait_idle()
    asset = server.assets()[0]
    assert asset["storage_path"].startswith("inbox/")
    assert asset["storage_path"].endswith("/IMG_2682.heic")

    original = server.get(f"/assets/{asset['asset_id']}/original",
                          headers={"Range": "bytes=0-99"})
    assert original.status_code == 206 and len(original.content) == 100
    assert original.headers["content-type"] == "image/heic"
    assert original.content == data[:100]

    media = server.get("/auth/media-token").json()["token"]
    thumb = server.get(f"/assets/{asset['asset_id']}/thumbnail?size=large&mt={media}",
                       token=None)
    assert thumb.status_code == 200
    again = server.get(f"/assets/{asset['asset_id']}/thumbnail?size=large&mt={media}",
                       token=None, headers={"If-None-Match": thumb.headers["etag"]})
    assert again.status_code == 304
    # A media token is no access token.
    assert server.get("/auth/me", token=media).status_code == 401


def test_another_user_cannot_see_or_change_my_assets(server, tmp_path):
    data = (MEDIA / "jpeg/Canon_40D.jpg").read_bytes()
    httpx.post(server.base + "/api/v1/assets",
               headers={"Authorization": f"Bearer {server.token}"},
               files={"file": ("mine.jpg", data)}, timeout=60)
    server.wait_idle()
    mine = server.assets()[0]["asset_id"]

    bob = server.post("/auth/register/start",
                      {"username": "bob", "password": PASSWORD}, token=None).json()
    assert bob["user"]["role"] == "user" and "bootstrap_admin" not in bob
    token = bob["token"]
    assert server.assets(token=token) == []
    for method, path in [("GET", f"/assets/{mine}"),
                         ("GET", f"/assets/{mine}/exif"),
                         ("GET", f"/assets/{mine}/thumbnail"),
                         ("GET", f"/assets/{mine}/original"),
                         ("DELETE", f"/assets/{mine}")]:
        res = server.request(method, path, token=token)
        assert res.status_code == 404, (method, path, res.text)
    assert server.get("/repositories", token=token).status_code == 403
    assert server.get("/admin/river/stats", token=token).status_code == 403
    assert server.get(f"/assets/{mine}").json()["is_deleted"] is False


@pytest.mark.parametrize("method,path", [
    ("POST", "/assets/list"), ("GET", "/assets/00000000-0000-0000-0000-000000000000"),
    ("GET", "/repositories"), ("GET", "/auth/me"), ("GET", "/admin/river/stats"),
    ("POST", "/assets"), ("GET", "/assets/filter-options"),
])
def test_anonymous_calls_get_401(server, method, path):
    res = server.request(method, path, token=None, json={} if method == "POST"
                         else None)
    assert res.status_code == 401
    assert res.json() == {"code": 401, "message": "Unauthorized",
                          "error": "Unauthorized"}


def test_setup_and_first_account(make_server):
    server = make_server().start()
    status = server.get("/setup/status", token=None).json()
    assert status["initialized"] is False
    assert status["next_registration_role"] == "admin"
    first = server.post("/setup", {}, token=None)
    assert first.status_code == 200 and first.json()["database_user"] == "sqlite"
    assert server.post("/setup", {}, token=None).status_code == 409
    body = server.sign_up()
    assert body["bootstrap_admin"] is True and body["user"]["role"] == "admin"
    assert server.get("/setup/status", token=None).json()["initialized"] is True
    secrets = server.data_dir / "secrets"
    assert all((p.stat().st_mode & 0o077) == 0 for p in secrets.iterdir())


def test_refresh_rotates_and_reuse_revokes_the_family(server):
    login = server.post("/auth/login", {"username": "alice", "password": PASSWORD},
                        token=None).json()
    first = login["refreshToken"]
    rotated = server.post("/auth/refresh", {"refreshToken": first}, token=None)
    assert rotated.status_code == 200
    second = rotated.json()["refreshToken"]
    assert server.post("/auth/refresh", {"refreshToken": first},
                       token=None).status_code == 401
    # The reuse ended the whole family, the token rotated from it included.
    assert server.post("/auth/refresh", {"refreshToken": second},
                       token=None).status_code == 401


def test_bad_input_gets_clean_4xx(server):
    bad = [
        ("POST", "/assets/list", b"{not json"),
        ("POST", "/assets/list", b"[1, 2]"),
        ("POST", "/assets/list", b'{"pagination": {"limit": "ten"}}'),
        ("POST", "/assets/list", b'{"sort_by": "color"}'),
        ("POST", "/assets/list", b'{"filter": {"rating": 9}}'),
        ("POST", "/assets/list", b'{"filter": {"date": {"from": "yesterday"}}}'),
        ("POST", "/auth/login", b'{"username": 5, "password": []}'),
        ("GET", "/assets/not-a-uuid", None),
        ("GET", "/assets/00000000-0000-0000-0000-000000000000/thumbnail?size=huge",
         None),
    ]
    for method, path, content in bad:
        res = server.request(method, path, content=content,
                             headers={"Content-Type": "application/json"})
        assert 400 <= res.status_code < 500, (path, content, res.status_code)
        body = res.json()
        assert body["code"] == res.status_code and body["message"], body
    assert server.get("/health").json() == {"status": "ok"}


def test_restart_keeps_everything(make_server, tmp_path):
    library = copy_media(tmp_path / "photos", SOME_PHOTOS)
    data_dir = tmp_path / "data"
    first = make_server([library], data_dir=data_dir).start()
    first.sign_up()
    first.wait_idle()
    before = sorted(a["asset_id"] for a in first.assets())
    assert first.stop() == 0

    second = make_server([library], data_dir=data_dir).start()
    second.token = second.post("/auth/login", {"username": "alice",
                                               "password": PASSWORD},
                               token=None).json()["token"]
    second.wait_idle()
    assert sorted(a["asset_id"] for a in second.assets()) == before
    repos = second.get("/repositories").json()["repositories"]
    assert len(repos) == 2


def test_carried_repository_keeps_its_id_and_thumbnails(make_server, tmp_path):
    library = copy_media(tmp_path / "photos", SOME_PHOTOS[:2])
    first = make_server([library]).start()
    first.sign_up()
    first.wait_idle()
    repo_id = next(r["id"] for r in first.get("/repositories").json()["repositories"]
                   if r["role"] == "regular")
    first.stop()
    assert len(list((library / ".lumilio").rglob("*.webp"))) == 6

    carried = tmp_path / "elsewhere" / "photos"
    shutil.copytree(library, carried, copy_function=shutil.copy2)
    thumbs = {p: p.stat().st_mtime_ns for p in (carried / ".lumilio").rglob("*.webp")}
    second = make_server().start()
    second.sign_up()
    res = second.post("/repositories", {"name": "photos", "path": str(carried)})
    assert res.status_code == 200, res.text
    assert res.json()["repository"]["id"] == repo_id
    second.wait_idle()
    assert len(second.assets()) == 2
    for path, mtime in thumbs.items():
        assert path.stat().st_mtime_ns == mtime  # reused, not rebuilt

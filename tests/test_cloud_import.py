"""Cloud import through a real server, from S3 (moto) and WebDAV (wsgidav) servers
started on loopback by the tests, each holding copies of the shared media.

Every test runs once per protocol. The remote folder holds six photos, a second
copy of one of them under another name, and a text file:

    photos/Canon_40D.jpg  Kodak_CX7530.jpg  Nikon_D70.jpg  Olympus_C8080WZ.jpg
           Stonehenge.heic  notes.txt  trip/cheers.heic  trip/same-as-canon.jpg
"""

from __future__ import annotations

import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloud_servers import Gate, S3Server, WebDAVServer
from serverkit import Server

FILES = {
    "photos/Canon_40D.jpg": "jpeg/Canon_40D.jpg",
    "photos/Kodak_CX7530.jpg": "jpeg/Kodak_CX7530.jpg",
    "photos/Nikon_D70.jpg": "jpeg/Nikon_D70.jpg",
    "photos/Olympus_C8080WZ.jpg": "jpeg/Olympus_C8080WZ.jpg",
    "photos/Stonehenge.heic": "heic/Stonehenge.heic",
    "photos/notes.txt": "text:not a photo",
    "photos/trip/cheers.heic": "heic/cheers_1440x960.heic",
    "photos/trip/same-as-canon.jpg": "jpeg/Canon_40D.jpg",
}
PHOTOS = ["Canon_40D.jpg", "Kodak_CX7530.jpg", "Nikon_D70.jpg", "Olympus_C8080WZ.jpg",
          "Stonehenge.heic", "cheers.heic"]
# Items are taken in the order of their names: the third is the Nikon.
THIRD = "photos/Nikon_D70.jpg"
SECRET = "Open-Sesame-42"


@dataclass
class Remote:
    provider: str
    gate: Gate
    good: dict
    wrong: dict
    get_path: callable  # the remote name -> the path of its download request
    make_disappear: callable


@pytest.fixture(params=["webdav", "s3"])
def remote(request, tmp_path):
    if request.param == "webdav":
        server = WebDAVServer(tmp_path / "dav", FILES, username="alice",
                              password=SECRET).start()
        yield Remote("webdav", server.gate, server.inputs("photos/"),
                     server.inputs("photos/", password="wrong-password"),
                     lambda name: name,
                     lambda: shutil.rmtree(server.root / "photos"))
    else:
        server = S3Server(tmp_path / "s3", FILES, prefix="photos/").start()
        yield Remote("s3", server.gate, server.inputs(),
                     server.inputs(secret_key="wrong-secret-key"),
                     lambda name: f"{server.bucket}/{name}",
                     server.delete_bucket)
    server.stop()


def connect(server: Server, remote: Remote) -> str:
    res = server.post("/cloud/credentials", {"provider": remote.provider,
                                             "display_name": "Home NAS",
                                             "inputs": remote.good})
    assert res.status_code == 200, res.text
    assert res.json()["auth_status"] == "connected"
    return res.json()["credential"]["id"]


def new_repository(server: Server, credential_id: str, name: str = "From the cloud"
                   ) -> tuple[str, str]:
    res = server.post("/repositories", {"name": name,
                                        "cloud_credential_id": credential_id})
    assert res.status_code == 200, res.text
    body = res.json()
    assert "cloud_import_error" not in body, body
    return body["repository"]["id"], body["cloud_import_run_id"]


def run_of(server: Server, run_id: str) -> dict:
    res = server.get(f"/cloud/import-runs/{run_id}")
    assert res.status_code == 200, res.text
    return res.json()


def names_in(server: Server, repository_id: str) -> list[str]:
    return sorted(a["original_filename"]
                  for a in server.assets(repository_id=repository_id))


def counts(run: dict) -> dict:
    return {k: run[k] for k in ("status", "total_seen", "downloaded_count",
                                "imported_count", "skipped_count", "failed_count")}


def test_a_full_import_then_a_second_that_brings_nothing_new(server, remote):
    credential_id = connect(server, remote)
    repository_id, run_id = new_repository(server, credential_id)
    server.wait_idle()

    run = run_of(server, run_id)
    assert counts(run) == {"status": "completed", "total_seen": 8,
                           "downloaded_count": 7, "imported_count": 6,
                           "skipped_count": 2, "failed_count": 0}
    assert run["provider"] == remote.provider
    assert run["credential_id"] == credential_id
    assert run["repository_id"] == repository_id
    assert "error" not in run and run["finished_at"]
    # Of the two skipped, notes.txt is not media; the Canon copy was already there.
    assert run["unsupported_count"] == 1
    # The second copy of the Canon photo is caught by its content, under any name.
    assert names_in(server, repository_id) == sorted(PHOTOS)
    assets = server.assets(repository_id=repository_id)
    assert all(a["storage_path"].startswith("inbox/") for a in assets)

    status = server.get(f"/repositories/{repository_id}/cloud").json()
    assert status["enabled"] is True and status["provider"] == remote.provider
    assert status["credential"]["id"] == credential_id
    assert status["last_import_run_id"] == run_id
    assert status["latest_run"]["status"] == "completed"

    again = server.post(f"/repositories/{repository_id}/cloud/import", {})
    assert again.status_code == 200, again.text
    second_id = again.json()["run"]["id"]
    assert second_id != run_id
    server.wait_idle()
    second = run_of(server, second_id)
    assert counts(second) == {"status": "completed", "total_seen": 8,
                              "downloaded_count": 0, "imported_count": 0,
                              "skipped_count": 8, "failed_count": 0}
    assert second["unsupported_count"] == 1
    # Unchanged items are not even downloaded again.
    for name in FILES:
        if name.endswith((".jpg", ".heic")):
            assert remote.gate.count("GET", remote.get_path(name)) == 1, name
    assert names_in(server, repository_id) == sorted(PHOTOS)


def test_an_interrupted_import_resumes_where_it_stopped(make_server, remote):
    server = make_server().start()
    server.sign_up()
    credential_id = connect(server, remote)
    held = remote.gate.hold("GET", remote.get_path(THIRD))
    repository_id, run_id = new_repository(server, credential_id)

    assert held.reached.wait(120), "the import never asked for the third photo"
    server.stop(signal.SIGKILL)
    held.release()
    server.start()
    server.wait_idle()

    run = run_of(server, run_id)
    assert counts(run) == {"status": "completed", "total_seen": 8,
                           "downloaded_count": 7, "imported_count": 6,
                           "skipped_count": 2, "failed_count": 0}
    assert names_in(server, repository_id) == sorted(PHOTOS)
    # What was imported before the crash was not downloaded again.
    first, second = (remote.get_path(f"photos/{n}") for n in PHOTOS[:2])
    assert remote.gate.count("GET", first) == 1
    assert remote.gate.count("GET", second) == 1
    assert remote.gate.count("GET", remote.get_path(THIRD)) == 2


def test_a_remote_that_disappears_mid_run_fails_the_run_and_keeps_the_imported(
        server, remote):
    credential_id = connect(server, remote)
    held = remote.gate.hold("GET", remote.get_path(THIRD))
    repository_id, run_id = new_repository(server, credential_id)

    assert held.reached.wait(120), "the import never asked for the third photo"
    remote.make_disappear()
    held.release()
    server.wait_idle()

    run = run_of(server, run_id)
    assert run["status"] == "failed"
    assert "no longer exists" in run["error"]
    assert run["imported_count"] == 2 and run["total_seen"] == 8
    assert names_in(server, repository_id) == sorted(PHOTOS[:2])


def test_a_wrong_password_is_refused_and_nothing_is_kept(server, remote):
    res = server.post("/cloud/credentials", {"provider": remote.provider,
                                             "inputs": remote.wrong})
    assert res.status_code == 400, res.text
    assert res.json()["message"] == "Sign-in refused"
    # One sentence a person can act on, not the service's status code.
    assert "did not accept" in res.json()["error"]
    assert res.json()["error"].endswith("Check them and try again")
    assert server.get("/cloud/credentials").json() == {"credentials": []}


def test_secrets_are_sealed_and_never_shown(server, remote):
    credential_id = connect(server, remote)
    secret = SECRET if remote.provider == "webdav" else remote.good["secret_key"]

    listed = server.get("/cloud/credentials").json()["credentials"]
    assert [c["id"] for c in listed] == [credential_id]
    shown = listed[0]
    assert shown["display_name"] == "Home NAS" and shown["status"] == "connected"
    assert secret not in str(listed) and "password" not in str(listed)
    # What the account is shows only masked; where it lives is public.
    assert shown["public_config"] == (
        {"url": remote.good["url"]} if remote.provider == "webdav" else
        {k: remote.good[k] for k in ("endpoint", "region", "bucket", "prefix")})
    if remote.provider == "webdav":
        assert shown["masked_identity"].startswith("alice@127.0.0.1:")
    else:
        key, bucket = remote.good["access_key"], remote.good["bucket"]
        assert shown["masked_identity"] == f"{key[:4]}…{key[-4:]}@{bucket}"

    data = server.data_dir
    for path in [data / "catalog.db", data / "catalog.db-wal", server.log_path]:
        if path.exists():
            assert secret.encode() not in path.read_bytes(), path


def test_disconnect_reconnect_and_remove(server, remote):
    credential_id = connect(server, remote)
    repository_id, run_id = new_repository(server, credential_id)
    server.wait_idle()

    res = server.post(f"/cloud/credentials/{credential_id}/disconnect", {})
    assert res.status_code == 200, res.text
    refused = server.post(f"/repositories/{repository_id}/cloud/import", {})
    assert refused.status_code == 400
    assert "reconnect" in refused.json()["error"]
    # A repository can still be made with it; the answer says why nothing comes.
    made = server.post("/repositories", {"name": "Later",
                                         "cloud_credential_id": credential_id})
    assert made.status_code == 200, made.text
    assert "disconnected" in made.json()["cloud_import_error"]
    assert "cloud_import_run_id" not in made.json()

    res = server.post(f"/cloud/credentials/{credential_id}/reconnect", {})
    assert res.status_code == 200, res.text
    assert res.json()["auth_status"] == "connected"
    assert res.json()["credential"]["status"] == "connected"

    # A wrong password typed at reconnect is refused and asks for a good one.
    res = server.post(f"/cloud/credentials/{credential_id}/reconnect",
                      {"inputs": remote.wrong})
    assert res.status_code == 400, res.text
    listed = server.get("/cloud/credentials").json()["credentials"]
    assert listed[0]["status"] == "password_required"
    res = server.post(f"/cloud/credentials/{credential_id}/reconnect",
                      {"inputs": remote.good})
    assert res.json()["auth_status"] == "connected", res.text

    res = server.request("DELETE", f"/cloud/credentials/{credential_id}")
    assert res.status_code == 200, res.text
    assert server.get("/cloud/credentials").json() == {"credentials": []}
    status = server.get(f"/repositories/{repository_id}/cloud").json()
    assert status["enabled"] is False and "credential" not in status
    assert names_in(server, repository_id) == sorted(PHOTOS)
    assert run_of(server, run_id)["status"] == "completed"


def test_what_the_api_refuses(server, tmp_path):
    providers = server.get("/cloud/providers").json()["providers"]
    assert {p["id"] for p in providers} == {"icloud", "s3", "webdav"}
    s3 = next(p for p in providers if p["id"] == "s3")
    assert [f["name"] for f in s3["form_fields"]] == [
        "endpoint", "region", "bucket", "prefix", "access_key", "secret_key"]
    icloud = next(p for p in providers if p["id"] == "icloud")
    assert [f["name"] for f in icloud["challenge_fields"]] == ["code"]

    def refused(path: str, body: dict) -> str:
        res = server.post(path, body)
        assert res.status_code == 400, res.text
        assert set(res.json()) == {"code", "message", "error"}
        return res.json()["error"]

    assert "provider" in refused("/cloud/credentials", {"inputs": {}})
    assert "one of" in refused("/cloud/credentials",
                               {"provider": "dropbox", "inputs": {}})
    assert "Folder address" in refused("/cloud/credentials",
                                       {"provider": "webdav", "inputs": {}})
    assert "link-local" in refused("/cloud/credentials", {
        "provider": "webdav", "inputs": {"url": "http://169.254.169.254/"}})
    assert "Region" in refused("/cloud/credentials", {
        "provider": "s3", "inputs": {"bucket": "photos"}})
    assert "inputs" in refused("/cloud/credentials", {
        "provider": "s3", "inputs": {"bucket": 3}})
    assert "Deprecated" in server.post("/cloud/sync", {}).json()["message"]

    primary = server.get("/repositories").json()["repositories"][0]["id"]
    assert "no cloud account" in server.post(
        f"/repositories/{primary}/cloud/import", {}).json()["message"]
    assert server.get(f"/repositories/{primary}/cloud").json() == {"enabled": False}
    missing = "00000000-0000-4000-8000-000000000000"
    assert "names no account" in refused("/repositories", {
        "name": "Nowhere", "cloud_credential_id": missing})
    assert refused("/repositories", {"name": "Primary again", "role": "primary",
                                     "cloud_credential_id": missing})
    assert server.get(f"/cloud/import-runs/{missing}").status_code == 404
    assert server.request("DELETE", f"/cloud/credentials/{missing}").status_code == 404
    assert not (Path(server.data_dir) / "library" / "nowhere").exists()

"""A running library with two accounts, for tests of what users organise.

alice (the first account, an admin) owns the photos of a registered folder; bob (a
plain user) owns one photo he uploaded himself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from serverkit import MEDIA, PASSWORD, Server, copy_media

BOBS_PHOTO = "jpeg/Pentax_K10D.jpg"


@dataclass
class Library:
    server: Server
    bob: str  # bob's access token
    by_name: dict[str, dict]  # alice's assets by file name
    bobs_asset: str

    def id(self, name: str) -> str:
        return self.by_name[name]["asset_id"]


def upload(server: Server, token: str, rel: str) -> str:
    data = (MEDIA / rel).read_bytes()
    res = httpx.post(server.base + "/api/v1/assets",
                     headers={"Authorization": f"Bearer {token}"},
                     files={"file": (Path(rel).name, data)}, timeout=60)
    assert res.status_code == 200, res.text
    return res.json()["asset_id"]


def start_library(root: Path, photos: list[str]) -> Library:
    library = copy_media(root / "photos", photos)
    server = Server(root / "data", [library]).start()
    server.sign_up()
    bob = server.post("/auth/register/start",
                      {"username": "bob", "password": PASSWORD}, token=None)
    assert bob.status_code == 200, bob.text
    token = bob.json()["token"]
    bobs_asset = upload(server, token, BOBS_PHOTO)
    server.wait_idle()
    mine = {a["original_filename"]: a for a in server.assets()
            if a["asset_id"] != bobs_asset}
    assert len(mine) == len(photos), sorted(mine)
    return Library(server, token, mine, bobs_asset)


def assert_error(res: httpx.Response, status: int) -> dict:
    """A clean error in the API's shape, with the expected status."""
    assert res.status_code == status, res.text
    body = res.json()
    assert body["code"] == status and body["message"] and "error" in body
    return body

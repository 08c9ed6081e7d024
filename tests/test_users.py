"""Users: the administrator's list and changes, reset of access, my password and
profile, and what deactivation does to a signed-in user."""

from __future__ import annotations

import httpx
import pyotp
import pytest

from serverkit import MEDIA, PASSWORD, Server, copy_media
from softkey import SoftAuthenticator

NEW_PASSWORD = "Another-Horse-42"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("users")
    library = copy_media(base / "photos", ["jpeg/Canon_40D.jpg"])
    server = Server(base / "data", [library]).start()
    server.sign_up()
    server.wait_idle()
    yield server
    server.stop()


def register(srv: Server, name: str) -> dict:
    res = srv.post("/auth/register/start", {"username": name, "password": PASSWORD},
                   token=None)
    assert res.status_code == 200, res.text
    return res.json()


def login(srv: Server, name: str, password: str = PASSWORD) -> httpx.Response:
    return srv.post("/auth/login", {"username": name, "password": password},
                    token=None)


def upload(srv: Server, token: str, name: str = "Nikon_D70.jpg") -> str:
    data = (MEDIA / "jpeg" / name).read_bytes()
    res = httpx.post(srv.base + "/api/v1/assets",
                     headers={"Authorization": f"Bearer {token}"},
                     files={"file": (name, data, "image/jpeg")}, timeout=60)
    assert res.status_code == 200, res.text
    return res.json()["asset_id"]


def test_admin_lists_users_with_what_they_own(srv):
    carol = register(srv, "carol")
    upload(srv, carol["token"])

    res = srv.get("/users?limit=100")
    assert res.status_code == 200
    listing = res.json()
    assert listing["limit"] == 100 and listing["offset"] == 0
    assert listing["total"] == len(listing["users"]) >= 2
    by_name = {u["username"]: u for u in listing["users"]}
    assert by_name["alice"]["role"] == "admin"
    assert by_name["alice"]["asset_count"] == 1  # the library file is the admin's
    assert by_name["carol"]["asset_count"] == 1
    assert by_name["carol"]["album_count"] == 0
    assert "manage_users" not in by_name["carol"]["permissions"]
    assert all("password_hash" not in u and "totp_secret" not in u
               for u in listing["users"])

    page = srv.get("/users?limit=1&offset=1").json()
    assert len(page["users"]) == 1 and page["users"][0]["user_id"] == \
        listing["users"][1]["user_id"]
    assert srv.get("/users", token=carol["token"]).status_code == 403
    assert srv.get("/users", token=None).status_code == 401


def test_admin_changes_identity_and_role(srv):
    dave = register(srv, "dave")
    user_id = dave["user"]["user_id"]

    res = srv.request("PATCH", f"/users/{user_id}", json={
        "display_name": "Dave D.", "username": "David", "role": "admin"})
    assert res.status_code == 200, res.text
    changed = res.json()
    assert changed["username"] == "david" and changed["display_name"] == "Dave D."
    assert changed["role"] == "admin" and "manage_users" in changed["permissions"]
    # The role is read on every request, so the old token already carries it.
    assert srv.get("/users", token=dave["token"]).status_code == 200

    res = srv.request("PATCH", f"/users/{user_id}", json={"role": "user"})
    assert res.json()["role"] == "user"
    assert srv.get("/users", token=dave["token"]).status_code == 403

    assert srv.request("PATCH", f"/users/{user_id}",
                       json={"username": "alice"}).status_code == 409
    assert srv.request("PATCH", f"/users/{user_id}",
                       json={"role": "owner"}).status_code == 400
    assert srv.request("PATCH", f"/users/{user_id}",
                       json={"username": "-x"}).status_code == 400
    assert srv.request("PATCH", f"/users/{user_id}",
                       json={"is_active": "no"}).status_code == 400
    assert srv.request("PATCH", "/users/999999", json={}).status_code == 404
    assert srv.request("PATCH", f"/users/{user_id}", json={"role": "admin"},
                       token=dave["token"]).status_code == 403


def test_a_deactivated_user_is_signed_out_everywhere(srv):
    erin = register(srv, "erin")
    user_id = erin["user"]["user_id"]
    second = login(srv, "erin").json()

    res = srv.request("PATCH", f"/users/{user_id}", json={"is_active": False})
    assert res.status_code == 200 and res.json()["is_active"] is False
    for session in (erin, second):
        assert srv.get("/auth/me", token=session["token"]).status_code == 401
        assert srv.post("/auth/refresh", {"refreshToken": session["refreshToken"]},
                        token=None).status_code == 401
    refused = login(srv, "erin")
    assert refused.status_code == 401
    assert refused.json()["message"] == "Invalid credentials"

    srv.request("PATCH", f"/users/{user_id}", json={"is_active": True})
    assert login(srv, "erin").status_code == 200
    # Reactivation does not bring back the revoked sessions.
    assert srv.post("/auth/refresh", {"refreshToken": second["refreshToken"]},
                    token=None).status_code == 401


def test_the_last_active_admin_cannot_step_down(srv):
    me = srv.get("/auth/me").json()["user_id"]
    for change in ({"role": "user"}, {"is_active": False}):
        res = srv.request("PATCH", f"/users/{me}", json=change)
        assert res.status_code == 400
        assert "last active administrator" in res.json()["message"]
    assert srv.get("/auth/me").json()["role"] == "admin"

    frank = register(srv, "frank")
    srv.request("PATCH", f"/users/{frank['user']['user_id']}", json={"role": "admin"})
    frank_token = login(srv, "frank").json()["token"]
    res = srv.request("PATCH", f"/users/{frank['user']['user_id']}",
                      json={"role": "user"}, token=frank_token)
    assert res.status_code == 200  # alice is still an admin
    assert srv.get("/users", token=frank_token).status_code == 403


def test_reset_access_clears_every_way_in(srv):
    gina = register(srv, "gina")
    token, user_id = gina["token"], gina["user"]["user_id"]
    key = SoftAuthenticator(srv.base)
    start = srv.post("/auth/mfa/passkeys/options", {}, token=token).json()
    srv.post("/auth/mfa/passkeys/verify", {"challenge_token": start["challenge_token"],
                                           "credential": key.create(start["options"])},
             token=token)
    setup = srv.post("/auth/mfa/totp/setup", {}, token=token).json()
    srv.post("/auth/mfa/totp/enable", {"setup_token": setup["setup_token"],
                                       "code": pyotp.TOTP(setup["secret"]).now()},
             token=token)

    res = srv.post(f"/users/{user_id}/reset-access", {})
    assert res.status_code == 200, res.text
    reset = res.json()
    assert reset["cleared_passkeys"] is True and reset["cleared_totp"] is True
    temporary = reset["temporary_password"]

    assert srv.post("/auth/refresh", {"refreshToken": gina["refreshToken"]},
                    token=None).status_code == 401
    assert login(srv, "gina").status_code == 401
    fresh = login(srv, "gina", temporary)
    assert fresh.status_code == 200 and fresh.json()["requires_mfa"] is False
    status = srv.get("/auth/mfa", token=fresh.json()["token"]).json()
    assert status == {"totp_enabled": False, "passkey_count": 0,
                      "recovery_codes_remaining": 0, "available_methods": []}

    me = srv.get("/auth/me").json()["user_id"]
    assert srv.post(f"/users/{me}/reset-access", {}).status_code == 400
    assert srv.post(f"/users/{user_id}/reset-access", {},
                    token=fresh.json()["token"]).status_code == 403
    assert srv.post("/users/999999/reset-access", {}).status_code == 404


def test_changing_my_password_revokes_my_sessions(srv):
    hank = register(srv, "hank")
    path = "/users/me/password"
    wrong = srv.request("PATCH", path, token=hank["token"], json={
        "current_password": "Not-My-Password-1", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 401
    weak = srv.request("PATCH", path, token=hank["token"], json={
        "current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 400 and "10-72 bytes" in weak.json()["message"]

    res = srv.request("PATCH", path, token=hank["token"], json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert res.status_code == 200 and res.json()["message"]
    assert srv.post("/auth/refresh", {"refreshToken": hank["refreshToken"]},
                    token=None).status_code == 401
    assert login(srv, "hank").status_code == 401
    assert login(srv, "hank", NEW_PASSWORD).status_code == 200


def test_my_profile(srv):
    ivy = register(srv, "ivy")
    token = ivy["token"]
    mine = upload(srv, token, "Canon_40D.jpg")
    theirs = next(a["asset_id"] for a in srv.assets()
                  if a["storage_path"] == "jpeg/Canon_40D.jpg")  # the admin's
    path = "/users/me/profile"

    res = srv.request("PATCH", path, token=token,
                      json={"display_name": "  Ivy  ", "avatar_asset_id": mine})
    assert res.status_code == 200, res.text
    assert res.json()["display_name"] == "Ivy"
    assert res.json()["avatar_asset_id"] == mine
    assert srv.get("/auth/me", token=token).json()["avatar_asset_id"] == mine

    for body in ({"display_name": "x" * 65}, {"display_name": "bell\x07"},
                 {"avatar_asset_id": theirs}, {"avatar_asset_id": "nope"},
                 {"display_name": 7}):
        res = srv.request("PATCH", path, token=token, json=body)
        assert res.status_code == 400, body

    res = srv.request("PATCH", path, token=token,
                      json={"display_name": "", "avatar_asset_id": ""})
    assert res.json()["display_name"] == "ivy" and "avatar_asset_id" not in res.json()
    assert srv.request("PATCH", path, token=None, json={}).status_code == 401

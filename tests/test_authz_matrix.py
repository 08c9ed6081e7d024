"""Who may call what: every operation of the API document, for an anonymous caller,
an owner, another user and an administrator.

The matrix below names every operation. Operations the server does not have yet are
listed as MISSING and must answer 404/405; a route added to the server without its
entry here (or still marked MISSING) fails `test_matrix_matches_the_server_routes`.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from serverkit import MEDIA, PASSWORD, SHARED, Server
from softkey import SoftAuthenticator

API = json.loads((SHARED / "api" / "openapi.json").read_text())
PREFIX = "/api/v1"
JPEG = (MEDIA / "jpeg/Canon_40D.jpg").read_bytes()
# Different cameras and dates, so that no two uploads look like one burst.
PHOTOS = sorted((MEDIA / "jpeg").glob("*.jpg"))
MEDIA_FILES = {"video": "video/small_video.mp4", "audio": "audio/chirp-5-id3.mp3"}

PUBLIC = "public"      # no token needed
OPTIONAL = "optional"  # a token is optional, as the reference says for /assets/*
USER = "user"          # any signed-in user; anonymous callers get 401
ADMIN = "admin"        # administrators; other users get 403
OWNED = "owned"        # the owner's object: others get 403/404, the owner and admins
                       # are served
SELF = "self"          # only the owner, administrators included among the others
MISSING = "missing"    # not implemented yet: 404/405 for everyone


@dataclass(frozen=True)
class Rule:
    kind: str
    obj: str | None = None   # what the path's ids name (asset, album, stacked, ...)
    body: Any = None         # the JSON body of a valid call
    fresh: bool = False      # each caller needs its own object (the call uses it up)
    anon: tuple = (200,)     # what an anonymous caller of a PUBLIC route gets
    query: str = ""          # the query string of a valid call
    also: tuple = ()         # statuses besides success that a served caller may get


MATRIX: dict[tuple[str, str], Rule] = {
    # -- public and setup
    ("GET", "/health"): Rule(PUBLIC),
    ("GET", "/capabilities"): Rule(PUBLIC),
    ("GET", "/setup/status"): Rule(PUBLIC),
    ("POST", "/setup"): Rule(PUBLIC, body={}, anon=(409,)),
    ("POST", "/auth/register/start"): Rule(PUBLIC, obj="new_user"),
    ("POST", "/auth/login"): Rule(PUBLIC, obj="login"),
    ("POST", "/auth/refresh"): Rule(PUBLIC, obj="refresh"),
    ("POST", "/auth/logout"): Rule(PUBLIC, obj="refresh"),
    ("POST", "/auth/mfa/verify"): Rule(PUBLIC, obj="mfa_challenge"),
    ("POST", "/auth/passkeys/login/options"): Rule(PUBLIC, body={"username": "ann"}),
    ("POST", "/auth/passkeys/login/verify"): Rule(PUBLIC, obj="passkey_assertion"),
    # -- my account
    ("GET", "/auth/me"): Rule(USER),
    ("GET", "/auth/media-token"): Rule(USER),
    ("GET", "/auth/mfa"): Rule(USER),
    ("POST", "/auth/mfa/totp/setup"): Rule(USER, body={}),
    ("POST", "/auth/mfa/totp/enable"): Rule(USER, obj="totp_setup"),
    ("POST", "/auth/mfa/totp/disable"): Rule(
        USER, body={"current_password": PASSWORD}),
    ("POST", "/auth/mfa/recovery-codes/regenerate"): Rule(
        USER, body={"current_password": PASSWORD}),
    ("GET", "/auth/mfa/passkeys"): Rule(USER),
    ("POST", "/auth/mfa/passkeys/options"): Rule(USER, body={}),
    ("POST", "/auth/mfa/passkeys/verify"): Rule(USER, obj="passkey_enrolment"),
    ("DELETE", "/auth/mfa/passkeys/{id}"): Rule(SELF, obj="passkey", fresh=True),
    ("PATCH", "/users/me/password"): Rule(
        USER, body={"current_password": PASSWORD, "new_password": PASSWORD}),
    ("PATCH", "/users/me/profile"): Rule(USER, body={"display_name": "Someone"}),
    # -- administration
    ("GET", "/users"): Rule(ADMIN),
    ("PATCH", "/users/{id}"): Rule(ADMIN, obj="user", body={"display_name": "Renamed"}),
    ("POST", "/users/{id}/reset-access"): Rule(ADMIN, obj="user", fresh=True, body={}),
    ("GET", "/settings/runtime-info"): Rule(ADMIN),
    ("GET", "/settings/system"): Rule(ADMIN),
    ("PATCH", "/settings/system"): Rule(ADMIN, body={"ml": {"ocr_enabled": False}}),
    ("POST", "/settings/system/validate-llm"): Rule(ADMIN, body={}),
    ("GET", "/admin/river/stats"): Rule(ADMIN),
    ("GET", "/admin/river/queue-summary"): Rule(ADMIN),
    ("GET", "/repositories"): Rule(ADMIN),
    ("POST", "/repositories"): Rule(ADMIN, obj="new_repository"),
    ("GET", "/repositories/{id}"): Rule(ADMIN, obj="repository"),
    ("PATCH", "/repositories/{id}"): Rule(ADMIN, obj="repository", body={}),
    ("DELETE", "/repositories/{id}"): Rule(ADMIN, obj="repository", fresh=True),
    ("POST", "/repositories/{id}/scan"): Rule(ADMIN, obj="repository", body={}),
    ("GET", "/repositories/{id}/scans"): Rule(ADMIN, obj="repository"),
    ("GET", "/repositories/{id}/scans/latest"): Rule(ADMIN, obj="repository"),
    ("POST", "/repositories/{id}/stacks/detect"): Rule(
        ADMIN, obj="repository", body={}),
    ("GET", "/assets/indexing/repositories"): Rule(ADMIN),
    ("GET", "/assets/indexing/stats"): Rule(ADMIN),
    # No recognition model is installed in tests: nothing to rebuild, said with 503.
    ("POST", "/assets/indexing/rebuild"): Rule(ADMIN, body={}, also=(503,)),
    # -- assets: lists are scoped to the caller, objects checked against their owner
    ("GET", "/assets/types"): Rule(OPTIONAL),
    ("POST", "/assets"): Rule(USER, obj="upload"),
    ("POST", "/assets/batch"): Rule(USER, obj="batch_upload"),
    ("GET", "/assets/batch/config"): Rule(USER),
    ("GET", "/assets/batch/progress"): Rule(USER),
    ("POST", "/assets/list"): Rule(USER, body={}),
    ("POST", "/assets/search"): Rule(USER, body={"query": "photo"}),
    ("GET", "/assets/featured"): Rule(USER),
    ("GET", "/assets/filter-options"): Rule(USER),
    ("GET", "/assets/liked"): Rule(USER),
    ("GET", "/assets/map-points"): Rule(USER),
    ("GET", "/assets/rating/{rating}"): Rule(USER, obj="rating"),
    ("POST", "/assets/download"): Rule(OWNED, obj="asset_ids"),
    ("POST", "/assets/stacks"): Rule(OWNED, obj="asset_pair", fresh=True),
    ("GET", "/assets/{id}"): Rule(OWNED, obj="asset"),
    ("PUT", "/assets/{id}"): Rule(OWNED, obj="asset",
                                  body={"specific_metadata": {}}),
    ("DELETE", "/assets/{id}"): Rule(OWNED, obj="asset", fresh=True),
    ("POST", "/assets/{id}/restore"): Rule(OWNED, obj="asset", body={}),
    ("GET", "/assets/{id}/exif"): Rule(OWNED, obj="asset"),
    ("GET", "/assets/{id}/thumbnail"): Rule(OWNED, obj="asset"),
    ("GET", "/assets/{id}/original"): Rule(OWNED, obj="asset"),
    ("GET", "/assets/{id}/export"): Rule(OWNED, obj="asset", query="format=jpeg"),
    ("GET", "/assets/{id}/video/web"): Rule(OWNED, obj="video"),
    ("GET", "/assets/{id}/audio/web"): Rule(OWNED, obj="audio"),
    ("PUT", "/assets/{id}/rating"): Rule(OWNED, obj="asset", body={"rating": 3}),
    ("PUT", "/assets/{id}/like"): Rule(OWNED, obj="asset", body={"liked": True}),
    ("PUT", "/assets/{id}/rating-and-like"): Rule(
        OWNED, obj="asset", body={"rating": 4, "liked": False}),
    ("PUT", "/assets/{id}/description"): Rule(
        OWNED, obj="asset", body={"description": "a quiet morning"}),
    ("GET", "/assets/{id}/sidecar"): Rule(OWNED, obj="asset"),
    ("PUT", "/assets/{id}/sidecar"): Rule(OWNED, obj="asset_sidecar"),
    ("POST", "/assets/{id}/reprocess"): Rule(
        OWNED, obj="asset", body={"tasks": ["thumbnail_asset"]}),
    ("GET", "/assets/{id}/stack"): Rule(OWNED, obj="stacked"),
    ("DELETE", "/assets/{id}/stack"): Rule(OWNED, obj="stacked", fresh=True),
    ("GET", "/assets/{id}/albums"): Rule(OWNED, obj="asset"),
    ("POST", "/assets/{id}/albums/{albumId}"): Rule(
        SELF, obj="asset_album", fresh=True, body={}),
    # -- albums: each user's own, administrators included
    ("GET", "/albums"): Rule(USER),
    ("POST", "/albums"): Rule(USER, body={"album_name": "Holidays"}),
    ("GET", "/albums/{id}"): Rule(SELF, obj="album"),
    ("PUT", "/albums/{id}"): Rule(SELF, obj="album", body={"album_name": "Renamed"}),
    ("DELETE", "/albums/{id}"): Rule(SELF, obj="album", fresh=True),
    ("GET", "/albums/{id}/assets"): Rule(SELF, obj="album"),
    ("POST", "/albums/{id}/assets/{assetId}"): Rule(
        SELF, obj="album_asset", fresh=True, body={}),
    ("DELETE", "/albums/{id}/assets/{assetId}"): Rule(
        SELF, obj="album_with_asset", fresh=True),
    ("PUT", "/albums/{id}/assets/{assetId}/position"): Rule(
        SELF, obj="album_with_asset", fresh=True, body={"position": 0}),
    ("POST", "/albums/{id}/bioclip/rebuild"): Rule(SELF, obj="album", body={}),
    # -- statistics (the reference: not scoped to the owner; a token is required here)
    ("GET", "/stats/available-years"): Rule(USER),
    ("GET", "/stats/camera-lens"): Rule(USER),
    ("GET", "/stats/focal-length"): Rule(USER),
    ("GET", "/stats/time-distribution"): Rule(USER),
    ("GET", "/stats/daily-activity"): Rule(USER),
    # -- recognition, places, duplicates
    ("POST", "/classifiers/preview"): Rule(
        ADMIN, body={"positive_prompts": ["a dog"]}, also=(503,)),
    ("GET", "/people"): Rule(USER),
    ("POST", "/people/rebuild"): Rule(USER, body={}, also=(503,)),
    ("GET", "/people/{id}"): Rule(USER, obj="no_person", also=(404,)),
    ("PATCH", "/people/{id}"): Rule(USER, obj="no_person", body={"name": "Kim"},
                                    also=(404,)),
    ("POST", "/people/{id}/assets/list"): Rule(USER, obj="no_person", body={},
                                               also=(404,)),
    ("GET", "/people/{id}/cover"): Rule(USER, obj="no_person", also=(404,)),
    ("GET", "/species/reference"): Rule(USER, query="name=Canis%20lupus",
                                        also=(404, 503)),
    ("GET", "/locations/clusters"): Rule(USER),
    ("POST", "/locations/rebuild"): Rule(ADMIN, body={}),
    ("POST", "/duplicates/detect"): Rule(USER, body={}),
    ("GET", "/duplicates/groups"): Rule(USER),
    ("GET", "/duplicates/summary"): Rule(USER),
    ("GET", "/duplicates/groups/{id}"): Rule(USER, obj="no_group", also=(404,)),
    ("POST", "/duplicates/groups/{id}/dismiss"): Rule(
        USER, obj="no_group", body={}, also=(404,)),
    ("POST", "/duplicates/groups/{id}/merge"): Rule(
        USER, obj="no_group", body={}, also=(404,)),
    # -- cloud import (a WebDAV server on loopback plays the cloud)
    ("GET", "/cloud/providers"): Rule(ADMIN),
    ("GET", "/cloud/credentials"): Rule(ADMIN),
    ("POST", "/cloud/credentials"): Rule(ADMIN, obj="new_cloud_credential"),
    ("DELETE", "/cloud/credentials/{id}"): Rule(ADMIN, obj="cloud_credential",
                                                fresh=True),
    # A WebDAV account asks for no code: a served call is answered 400.
    ("POST", "/cloud/credentials/{id}/auth-challenge"): Rule(
        ADMIN, obj="cloud_credential", body={"inputs": {"code": "123456"}}),
    ("POST", "/cloud/credentials/{id}/disconnect"): Rule(
        ADMIN, obj="cloud_credential", fresh=True, body={}),
    ("POST", "/cloud/credentials/{id}/reconnect"): Rule(
        ADMIN, obj="cloud_credential", body={}),
    ("GET", "/cloud/import-runs/{id}"): Rule(ADMIN, obj="cloud_run"),
    ("POST", "/cloud/sync"): Rule(ADMIN, body={}),
    ("GET", "/repositories/{id}/cloud"): Rule(ADMIN, obj="cloud_repository"),
    ("POST", "/repositories/{id}/cloud/import"): Rule(
        ADMIN, obj="cloud_repository", body={}),
    # -- the assistant (a scripted model on loopback plays the language model):
    # threads, refs and pins are their user's alone, administrators included
    ("POST", "/agent/chat"): Rule(USER, body={"query": "hello"}),
    ("POST", "/agent/chat/resume"): Rule(SELF, obj="agent_pending", fresh=True),
    ("GET", "/agent/tools"): Rule(USER),
    ("GET", "/agent/pins"): Rule(USER),
    ("POST", "/agent/pins"): Rule(SELF, obj="agent_pin_request"),
    ("PATCH", "/agent/pins/layout"): Rule(SELF, obj="agent_layout"),
    ("DELETE", "/agent/pins/{id}"): Rule(SELF, obj="agent_pin", fresh=True),
    ("GET", "/agent/pins/{id}/assets"): Rule(SELF, obj="agent_pin"),
    ("GET", "/agent/refs/{id}"): Rule(SELF, obj="agent_ref"),
    ("GET", "/agent/refs/{id}/assets"): Rule(SELF, obj="agent_ref"),
}


# Lumilio's own routes, outside the API document.
EXTRA: dict[tuple[str, str], Rule] = {
    ("GET", "/ml/models"): Rule(ADMIN),
    ("POST", "/ml/models"): Rule(ADMIN, body={"source": "no-such-pack.zip"},
                                 also=(400, 404)),
    ("POST", "/ml/models/{name}/activate"): Rule(ADMIN, obj="no_pack", body={},
                                                 also=(400, 404)),
    ("DELETE", "/ml/models/{name}"): Rule(ADMIN, obj="no_pack", also=(400, 404)),
}
EVERY = {**MATRIX, **EXTRA}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def document_operations() -> set[tuple[str, str]]:
    return {(m.upper(), p.removeprefix(PREFIX))
            for p, ops in API["paths"].items() for m in ops}


def test_matrix_names_every_operation_of_the_document():
    assert set(MATRIX) == document_operations()


def test_matrix_matches_the_server_routes():
    from lumilio.app import api_routes

    served = {(m, _shape(r.path)) for r in api_routes()
              for m in r.methods - {"HEAD"}}
    listed = {(m, _shape(p)): rule for (m, p), rule in EVERY.items()}
    not_in_document = sorted(served - set(listed))
    assert not_in_document == [], "routes without a rule (add them to EXTRA)"
    still_missing = sorted(op for op in served if listed[op].kind == MISSING)
    assert still_missing == [], "served routes still marked MISSING: give them a rule"
    unserved = sorted(op for op, rule in listed.items()
                      if rule.kind != MISSING and op not in served)
    assert unserved == [], "rules for routes the server does not have"


# -- the world the calls run against --------------------------------------------------


class World:
    """A server with an admin (root), an owner (ann) and another user (ben), and
    factories for the objects that the routes' ids name, all owned by ann."""

    def __init__(self, server: Server, tmp):
        self.srv = server
        self.tmp = tmp
        self.tokens = {"root": server.token}
        for name in ("ann", "ben"):
            res = server.post("/auth/register/start",
                              {"username": name, "password": PASSWORD}, token=None)
            self.tokens[name] = res.json()["token"]
        self.key = SoftAuthenticator(server.base)
        self.count = 0
        self.cache: dict[str, Any] = {}

    def call(self, who: str | None, method: str, path: str, **kw) -> httpx.Response:
        token = self.tokens[who] if who else None
        return self.srv.request(method, path, token=token, **kw)

    def unique(self) -> int:
        self.count += 1
        return self.count

    # objects, each owned by ann

    def upload(self, name: str = "photo.jpg", data: bytes | None = None) -> str:
        if data is None:
            number = self.unique()
            photo = PHOTOS[number % len(PHOTOS)]
            data = photo.read_bytes() + f"matrix-{number}".encode()
        res = httpx.post(self.srv.base + PREFIX + "/assets",
                         headers={"Authorization": f"Bearer {self.tokens['ann']}"},
                         files={"file": (name, data)}, timeout=60)
        assert res.status_code == 200, res.text
        return res.json()["asset_id"]

    def asset(self, fresh: bool) -> str:
        if fresh or "asset" not in self.cache:
            made = self.upload()
            if fresh:
                return made
            self.cache["asset"] = made
            self.srv.wait_idle()
        return self.cache["asset"]

    def media_asset(self, kind: str) -> str:
        if kind not in self.cache:
            source = MEDIA / MEDIA_FILES[kind]
            self.cache[kind] = self.upload(source.name, source.read_bytes())
            self.srv.wait_idle()
        return self.cache[kind]

    def album(self, fresh: bool) -> int:
        if fresh or "album" not in self.cache:
            res = self.call("ann", "POST", "/albums",
                            json={"album_name": f"Album {self.unique()}"})
            assert res.status_code == 200, res.text
            if fresh:
                return res.json()["album_id"]
            self.cache["album"] = res.json()["album_id"]
        return self.cache["album"]

    def stacked(self) -> str:
        first, second = self.upload(), self.upload()
        res = self.call("ann", "POST", "/assets/stacks",
                        json={"asset_ids": [first, second]})
        assert res.status_code in (200, 201), res.text
        return first

    def passkey(self) -> int:
        start = self.call("ann", "POST", "/auth/mfa/passkeys/options", json={}).json()
        res = self.call("ann", "POST", "/auth/mfa/passkeys/verify", json={
            "challenge_token": start["challenge_token"],
            "credential": self.key.create(start["options"])})
        assert res.status_code == 200, res.text
        return res.json()["passkey_id"]

    def repository(self, fresh: bool) -> str:
        if not fresh:
            return self.call("root", "GET", "/repositories").json()[
                "repositories"][0]["id"]
        folder = self.tmp / f"repo-{self.unique()}"
        folder.mkdir()
        res = self.call("root", "POST", "/repositories",
                        json={"name": folder.name, "path": str(folder)})
        assert res.status_code == 200, res.text
        return res.json()["repository"]["id"]

    def cloud_inputs(self) -> dict:
        if "dav" not in self.cache:
            from cloud_servers import WebDAVServer

            self.cache["dav"] = WebDAVServer(
                self.tmp / "dav", {"photos/a.jpg": "jpeg/Canon_40D.jpg"}).start()
        return {"provider": "webdav",
                "inputs": self.cache["dav"].inputs("photos/")}

    def cloud_credential(self, fresh: bool) -> str:
        if fresh or "cloud_credential" not in self.cache:
            res = self.call("root", "POST", "/cloud/credentials",
                            json=self.cloud_inputs())
            assert res.status_code == 200, res.text
            if fresh:
                return res.json()["credential"]["id"]
            self.cache["cloud_credential"] = res.json()["credential"]["id"]
        return self.cache["cloud_credential"]

    def cloud_repository(self) -> tuple[str, str]:
        if "cloud_repository" not in self.cache:
            res = self.call("root", "POST", "/repositories", json={
                "name": f"Cloud {self.unique()}",
                "cloud_credential_id": self.cloud_credential(True)})
            assert res.status_code == 200, res.text
            self.cache["cloud_repository"] = (res.json()["repository"]["id"],
                                              res.json()["cloud_import_run_id"])
        return self.cache["cloud_repository"]

    def agent_model(self):
        """The scripted model the assistant talks to, switched on for everyone."""
        if "agent_model" not in self.cache:
            from agentkit import point_at
            from scripted_llm import ScriptedModel

            self.cache["agent_model"] = ScriptedModel().start()
            point_at(self.srv, self.cache["agent_model"])
        return self.cache["agent_model"]

    def agent_chat(self, *turns):
        """A conversation of ann's in which the model plays `turns`."""
        from agentkit import chat

        self.agent_model().add(*turns)
        reply = chat(self.srv, {"query": "my photos"}, token=self.tokens["ann"])
        assert reply.ended == "done", reply.frames
        return reply

    def agent_ref(self) -> tuple[str, str]:
        from scripted_llm import call_tools, say, tool

        if "agent_ref" not in self.cache:
            reply = self.agent_chat(call_tools(tool("filter_assets", {})),
                                    say("Here they are."))
            self.cache["agent_ref"] = (reply.thread_id, "r1")
        return self.cache["agent_ref"]

    def agent_pin(self, fresh: bool) -> str:
        if fresh or "agent_pin" not in self.cache:
            thread, ref = self.agent_ref()
            res = self.call("ann", "POST", "/agent/pins",
                            json={"thread_id": thread, "ref_id": ref})
            assert res.status_code == 200, res.text
            if fresh:
                return res.json()["pin_id"]
            self.cache["agent_pin"] = res.json()["pin_id"]
        return self.cache["agent_pin"]

    def agent_pending(self) -> dict:
        """A resume body that declines a change of ann's waiting for her answer."""
        from scripted_llm import call_tools, tool

        reply = self.agent_chat(call_tools(tool("bulk_like_assets", {
            "asset_ids": [self.asset(False)]})))
        [action] = reply.actions
        return {"thread_id": reply.thread_id,
                "targets": {action["action_id"]: False}}

    def user(self) -> int:
        name = f"someone{self.unique()}"
        res = self.srv.post("/auth/register/start",
                            {"username": name, "password": PASSWORD}, token=None)
        return res.json()["user"]["user_id"]

    # a call ready to send: path and keyword arguments for httpx

    def request(self, method: str, path: str, rule: Rule) -> tuple[str, dict]:
        kw: dict = {}
        if rule.body is not None:
            kw["json"] = rule.body
        if rule.query:
            path = f"{path}?{rule.query}"
        obj, fresh = rule.obj, rule.fresh
        if obj in ("asset", "asset_sidecar"):
            asset = self.asset(fresh)
            path = path.replace("{id}", asset)
            if obj == "asset_sidecar":
                kw["json"] = self.call("ann", "GET", f"/assets/{asset}/sidecar").json()
        elif obj in ("video", "audio"):
            path = path.replace("{id}", self.media_asset(obj))
        elif obj == "stacked":
            path = path.replace("{id}", self.stacked())
        elif obj == "asset_ids":
            kw["json"] = {"asset_ids": [self.asset(False)]}
        elif obj == "asset_pair":
            kw["json"] = {"asset_ids": [self.upload(), self.upload()]}
        elif obj == "album":
            path = path.replace("{id}", str(self.album(fresh)))
        elif obj in ("asset_album", "album_asset", "album_with_asset"):
            album, asset = self.album(True), self.upload()
            if obj == "album_with_asset":
                self.call("ann", "POST", f"/albums/{album}/assets/{asset}", json={})
            path = (path.replace("{albumId}", str(album)).replace("{assetId}", asset)
                    .replace("{id}", asset if obj == "asset_album" else str(album)))
        elif obj == "passkey":
            path = path.replace("{id}", str(self.passkey()))
        elif obj == "repository":
            path = path.replace("{id}", self.repository(fresh))
        elif obj == "new_repository":
            folder = self.tmp / f"new-repo-{self.unique()}"
            folder.mkdir()
            kw["json"] = {"name": folder.name, "path": str(folder)}
        elif obj == "user":
            path = path.replace("{id}", str(self.user()))
        elif obj == "new_cloud_credential":
            kw["json"] = self.cloud_inputs()
        elif obj == "cloud_credential":
            path = path.replace("{id}", self.cloud_credential(fresh))
        elif obj in ("cloud_repository", "cloud_run"):
            repository, run = self.cloud_repository()
            path = path.replace("{id}", repository if obj == "cloud_repository"
                                else run)
        elif obj == "no_person":
            path = path.replace("{id}", "999999")
        elif obj == "no_group":
            path = path.replace("{id}", str(uuid.uuid4()))
        elif obj == "agent_ref":
            thread, ref = self.agent_ref()
            path = path.replace("{id}", ref) + f"?thread_id={thread}"
        elif obj == "agent_pin":
            path = path.replace("{id}", self.agent_pin(fresh))
        elif obj == "agent_pin_request":
            thread, ref = self.agent_ref()
            kw["json"] = {"thread_id": thread, "ref_id": ref}
        elif obj == "agent_layout":
            kw["json"] = {"layouts": [{"pin_id": self.agent_pin(False), "x": 2}]}
        elif obj == "agent_pending":
            kw["json"] = self.agent_pending()
        elif obj == "no_pack":
            path = path.replace("{name}", "no-such-pack")
        elif obj == "rating":
            path = path.replace("{rating}", "3")
        elif obj == "upload":
            kw["files"] = {"file": (f"up{self.unique()}.jpg",
                                    JPEG + f"u{self.count}".encode())}
        elif obj == "batch_upload":
            kw["files"] = {f"single_{uuid.uuid4().hex[:8]}": (
                f"batch{self.unique()}.jpg", JPEG + f"b{self.count}".encode())}
        else:
            kw.update(self._public_body(obj))
        return path, kw

    def _public_body(self, obj: str | None) -> dict:
        if obj == "new_user":
            return {"json": {"username": f"newcomer{self.unique()}",
                             "password": PASSWORD}}
        if obj == "login":
            return {"json": {"username": "ben", "password": PASSWORD}}
        if obj == "refresh":
            session = self.srv.post("/auth/login", {"username": "ben",
                                                    "password": PASSWORD},
                                    token=None).json()
            return {"json": {"refreshToken": session["refreshToken"]}}
        if obj == "mfa_challenge":
            return {"json": self._mfa_challenge()}
        if obj == "passkey_assertion":
            self.passkey()
            start = self.srv.post("/auth/passkeys/login/options",
                                  {"username": "ann"}, token=None).json()
            return {"json": {"challenge_token": start["challenge_token"],
                             "credential": self.key.get(start["options"])}}
        if obj == "totp_setup":
            return {"json": {"setup_token": "not-a-setup-token", "code": "123456"}}
        if obj == "passkey_enrolment":
            return {"json": {"challenge_token": "not-a-challenge", "credential": {}}}
        return {}

    def _mfa_challenge(self) -> dict:
        import pyotp

        name = f"mfauser{self.unique()}"
        token = self.srv.post("/auth/register/start", {"username": name,
                                                       "password": PASSWORD},
                              token=None).json()["token"]
        setup = self.srv.post("/auth/mfa/totp/setup", {}, token=token).json()
        totp = pyotp.TOTP(setup["secret"])
        self.srv.post("/auth/mfa/totp/enable", {"setup_token": setup["setup_token"],
                                                "code": totp.now()}, token=token)
        enabled = self.srv.post("/auth/mfa/recovery-codes/regenerate",
                                {"current_password": PASSWORD}, token=token).json()
        login = self.srv.post("/auth/login", {"username": name, "password": PASSWORD},
                              token=None).json()
        return {"mfa_token": login["mfa_token"], "method": "recovery_code",
                "code": enabled["recovery_codes"][0]}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("matrix") / "data").start()
    server.sign_up("root")
    world = World(server, tmp_path_factory.mktemp("matrix-folders"))
    world.agent_model()
    yield world
    server.stop()
    world.cache["agent_model"].stop()
    if "dav" in world.cache:
        world.cache["dav"].stop()


def _served(res: httpx.Response) -> bool:
    return res.status_code not in (401, 403, 404) and res.status_code < 500


@pytest.mark.parametrize("op", sorted(EVERY), ids=lambda op: f"{op[0]} {op[1]}")
def test_who_may_call(world, op):
    method, path = op
    rule = EVERY[op]
    problems: list[str] = []

    def served(res: httpx.Response) -> bool:
        return _served(res) or res.status_code in rule.also

    def check(who: str | None, ok, what: str) -> httpx.Response:
        url, kw = world.request(method, path, rule)
        res = world.call(who, method, url, **kw)
        if not ok(res):
            problems.append(f"{what}: {who or 'anonymous'} got {res.status_code}"
                            f" {res.text[:160]}")
        return res

    if rule.kind == MISSING:
        check(None, lambda r: r.status_code in (404, 405), "not implemented")
        check("ann", lambda r: r.status_code in (404, 405), "not implemented")
    elif rule.kind == PUBLIC:
        check(None, lambda r: r.status_code in rule.anon, "public")
    elif rule.kind == OPTIONAL:
        check(None, lambda r: r.status_code == 200, "optional token")
    else:
        check(None, lambda r: r.status_code == 401, "needs a token")
    if rule.kind == USER:
        check("ann", served, "signed-in user")
    elif rule.kind == ADMIN:
        check("ann", lambda r: r.status_code == 403, "admin only")
        check("root", served, "admin")
    elif rule.kind in (OWNED, SELF):
        # The intruder goes first, on the object the owner uses next.
        url, kw = world.request(method, path, rule)
        intruder = world.call("ben", method, url, **kw)
        if intruder.status_code not in (403, 404):
            problems.append(f"another user got {intruder.status_code}")
        owner = world.call("ann", method, url, **kw) if not rule.fresh else None
        if rule.fresh:
            check("ann", served, "owner")
        elif not served(owner):
            problems.append(f"owner got {owner.status_code} {owner.text[:160]}")
        if rule.kind == OWNED:
            check("root", served, "admin")
        else:
            check("root", lambda r: r.status_code in (403, 404), "not the admin's")
    assert problems == []

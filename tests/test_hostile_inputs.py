"""A hostile client: path tricks in file names, oversized bodies, a decompression bomb,
malformed JSON and wrong types on every JSON route of the API document, password
guessing. Every answer must be a clean 4xx and the server must stay healthy."""

from __future__ import annotations

import json
import os
import struct
import tempfile
import uuid
import zlib
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from serverkit import MEDIA, PASSWORD, SHARED, Server, copy_media

API = json.loads((SHARED / "api" / "openapi.json").read_text())
PREFIX = "/api/v1"
TOKEN = uuid.uuid4().hex[:12]
JPEG = (MEDIA / "jpeg/Canon_40D.jpg").read_bytes()


def png_bomb(side: int) -> bytes:
    """A tiny PNG that declares side x side pixels: decoding it would need gigabytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compress((b"\0" * (side + 1)) * 4, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows)
            + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    library = copy_media(base / "photos", ["jpeg/Nikon_D70.jpg"])
    (library / "bomb.png").write_bytes(png_bomb(50_000))
    server = Server(base / "data", [library]).start()
    server.sign_up()
    server.wait_idle()
    yield {"server": server, "base": base, "library": library}
    server.stop()


def upload(srv: Server, name: str, data: bytes, **kw) -> httpx.Response:
    return httpx.post(srv.base + PREFIX + "/assets",
                      headers={"Authorization": f"Bearer {srv.token}"},
                      files={"file": (name, data, "application/octet-stream")},
                      timeout=60, **kw)


def assert_clean_4xx(res: httpx.Response, what: object = "") -> None:
    assert 400 <= res.status_code < 500, (what, res.status_code, res.text[:300])
    body = res.json()
    if res.status_code in (404, 405) and body == {"error": "not found"}:
        return  # an unknown /api path: the SPA fallback's documented answer
    assert body["code"] == res.status_code and body["message"], (what, body)


# -- file names -----------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    f"../../{TOKEN}-a.jpg",
    f"..\\..\\{TOKEN}-b.jpg",
    f"/{TOKEN}-c.jpg",
    f"inbox/../../../{TOKEN}-d.jpg",
    f"....//....//{TOKEN}-e.jpg",
    f"%2e%2e%2f{TOKEN}-f.jpg",
    "..",
    "CON.jpg",
    f"{'x' * 300}-{TOKEN}.jpg",
])
def test_upload_names_never_become_paths(world, name):
    srv, base = world["server"], world["base"]
    data = JPEG + name.encode()  # distinct bytes: never taken for a duplicate
    res = upload(srv, name, data)
    assert res.status_code == 200, res.text
    stored = res.json()["file_name"]
    assert "/" not in stored and "\\" not in stored and stored not in ("", ".", "..")
    assert len(stored.encode()) <= 200

    detail = srv.get(f"/assets/{res.json()['asset_id']}").json()
    primary = base / "data" / "library" / "primary"
    target = (primary / detail["storage_path"]).resolve()
    assert target.is_relative_to(primary.resolve()) and target.read_bytes() == data

    # Nothing named after the trick exists outside the repository.
    escaped = [p for p in base.rglob(f"*{TOKEN}*")
               if not p.resolve().is_relative_to(primary.resolve())]
    assert escaped == []
    assert not list(Path(tempfile.gettempdir()).glob(f"{TOKEN}*"))


def test_batch_upload_names_never_become_paths(world):
    srv, base = world["server"], world["base"]
    names = [f"../../{TOKEN}-batch.jpg", f"..\\{TOKEN}-batch2.jpg"]
    fields = [(f"single_{uuid.uuid4()}", (name, JPEG + name.encode()))
              for name in names]
    res = srv.request("POST", "/assets/batch", files=fields)
    assert res.status_code == 200, res.text
    results = res.json()["results"]
    assert len(results) == 2 and all(r["success"] for r in results), results
    for result in results:
        assert "/" not in result["file_name"] and "\\" not in result["file_name"]
    primary = (base / "data" / "library" / "primary").resolve()
    escaped = [p for p in base.rglob(f"*{TOKEN}-batch*")
               if not p.resolve().is_relative_to(primary)]
    assert escaped == []


def _download_name(res: httpx.Response) -> str:
    disposition = res.headers["content-disposition"]
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    return unquote(encoded)


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\boot.ini",
                                  "/abs/olute", "a/../../b"])
def test_export_names_never_become_paths(world, name):
    srv = world["server"]
    asset = next(a["asset_id"] for a in srv.assets()
                 if a["original_filename"] == "Nikon_D70.jpg")
    res = srv.get(f"/assets/{asset}/export", params={"format": "jpeg",
                                                     "filename": name})
    assert res.status_code == 200, res.text
    download = _download_name(res)
    assert "/" not in download and "\\" not in download
    assert not download.startswith("..") and download.endswith(".jpg")


# -- sizes ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("small") / "data",
                    env={"LUMILIO_MAX_UPLOAD_MB": "1"}).start()
    server.sign_up()
    yield server
    server.stop()


def test_oversized_uploads_get_413(small_server):
    srv = small_server
    big = os.urandom(3 << 20)
    res = upload(srv, "big.jpg", big)
    assert res.status_code == 413
    assert_clean_4xx(res)

    # The same without a Content-Length: the body is cut off while it streams in.
    boundary = "lumilio-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\";"
            f" filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks():
        yield head
        for start in range(0, len(big), 256 << 10):
            yield big[start:start + (256 << 10)]
        yield tail

    res = httpx.post(srv.base + PREFIX + "/assets", content=chunks(), timeout=60,
                     headers={"Authorization": f"Bearer {srv.token}",
                              "Content-Type": f"multipart/form-data; boundary="
                                              f"{boundary}"})
    assert res.status_code == 413, res.text
    assert_clean_4xx(res)

    assert upload(srv, "small.jpg", JPEG).status_code == 200
    staging = [p for p in (srv.data_dir / "library").rglob("*.part")]
    assert staging == []


def test_oversized_json_bodies_get_413(small_server):
    srv = small_server
    huge = b'{"filter": {"filename": {"value": "' + b"a" * (9 << 20) + b'"}}}'
    res = srv.request("POST", "/assets/list", content=huge,
                      headers={"Content-Type": "application/json"})
    assert res.status_code == 413
    assert_clean_4xx(res)

    def chunks():
        for _ in range(10):
            yield b" " * (1 << 20)
        yield b"{}"

    res = srv.request("POST", "/assets/list", content=chunks(),
                      headers={"Content-Type": "application/json"})
    assert res.status_code == 413
    assert srv.get("/health").status_code == 200


# -- a decompression bomb -------------------------------------------------------------


def _status_errors(detail: dict) -> str:
    status = detail.get("status")
    if isinstance(status, list):  # the API document's byte-array encoding
        status = json.loads(bytes(status))
    return json.dumps(status)


def test_a_decompression_bomb_fails_with_a_clear_reason(world):
    srv = world["server"]
    scanned = next(a for a in srv.assets() if a["original_filename"] == "bomb.png")
    res = upload(srv, "uploaded-bomb.png", png_bomb(60_000))
    if res.status_code != 200:
        assert_clean_4xx(res)
    srv.wait_idle()

    bombs = [a for a in srv.assets()
             if a["original_filename"] in ("bomb.png", "uploaded-bomb.png")]
    assert scanned["asset_id"] in {a["asset_id"] for a in bombs}
    for asset in bombs:
        detail = srv.get(f"/assets/{asset['asset_id']}").json()
        assert "too large" in _status_errors(detail), detail
        thumb = srv.get(f"/assets/{asset['asset_id']}/thumbnail?size=small")
        assert_clean_4xx(thumb)
        exported = srv.get(f"/assets/{asset['asset_id']}/export?format=jpeg")
        assert_clean_4xx(exported)
    assert srv.get("/health").status_code == 200


# -- malformed JSON and wrong types on every JSON route -------------------------------


def _schema(ref_or_schema: dict) -> dict:
    if "$ref" in ref_or_schema:
        name = ref_or_schema["$ref"].rsplit("/", 1)[-1]
        return API["components"]["schemas"][name]
    for option in ref_or_schema.get("oneOf", []):
        if "$ref" in option:
            return _schema(option)
    return ref_or_schema


def _wrong(prop: dict):
    kind = _schema(prop).get("type", "object")
    return {"string": 12345, "integer": "not-a-number", "number": "not-a-number",
            "boolean": "maybe", "array": "not-a-list"}.get(kind, "not-an-object")


# Fields a route ignores on purpose because the server writes them itself.
SERVER_OWNED = {("PUT", "/assets/{id}/sidecar"): {"source", "updated_at"}}


def json_routes() -> list[tuple[str, str, dict]]:
    out = []
    for path, ops in API["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if method == "get" or "application/json" not in content:
                continue
            schema = _schema(content["application/json"]["schema"])
            route = (method.upper(), path.removeprefix(PREFIX))
            ignored = SERVER_OWNED.get(route, set())
            props = {name: prop for name, prop in schema.get("properties", {}).items()
                     if name not in ignored}
            out.append((*route, props))
    return sorted(out)


def _fill(path: str, method: str, ids: dict) -> str:
    gone = method == "DELETE"  # never destroy the objects the other checks use
    asset = str(uuid.uuid4()) if gone else ids["asset"]
    if path.startswith("/assets/") or path.startswith("/albums/{id}/assets"):
        path = path.replace("{assetId}", asset)
    if path.startswith("/assets/"):
        path = path.replace("{id}", asset)
    if path.startswith("/repositories/"):
        path = path.replace("{id}", str(uuid.uuid4()) if gone else ids["repository"])
    if path.startswith("/users/"):
        path = path.replace("{id}", "999999" if gone else str(ids["user"]))
    path = path.replace("{albumId}", "999999").replace("{rating}", "3")
    return path.replace("{id}", "999999" if "/albums" in path or "/people" in path
                        or "/passkeys" in path or "/pins" in path
                        else str(uuid.uuid4()))


def test_malformed_json_and_wrong_types_on_every_json_route(world):
    srv = world["server"]
    bob = srv.post("/auth/register/start", {"username": "mallory",
                                            "password": PASSWORD}, token=None).json()
    ids = {
        "asset": srv.assets()[0]["asset_id"],
        "repository": srv.get("/repositories").json()["repositories"][0]["id"],
        "user": bob["user"]["user_id"],
    }
    failures = []
    for method, path, props in json_routes():
        url = _fill(path, method, ids)
        bodies = [b"{not json", b"[1, 2, 3]", b'"text"', b"\xff\xfe"]
        bodies += [json.dumps({name: _wrong(p)}).encode() for name, p in props.items()]
        if props:
            bodies.append(json.dumps({n: _wrong(p) for n, p in props.items()}).encode())
            # Half of a UTF-16 pair, escaped: valid JSON, but no text.
            bodies.append(json.dumps(dict.fromkeys(props, "trip \ud800")).encode())
        for body in bodies:
            res = srv.request(method, url, content=body,
                              headers={"Content-Type": "application/json"})
            try:
                assert_clean_4xx(res, (method, url, body))
            except (AssertionError, ValueError):
                failures.append(f"{method} {url} {body[:80]!r} -> {res.status_code}"
                                f" {res.text[:120]}")
    assert failures == [], "\n".join(failures)
    assert srv.get("/health").status_code == 200
    assert srv.post("/assets/list", {}).status_code == 200


# -- secrets and sign-in guessing -----------------------------------------------------


def test_secret_files_are_owner_only(world):
    secrets = world["server"].data_dir / "secrets"
    assert secrets.stat().st_mode & 0o777 == 0o700
    names = {p.name for p in secrets.iterdir()}
    assert {"root.key", "vault.key"} <= names
    for path in secrets.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_password_guessing_is_throttled_without_telling_who_exists(make_server):
    srv = make_server().start()
    srv.sign_up()
    srv.post("/auth/register/start", {"username": "victim", "password": PASSWORD},
             token=None)

    unknown = srv.post("/auth/login", {"username": "ghost", "password": "Wrong-1234"},
                       token=None)
    wrong = srv.post("/auth/login", {"username": "victim", "password": "Wrong-1234"},
                     token=None)
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {
        "code": 401, "message": "Invalid credentials", "error": "Invalid credentials"}

    codes = [srv.post("/auth/login", {"username": "victim", "password": f"Guess-{i}"},
                      token=None) for i in range(12)]
    statuses = [r.status_code for r in codes]
    assert statuses[:8] == [401] * 8 and statuses[-1] == 429, statuses
    locked = codes[-1].json()
    assert locked["message"] == "Too many failed sign-in attempts"
    assert locked["error"].startswith("try again in ")
    # Locked means locked: the right password does not get through either.
    right = srv.post("/auth/login", {"username": "victim", "password": PASSWORD},
                     token=None)
    assert right.status_code == 429
    assert srv.get("/health").status_code == 200

"""Exports of real photos (HEIC and RAW included) and zip downloads of originals."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import httpx
import pytest
from serverkit import MEDIA, PASSWORD, Server, copy_media
from PIL import ExifTags, Image, ImageChops, ImageStat
from two_users import assert_error

PHOTOS = ["heic/IMG_2682.heic", "raw/canon_eos_6d.dng", "jpeg/gps/DSCN0010.jpg",
          "jpeg/orientation/landscape_6.jpg",
          "jpeg/orientation/landscape_1.jpg", "png-webp-gif/Alpha_Lossless.webp",
          "jpeg/Canon_40D.jpg", "edge/broken.jpg", "audio/silence-44-s.flac"]
BIG_FILES = 6
BIG_BYTES = 50 << 20
MEMORY_SLACK = 64 << 20

IFD = ExifTags.IFD
TAG = ExifTags.Base


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    library = copy_media(root / "photos", PHOTOS)
    # The same name in another folder, with other bytes: a clash inside the zip.
    (library / "again").mkdir()
    with Image.open(MEDIA / "jpeg/Canon_40D.jpg") as image:
        image.rotate(180).save(library / "again" / "Canon_40D.jpg", quality=80)
    make_big_files(library / "big")

    server = Server(root / "data", [library]).start()
    server.sign_up()
    server.wait_idle()
    server.assets_by_path = {a["storage_path"]: a for a in server.assets()}
    server.library = library
    yield server
    server.stop()


def make_big_files(folder: Path) -> None:
    """Real JPEGs padded with random bytes after their end: 300 MB that won't pack."""
    folder.mkdir()
    head = (MEDIA / "jpeg/Nikon_D70.jpg").read_bytes()
    for n in range(BIG_FILES):
        with open(folder / f"big_{n}.jpg", "wb") as f:
            f.write(head)
            f.writelines(os.urandom(1 << 20) for _ in range(BIG_BYTES >> 20))


def asset_id(server: Server, path: str) -> str:
    return server.assets_by_path[path]["asset_id"]


def export(server: Server, path: str, query: str, **kw) -> httpx.Response:
    return server.get(f"/assets/{asset_id(server, path)}/export?{query}", **kw)


def exif_of(data: bytes) -> tuple[dict, dict, dict]:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return dict(exif), dict(exif.get_ifd(IFD.Exif)), dict(exif.get_ifd(IFD.GPSInfo))


def test_heic_to_jpeg_within_a_width(server):
    res = export(server, "heic/IMG_2682.heic", "format=jpeg&max_width=500")
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "image/jpeg"
    assert res.headers["content-disposition"].startswith(
        'attachment; filename="IMG_2682.jpg"')
    with Image.open(io.BytesIO(res.content)) as image:
        assert image.format == "JPEG"
        assert image.size == (500, 375)
    # By default only the capture date travels: no camera, no place.
    main, details, gps = exif_of(res.content)
    assert details[TAG.DateTimeOriginal] == "2019:03:21 11:04:22"
    assert TAG.Model not in main and not gps


def test_location_and_camera_only_when_asked(server):
    plain = export(server, "jpeg/gps/DSCN0010.jpg", "format=webp")
    main, _, gps = exif_of(plain.content)
    assert TAG.Make not in main and not gps

    kept = export(server, "jpeg/gps/DSCN0010.jpg", "format=webp&keep_metadata=true")
    assert kept.headers["content-type"] == "image/webp"
    main, details, gps = exif_of(kept.content)
    assert main[TAG.Model] == "COOLPIX P6000"
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert details[TAG.DateTimeOriginal] == "2008:10:22 16:28:39"
    assert main[TAG.Orientation] == 1


def test_orientation_is_applied(server):
    res = export(server, "jpeg/orientation/landscape_6.jpg", "format=png")
    assert res.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(res.content)) as image, \
            Image.open(MEDIA / "jpeg/orientation/landscape_1.jpg") as upright:
        assert image.size == (600, 450)
        # The same scene stored upright: the export looks like it, and far less
        # like it turned over.
        grey, reference = image.convert("L"), upright.convert("L")
        same = ImageStat.Stat(ImageChops.difference(grey, reference)).mean[0]
        turned = ImageStat.Stat(ImageChops.difference(grey.rotate(180),
                                                      reference)).mean[0]
        assert same < turned / 3
    main, _, _ = exif_of(res.content)
    assert main.get(TAG.Orientation, 1) == 1


def test_raw_to_avif_within_a_height(server):
    res = export(server, "raw/canon_eos_6d.dng",
                 "format=avif&max_height=300&quality=60")
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "image/avif"
    with Image.open(io.BytesIO(res.content)) as image:
        assert image.format == "AVIF"
        assert image.size == (450, 300)


def test_transparent_webp_to_jpeg(server):
    res = export(server, "png-webp-gif/Alpha_Lossless.webp", "format=jpg&quality=500")
    assert res.status_code == 200  # quality out of range is clamped, as documented
    with Image.open(io.BytesIO(res.content)) as image:
        assert image.mode == "RGB" and image.size == (400, 301)


def test_download_name_is_cleaned(server):
    res = export(server, "jpeg/Canon_40D.jpg", "format=png&filename=../../été:1")
    disposition = res.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert "filename*=UTF-8''%C3%A9t%C3%A9_1.png" in disposition
    assert "/" not in disposition.split("filename*")[0]


def test_export_errors(server):
    heic = asset_id(server, "heic/IMG_2682.heic")
    assert_error(server.get(f"/assets/{heic}/export"), 400)
    assert_error(server.get(f"/assets/{heic}/export?format=bmp"), 400)
    assert_error(server.get(f"/assets/{heic}/export?format=png&max_width=wide"), 400)
    assert_error(export(server, "edge/broken.jpg", "format=jpeg"), 422)
    assert_error(export(server, "audio/silence-44-s.flac", "format=jpeg"), 400)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(server.get(f"/assets/{unknown}/export?format=png"), 404)
    assert_error(server.get(f"/assets/{heic}/export?format=png", token=None), 401)

    token = server.get("/auth/media-token").json()["token"]
    res = server.get(f"/assets/{heic}/export?format=png&max_width=64&mt={token}",
                     token=None)
    assert res.status_code == 200


def test_zip_of_originals_with_unique_names(server):
    paths = ["jpeg/Canon_40D.jpg", "again/Canon_40D.jpg", "heic/IMG_2682.heic"]
    res = server.post("/assets/download",
                      {"asset_ids": [asset_id(server, p) for p in paths]})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/zip"
    assert res.headers["content-disposition"].startswith(
        'attachment; filename="lumilio-assets-')
    archive = zipfile.ZipFile(io.BytesIO(res.content))
    assert archive.testzip() is None
    assert archive.namelist() == ["Canon_40D.jpg", "Canon_40D (2).jpg", "IMG_2682.heic"]
    for name, path in zip(archive.namelist(), paths, strict=True):
        assert archive.read(name) == (server.library / path).read_bytes()
        assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED


def test_download_refuses_before_streaming(server):
    good = asset_id(server, "jpeg/Canon_40D.jpg")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(server.post("/assets/download", {"asset_ids": [good, unknown]}), 404)
    assert_error(server.post("/assets/download", {"asset_ids": [good, "x"]}), 400)
    assert_error(server.post("/assets/download", {"asset_ids": []}), 400)
    assert_error(server.post("/assets/download", {}), 400)
    assert_error(server.post("/assets/download", {"asset_ids": [good]},
                             token=None), 401)

    res = server.post("/auth/register/start",
                      {"username": "eve", "password": PASSWORD}, token=None)
    stranger = res.json()["token"]
    assert_error(server.post("/assets/download", {"asset_ids": [good]},
                             token=stranger), 404)


def test_a_plain_form_with_a_media_token_downloads_too(server):
    token = server.get("/auth/media-token").json()["token"]
    ids = [asset_id(server, p) for p in ("jpeg/Canon_40D.jpg", "raw/canon_eos_6d.dng")]
    res = httpx.post(f"{server.base}/api/v1/assets/download?mt={token}",
                     data={"asset_ids": ids}, timeout=60)
    assert res.status_code == 200, res.text
    assert zipfile.ZipFile(io.BytesIO(res.content)).namelist() == [
        "Canon_40D.jpg", "canon_eos_6d.dng"]


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) << 10
    raise AssertionError("no VmRSS")


def test_zip_streams_in_constant_memory(server, tmp_path):
    ids = [asset_id(server, f"big/big_{n}.jpg") for n in range(BIG_FILES)]
    pid = server.proc.pid
    before = rss(pid)
    peak = before
    received = 0
    target = tmp_path / "big.zip"
    with httpx.stream("POST", f"{server.base}/api/v1/assets/download",
                      json={"asset_ids": ids}, timeout=120,
                      headers={"Authorization": f"Bearer {server.token}"}) as res:
        assert res.status_code == 200
        with open(target, "wb") as out:
            for chunk in res.iter_bytes(1 << 20):
                out.write(chunk)
                received += len(chunk)
                peak = max(peak, rss(pid))

    assert received > BIG_FILES * BIG_BYTES
    assert peak - before < MEMORY_SLACK, (before, peak)
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        assert len(archive.namelist()) == BIG_FILES

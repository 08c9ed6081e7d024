from __future__ import annotations

from pathlib import Path

import pytest

from lumilio.media.errors import MediaError
from lumilio.media.kinds import SUPPORTED_EXTENSIONS, is_supported_name, sniff


def test_sniff_gives_the_manifest_mime(
    media: Path, manifest_row: dict[str, str]
) -> None:
    row = manifest_row
    kind = sniff(media / row["path"])

    assert kind.mime == row["mime"]
    assert kind.is_raw == row["path"].startswith("raw/")
    expected_type = {"audio": "AUDIO", "video": "VIDEO"}.get(row["kind"], "PHOTO")
    if row["path"].startswith("livephoto/"):
        expected_type = "VIDEO" if row["path"].endswith(".mov") else "PHOTO"
    assert kind.asset_type == expected_type


def test_empty_file_is_refused(media: Path) -> None:
    with pytest.raises(MediaError, match=r"^empty file$"):
        sniff(media / "edge/empty.jpg")


@pytest.mark.parametrize(
    ("relative", "mime", "family"),
    [
        ("edge/jpeg-named-nef.nef", "image/jpeg", "jpeg"),
        ("edge/png-named-jpg.jpg", "image/png", "png"),
        ("edge/this-is-a-jpeg.png", "image/jpeg", "jpeg"),
        ("edge/wrong.heic", "image/jpeg", "jpeg"),
    ],
)
def test_content_wins_over_the_extension(
    media: Path, relative: str, mime: str, family: str
) -> None:
    kind = sniff(media / relative)

    assert (kind.mime, kind.family, kind.is_raw) == (mime, family, False)


def test_tiff_content_is_raw_only_when_the_name_says_so(copy_of) -> None:
    as_nef = sniff(copy_of("png-webp-gif/BSG1.tiff", "scan.nef"))
    as_tiff = sniff(copy_of("png-webp-gif/BSG1.tiff", "scan.tif"))

    assert (as_nef.family, as_nef.mime, as_nef.is_raw) == (
        "raw",
        "image/x-nikon-nef",
        True,
    )
    assert (as_tiff.family, as_tiff.mime, as_tiff.is_raw) == (
        "tiff",
        "image/tiff",
        False,
    )


def test_m4a_named_audio_with_a_generic_brand_is_audio(tmp_path: Path) -> None:
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64
    song = tmp_path / "song.m4a"
    song.write_bytes(ftyp)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(ftyp)

    assert (sniff(song).asset_type, sniff(song).mime) == ("AUDIO", "audio/mp4")
    assert (sniff(clip).asset_type, sniff(clip).mime) == ("VIDEO", "video/mp4")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.7\n" + b"x" * 100, "content is PDF but the name ends in .jpg"),
        (b"PK\x03\x04" + b"x" * 100, "content is ZIP but the name ends in .jpg"),
        (b"\x00\x01\x02\x03 nothing known", "unrecognised content"),
    ],
)
def test_foreign_content_is_refused_with_its_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_bytes(content)

    with pytest.raises(MediaError, match=reason):
        sniff(fake)


def test_mp3_without_a_tag_is_found_by_its_frame_sync(tmp_path: Path) -> None:
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    song = tmp_path / "bare.mp3"
    song.write_bytes(b"\x00" * 37 + frame * 4)

    assert sniff(song).mime == "audio/mpeg"


@pytest.mark.parametrize(
    "name",
    [
        "IMG_0001.JPG",
        "clip.MOV",
        "photo.heic",
        "raw.CR3",
        "song.flac",
        "folder/sub/IMG_1.dng",
        "C:\\pics\\a.jpeg",
        "fin de journée.jpg",
    ],
)
def test_media_names_are_supported(name: str) -> None:
    assert is_supported_name(name)


@pytest.mark.parametrize(
    "name",
    [
        ".hidden.jpg",
        "._IMG_0001.JPG",
        "IMG_0001.JPG.part",
        "video.mp4.crdownload",
        "photo.jpg.tmp",
        "photo.jpg~",
        "~$lock.jpg",
        "notes.txt",
        "README",
        "doc.pdf",
        "folder/.DS_Store",
        "",
    ],
)
def test_hidden_temporary_and_foreign_names_are_not(name: str) -> None:
    assert not is_supported_name(name)


def test_extension_list_is_lower_case_with_a_dot() -> None:
    assert all(
        ext.startswith(".") and ext == ext.lower() for ext in SUPPORTED_EXTENSIONS
    )
    assert {".jpg", ".heic", ".mov", ".mp3", ".nef", ".jxl"} <= SUPPORTED_EXTENSIONS

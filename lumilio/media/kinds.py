"""What a file is: decided by its content first and by its name second.

The name only decides what the content cannot: RAW formats are TIFF or ISO-BMFF
inside, so a TIFF-like file is RAW when its extension says so, and an MP4 with a
generic brand is audio when it is named `.m4a`. A JPEG named `.nef` stays a JPEG.
MIME values follow exiftool's, so they match what the corpus manifest records.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from lumilio.media.errors import MediaError

logger = logging.getLogger(__name__)

HEAD_BYTES = 4096
# Formats without a fixed magic (MPEG audio, transport streams) may start with junk;
# this much is searched for their sync pattern when the name claims them.
SYNC_SEARCH_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileKind:
    asset_type: str  # "PHOTO" | "VIDEO" | "AUDIO"
    mime: str
    is_raw: bool
    family: str  # jpeg heif png webp gif tiff avif jxl raw video audio


RAW_MIMES: dict[str, str] = {
    ".3fr": "image/x-hasselblad-3fr",
    ".arw": "image/x-sony-arw",
    ".cr2": "image/x-canon-cr2",
    ".cr3": "image/x-canon-cr3",
    ".crw": "image/x-canon-crw",
    ".dcr": "image/x-kodak-dcr",
    ".dng": "image/x-adobe-dng",
    ".erf": "image/x-epson-erf",
    ".fff": "image/x-hasselblad-fff",
    ".gpr": "image/x-gopro-gpr",
    ".iiq": "image/x-raw",
    ".k25": "image/x-kodak-k25",
    ".kdc": "image/x-kodak-kdc",
    ".mef": "image/x-mamiya-mef",
    ".mos": "image/x-raw",
    ".mrw": "image/x-minolta-mrw",
    ".nef": "image/x-nikon-nef",
    ".nrw": "image/x-nikon-nrw",
    ".orf": "image/x-olympus-orf",
    ".pef": "image/x-pentax-pef",
    ".raf": "image/x-fujifilm-raf",
    ".raw": "image/x-raw",
    ".rw2": "image/x-panasonic-rw2",
    ".rwl": "image/x-leica-rwl",
    ".sr2": "image/x-sony-sr2",
    ".srf": "image/x-sony-srf",
    ".srw": "image/x-samsung-srw",
    ".x3f": "image/x-sigma-x3f",
}

PHOTO_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".apng",
        ".gif",
        ".webp",
        ".tif",
        ".tiff",
        ".heic",
        ".heif",
        ".hif",
        ".avif",
        ".jxl",
    }
)
VIDEO_EXTENSIONS = frozenset(
    {
        ".mov",
        ".qt",
        ".mp4",
        ".m4v",
        ".3gp",
        ".3g2",
        ".avi",
        ".mts",
        ".m2ts",
        ".m2t",
        ".ts",
        ".mkv",
        ".webm",
        ".wmv",
        ".asf",
        ".mpg",
        ".mpeg",
        ".ogv",
    }
)
AUDIO_EXTENSIONS = frozenset(
    {
        ".mp3",
        ".m4a",
        ".m4b",
        ".aac",
        ".flac",
        ".wav",
        ".ogg",
        ".oga",
        ".opus",
        ".wma",
        ".aif",
        ".aiff",
        ".aifc",
        ".mka",
    }
)
SUPPORTED_EXTENSIONS: frozenset[str] = (
    PHOTO_EXTENSIONS | VIDEO_EXTENSIONS | AUDIO_EXTENSIONS | frozenset(RAW_MIMES)
)

# Browsers and sync tools write these while a file is still arriving.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload")

# Content we recognise but do not import, named in the error so a person sees why.
FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP"),
    (b"Rar!", "RAR"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf", "7-Zip"),
    (b"8BPS", "Photoshop"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"<?xml", "XML"),
    (b"<svg", "SVG"),
    (b"<!DOCTYPE", "HTML"),
    (b"<html", "HTML"),
    (b"\x7fELF", "an executable"),
)

QUICKTIME_BRANDS = {b"qt  "}
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
HEIF_BRANDS = HEIC_BRANDS | {b"mif1", b"msf1", b"mif2", b"heif"}
AVIF_BRANDS = {b"avif", b"avis"}
AUDIO_MP4_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
M4V_BRANDS = {b"M4V ", b"M4VH", b"M4VP"}
HEIF_MIMES = {
    b"heic": "image/heic",
    b"heix": "image/heif",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"msf1": "image/heif-sequence",
}
JXL_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"


def _kind(asset_type: str, mime: str, family: str, is_raw: bool = False) -> FileKind:
    return FileKind(asset_type=asset_type, mime=mime, is_raw=is_raw, family=family)


def _photo(mime: str, family: str) -> FileKind:
    return _kind("PHOTO", mime, family)


def _video(mime: str) -> FileKind:
    return _kind("VIDEO", mime, "video")


def _audio(mime: str) -> FileKind:
    return _kind("AUDIO", mime, "audio")


def _raw(mime: str) -> FileKind:
    return _kind("PHOTO", mime, "raw", is_raw=True)


def is_supported_name(name: str) -> bool:
    """Whether a scan or the watcher should consider a file with this name."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not base or base.startswith((".", "~")):
        return False

    lower = base.lower()
    if lower.endswith("~") or lower.endswith(TEMPORARY_SUFFIXES):
        return False

    return Path(lower).suffix in SUPPORTED_EXTENSIONS


def sniff(path: Path) -> FileKind:
    """The kind of file at `path`, by magic bytes first and extension second."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    ext = path.suffix.lower()
    if not head:
        raise MediaError("empty file")

    kind = _by_content(head, ext)
    if kind is None and ext in {".mp3", ".aac", ".ts", ".mts", ".m2ts", ".m2t"}:
        with open(path, "rb") as handle:
            kind = _by_sync_search(handle.read(SYNC_SEARCH_BYTES), ext)
    if kind is not None:
        logger.debug("sniffed %s as %s", path, kind.mime)
        return kind

    raise MediaError(_unsupported_reason(head, ext))


def _by_content(head: bytes, ext: str) -> FileKind | None:
    if head.startswith(b"\xff\xd8\xff"):
        return _photo("image/jpeg", "jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _photo("image/png", "png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _photo("image/gif", "gif")
    if head.startswith((b"\xff\x0a", JXL_CONTAINER)):
        return _photo("image/jxl", "jxl")
    if head[4:8] == b"ftyp":
        return _by_brand(head, ext)
    if head.startswith(b"RIFF") and len(head) >= 12:
        return _by_riff(head[8:12])
    if _is_tiff_like(head):
        return _by_tiff(head, ext)

    return _by_other_magic(head, ext)


def _by_brand(head: bytes, ext: str) -> FileKind | None:
    size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}

    if major == b"crx ":
        return _raw("image/x-canon-cr3")
    if major in AVIF_BRANDS:
        return _photo("image/avif", "avif")
    if (
        major in {b"mif1", b"msf1"}
        and b"avif" in compatible
        and not (compatible & HEIC_BRANDS)
    ):
        return _photo("image/avif", "avif")
    if major in HEIF_BRANDS:
        return _photo(HEIF_MIMES.get(major, "image/heif"), "heif")
    if major == b"jxl ":
        return _photo("image/jxl", "jxl")
    if major in QUICKTIME_BRANDS:
        return _video("video/quicktime")
    if major.startswith(b"3g2") or major == b"KDDI":
        return _video("video/3gpp2")
    if major[:3] in {b"3gp", b"3gs", b"3ge", b"3gg"}:
        return _video("video/3gpp")
    if major in AUDIO_MP4_BRANDS:
        return _audio("audio/mp4")
    if major in M4V_BRANDS:
        return _video("video/x-m4v")
    if ext in {".m4a", ".m4b"}:
        return _audio("audio/mp4")

    return _video("video/mp4")


def _by_riff(form: bytes) -> FileKind | None:
    if form == b"WEBP":
        return _photo("image/webp", "webp")
    if form == b"WAVE":
        return _audio("audio/x-wav")
    if form == b"AVI ":
        return _video("video/x-msvideo")
    return None


def _is_tiff_like(head: bytes) -> bool:
    return head[:4] in (
        b"II*\x00",
        b"MM\x00*",
        b"II+\x00",
        b"MM\x00+",  # TIFF and BigTIFF
        b"IIRO",
        b"IIRS",
        b"MMOR",  # Olympus ORF
        b"IIU\x00",  # Panasonic RW2
    )


def _by_tiff(head: bytes, ext: str) -> FileKind:
    if ext in RAW_MIMES:
        return _raw(RAW_MIMES[ext])
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return _raw("image/x-olympus-orf")
    if head[:4] == b"IIU\x00":
        return _raw("image/x-panasonic-rw2")
    if head[8:10] == b"CR":
        return _raw("image/x-canon-cr2")
    return _photo("image/tiff", "tiff")


def _by_other_magic(head: bytes, ext: str) -> FileKind | None:
    if head.startswith(b"II\x1a\x00\x00\x00HEAPCCDR"):
        return _raw("image/x-canon-crw")
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return _raw("image/x-fujifilm-raf")
    if head.startswith(b"\x00MRM"):
        return _raw("image/x-minolta-mrw")
    if head.startswith(b"FOVb"):
        return _raw("image/x-sigma-x3f")
    if head.startswith(b"fLaC"):
        return _audio("audio/flac")
    if head.startswith(b"OggS"):
        return _by_ogg(head, ext)
    if head.startswith(b"ID3"):
        return _audio("audio/mpeg")
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return _audio("audio/x-aiff")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _by_matroska(head, ext)
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        if ext == ".wma":
            return _audio("audio/x-ms-wma")
        return _video("video/x-ms-wmv")
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return _video("video/mpeg")

    return _by_sync(head, ext, 0)


def _by_ogg(head: bytes, ext: str) -> FileKind:
    if ext == ".ogv" or b"\x80theora" in head:
        return _video("video/ogg")
    return _audio("audio/ogg")


def _by_matroska(head: bytes, ext: str) -> FileKind:
    if ext == ".mka":
        return _audio("audio/x-matroska")
    if b"webm" in head[:64]:
        return _video("video/webm")
    return _video("video/x-matroska")


def _by_sync(data: bytes, ext: str, start: int) -> FileKind | None:
    """Transport streams and MPEG/ADTS audio recognised by their packet sync."""
    if _packets_at(data, start, 188):
        return _video("video/mp2t")
    if _packets_at(data, start + 4, 192):
        return _video("video/m2ts")

    if (
        len(data) >= start + 2
        and data[start] == 0xFF
        and data[start + 1] & 0xE0 == 0xE0
    ):
        layer = (data[start + 1] >> 1) & 0x03
        if layer != 0:
            return _audio("audio/mpeg")
        return _audio("audio/aac")
    return None


def _packets_at(data: bytes, start: int, size: int) -> bool:
    """Three sync bytes 0x47 in a row, `size` bytes apart, starting at `start`."""
    positions = [start + i * size for i in range(3)]
    return positions[-1] < len(data) and all(data[p] == 0x47 for p in positions)


def _by_sync_search(data: bytes, ext: str) -> FileKind | None:
    for start in range(min(len(data), SYNC_SEARCH_BYTES - 400)):
        if data[start] in (0x47, 0xFF) or data[start + 4 : start + 5] == b"\x47":
            kind = _by_sync(data, ext, start)
            if kind is not None and _matches_extension(kind, ext):
                return kind
    return None


def _matches_extension(kind: FileKind, ext: str) -> bool:
    if ext in {".mp3", ".aac"}:
        return kind.asset_type == "AUDIO"
    return kind.asset_type == "VIDEO"


def _unsupported_reason(head: bytes, ext: str) -> str:
    name = f"the name ends in {ext}" if ext else "the name has no extension"
    for magic, label in FOREIGN_MAGIC:
        if head.lstrip()[: len(magic)].lower() == magic.lower():
            return f"not a photo, video or audio file: content is {label} but {name}"
    return (
        f"unrecognised content: not a supported photo, video or audio format ({name})"
    )

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from lumilio.media import frames, thumbnails
from lumilio.media.errors import MediaError
from lumilio.media.kinds import sniff
from lumilio.media.metadata import MetadataReader
from lumilio.media.thumbnails import THUMBNAIL_SIZES, render_thumbnails

# Mean absolute difference (0-255) under which two thumbnails show the same view.
# Re-encoded copies of one picture differ by about 5; a wrong turn by over 40.
SAME_VIEW = 12.0


def render(
    path: Path,
    folder: Path,
    sizes: tuple[str, ...] = ("small",),
    reader: MetadataReader | None = None,
) -> tuple[tuple[int, int], dict]:
    targets = {name: folder / f"{path.stem}-{name}.webp" for name in sizes}
    source = render_thumbnails(path, sniff(path), targets, reader=reader)
    return source, {name: Image.open(target) for name, target in targets.items()}


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def difference(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    return float(np.abs(pixels(a) - pixels(b)).mean())


def sky_above(image: Image.Image) -> float:
    """How much brighter the top quarter is than the bottom quarter."""
    grey = np.asarray(image.convert("L"), dtype=np.float64)
    quarter = grey.shape[0] // 4
    return float(grey[:quarter].mean() - grey[-quarter:].mean())


def test_three_sizes_are_written_shrunk_and_never_enlarged(
    media: Path, tmp_path: Path
) -> None:
    source, out = render(
        media / "livephoto/train.jpg", tmp_path, ("small", "medium", "large")
    )
    _, tiny = render(media / "jpeg/Canon_40D.jpg", tmp_path, ("large",))

    assert source == (4032, 3024)
    assert {name: image.size for name, image in out.items()} == {
        "small": (400, 300),
        "medium": (800, 600),
        "large": (1920, 1440),
    }
    assert all(image.format == "WEBP" for image in out.values())
    assert tiny["large"].size == (100, 68)


def test_output_carries_no_metadata(media: Path, tmp_path: Path) -> None:
    render(media / "jpeg/Iceland-P3.jpg", tmp_path, ("small",))  # EXIF, XMP, P3 ICC

    data = (tmp_path / "Iceland-P3-small.webp").read_bytes()
    chunks, offset = set(), 12
    while offset + 8 <= len(data):
        name, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        chunks.add(name)
        offset += 8 + size + (size & 1)
    assert chunks.isdisjoint({b"EXIF", b"ICCP", b"XMP "})
    assert chunks & {b"VP8 ", b"VP8L", b"VP8X"}


def test_wide_gamut_colours_are_converted_before_the_profile_is_dropped(
    media: Path,
) -> None:
    with Image.open(media / "jpeg/Iceland-P3.jpg") as image:
        image.load()
        profile = image.info["icc_profile"]
        converted = thumbnails.to_srgb(image.convert("RGB"), profile)
        plain = image.convert("RGB")

    # Display P3 values read as sRGB look dull; converting spreads them out.
    assert difference(converted, plain) > 1.0
    assert pixels(converted).std() > pixels(plain).std()


def test_writes_are_atomic_and_leave_nothing_behind_on_failure(
    media: Path, tmp_path: Path
) -> None:
    render(media / "jpeg/Canon_40D.jpg", tmp_path, ("small", "medium"))
    with pytest.raises(MediaError):
        render(media / "edge/broken.jpg", tmp_path, ("small",))

    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["Canon_40D-medium.webp", "Canon_40D-small.webp"]


def test_unknown_size_name_is_a_programming_error(media: Path, tmp_path: Path) -> None:
    path = media / "jpeg/Canon_40D.jpg"

    with pytest.raises(ValueError, match="huge"):
        render_thumbnails(path, sniff(path), {"huge": tmp_path / "x.webp"})


def test_all_eight_exif_orientations_come_out_upright(
    media: Path, tmp_path: Path
) -> None:
    folder = media / "jpeg/orientation"
    _, reference = render(folder / "landscape_1.jpg", tmp_path)

    for number in range(2, 9):
        source, out = render(folder / f"landscape_{number}.jpg", tmp_path)
        assert source == (600, 450), number
        assert difference(out["small"], reference["small"]) < SAME_VIEW, number

    # The comparison does tell views apart: a mirrored copy is far off.
    mirrored = reference["small"].transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert difference(mirrored, reference["small"]) > 3 * SAME_VIEW


def test_heic_turned_by_container_and_exif_is_turned_once(
    media: Path, tmp_path: Path
) -> None:
    path = media / "heic/classic-car.heic"  # irot 270 and EXIF 6 describe one turn

    source, out = render(path, tmp_path)
    heif = pillow_heif.open_heif(path)
    spec_rendering = heif[heif.primary_index].to_pillow().convert("RGB")
    spec_rendering.thumbnail(out["small"].size)

    assert source == (3024, 4032)
    assert out["small"].size == (300, 400)
    assert difference(out["small"], spec_rendering) < SAME_VIEW
    assert sky_above(out["small"]) > 50


@pytest.mark.parametrize(
    ("relative", "size"),
    [
        ("heic/iphone_7.heic", (300, 400)),  # EXIF 6 without irot
        ("heic/HMD_Nokia_8.3_5G.heif", (400, 300)),  # irot 270 contradicted by EXIF 1
    ],
)
def test_heic_orientation_follows_exif_when_the_container_disagrees(
    media: Path, tmp_path: Path, relative: str, size: tuple[int, int]
) -> None:
    _, out = render(media / relative, tmp_path)
    image = out["small"]

    assert image.size == size
    # The sky is at the top only when the picture is upright.
    turned = [
        image.transpose(t)
        for t in (
            Image.Transpose.ROTATE_90,
            Image.Transpose.ROTATE_180,
            Image.Transpose.ROTATE_270,
        )
    ]
    assert sky_above(image) > 20
    assert sky_above(image) > max(sky_above(other) for other in turned)


@pytest.mark.parametrize(
    ("relative", "size"),
    [
        ("video/mp42-hvc1.mp4", (219, 400)),  # stored portrait
        ("video/quicktime-hvc1.mov", (225, 400)),  # stored landscape, rotation 90
        ("video/with-gps.mov", (225, 400)),
        ("livephoto/train.mov", (400, 300)),
    ],
)
def test_video_frames_are_displayed_the_way_they_were_filmed(
    media: Path, tmp_path: Path, relative: str, size: tuple[int, int]
) -> None:
    source, out = render(media / relative, tmp_path)

    assert out["small"].size == size
    assert (source[0] < source[1]) == (size[0] < size[1])


def test_short_transport_stream_still_gives_a_frame(
    media: Path, tmp_path: Path
) -> None:
    source, out = render(media / "video/Sony_ILCE-7M3.mts", tmp_path)

    assert source == (1920, 1080)
    assert pixels(out["small"]).std() > 10  # a picture, not a flat grey smear


def test_audio_without_cover_gets_the_placeholder(media: Path, tmp_path: Path) -> None:
    # silence-44-s.flac carries a 1x1 pixel "cover": no picture worth showing.
    for relative in ("audio/silence-44-s.mp3", "audio/silence-44-s.flac"):
        source, out = render(media / relative, tmp_path)

        assert source == (frames.PLACEHOLDER_SIDE, frames.PLACEHOLDER_SIDE)
        assert difference(out["small"], frames.placeholder().resize((400, 400))) < 3


def test_audio_cover_art_is_used(tmp_path: Path) -> None:
    import av

    song = tmp_path / "song.mp3"
    cover = Image.new("RGB", (64, 48), (200, 30, 30))
    buffer = tmp_path / "cover.png"
    cover.save(buffer)
    with av.open(str(song), "w", format="mp3") as out:
        audio = out.add_stream("mp3", rate=44100)
        for frame in _silence(audio):
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode(None):
            out.mux(packet)
    _attach_cover(song, buffer.read_bytes())

    source, out_images = render(song, tmp_path)

    assert source == (64, 48)
    assert out_images["small"].getpixel((10, 10))[0] > 150


def _silence(stream):
    import av

    for _ in range(10):
        frame = av.AudioFrame(format="s16p", layout="mono", samples=1152)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 44100
        yield frame


def _attach_cover(song: Path, png: bytes) -> None:
    """Prepend an ID3v2.3 tag with an APIC frame holding `png`."""
    body = b"\x00image/png\x00\x03\x00" + png
    frame = b"APIC" + struct.pack(">I", len(body)) + b"\x00\x00" + body
    size = len(frame)
    syncsafe = bytes(
        [(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F]
    )
    song.write_bytes(b"ID3\x03\x00\x00" + syncsafe + frame + song.read_bytes())


def test_animated_images_give_their_first_frame(media: Path, tmp_path: Path) -> None:
    path = media / "png-webp-gif/animated.gif"
    with Image.open(path) as gif:
        first = gif.convert("RGB")
        first.thumbnail((400, 400))

    source, out = render(path, tmp_path)

    assert source == (1917, 1533)
    assert difference(out["small"], first) < SAME_VIEW


@pytest.mark.parametrize(
    "relative",
    [
        "png-webp-gif/8bit-sRGB.avif",
        "png-webp-gif/8bit-sRGB.jxl",
        "png-webp-gif/BSG1.tiff",
        "png-webp-gif/Alpha_Lossless.webp",
        "png-webp-gif/Nikon_Coolpix_P7000.webp",
        "png-webp-gif/screenshot.png",
    ],
)
def test_other_photo_formats_render(media: Path, tmp_path: Path, relative: str) -> None:
    source, out = render(media / relative, tmp_path)

    assert max(out["small"].size) == min(400, max(source))


def test_webp_with_exif_orientation_is_turned(media: Path, tmp_path: Path) -> None:
    source, out = render(media / "png-webp-gif/Nikon_Coolpix_P7000.webp", tmp_path)

    assert source == (2736, 3648)
    assert out["small"].size == (300, 400)


def test_raw_uses_its_embedded_preview_or_sensor_data(
    media: Path, tmp_path: Path, exiftool_reader: MetadataReader
) -> None:
    dng_source, dng = render(media / "raw/canon_eos_6d.dng", tmp_path)
    cr3_source, cr3 = render(
        media / "raw/Canon-R6-pruned.CR3", tmp_path, reader=exiftool_reader
    )

    assert dng_source == (1224, 816) and dng["small"].size == (400, 267)
    assert pixels(dng["small"]).std() > 10
    # The pruned CR3 has no sensor data; exiftool finds its 1620x1080 preview.
    assert cr3_source == (3584, 2386) and cr3["small"].size == (400, 267)


@pytest.mark.parametrize(
    "relative",
    [
        "raw/IMG_1361.dng",
        "raw/exiftool-stub/CanonRaw.cr2",
        "raw/exiftool-stub/Panasonic.rw2",
        "raw/exiftool-stub/Nikon.nef",
    ],
)
def test_raw_without_pixels_is_reported(
    media: Path, tmp_path: Path, relative: str, exiftool_reader: MetadataReader
) -> None:
    with pytest.raises(MediaError, match=r"^RAW file has no pixel data$"):
        render(media / relative, tmp_path, reader=exiftool_reader)


def test_decompression_bombs_stay_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    header = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)
    bomb.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )

    with pytest.raises(MediaError, match=r"^image too large"):
        render(bomb, tmp_path)


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def test_edge_files_render_or_say_why(
    media: Path, tmp_path: Path, edge_file: str
) -> None:
    path = media / edge_file
    try:
        source, out = render(path, tmp_path, ("small", "medium"))
    except MediaError as error:
        assert str(error)
        return

    assert min(source) > 0
    assert max(out["medium"].size) == min(THUMBNAIL_SIZES["medium"], max(source))
    assert out["small"].size[0] <= out["medium"].size[0]


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("edge/broken.jpg", "^truncated JPEG"),
        ("edge/fuzzed-NullPointerException.heif", "^cannot decode HEIF"),
        ("edge/corrupted.heic", "^cannot decode HEIF"),
    ],
)
def test_broken_files_are_reported_with_their_reason(
    media: Path, tmp_path: Path, relative: str, reason: str
) -> None:
    with pytest.raises(MediaError, match=reason):
        render(media / relative, tmp_path)

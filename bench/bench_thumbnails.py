"""Time thumbnail rendering: resampling filters, WebP effort, and each file family.

Usage: python bench/bench_thumbnails.py [--repeat N] [--media FOLDER]

The media folder defaults to $LUMILIO_SHARED/media, else the `shared/media` folder
beside the repository. A 12.2 MP JPEG (4032x3024, like a phone photo) is built by
scaling up a corpus JPEG, so the numbers do not depend on one unusual file.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lumilio.media import stills, thumbnails
from lumilio.media.errors import MediaError
from lumilio.media.kinds import is_supported_name, sniff
from lumilio.media.metadata import MetadataReader

R = Image.Resampling
FILTERS: dict[str, tuple[Image.Resampling, float | None]] = {
    "bilinear": (R.BILINEAR, None),
    "bicubic": (R.BICUBIC, None),
    "lanczos": (R.LANCZOS, None),
    # reducing_gap=1 makes Pillow box-reduce by the integer part of the ratio first.
    "reduce()+bilinear": (R.BILINEAR, 1.0),
    "reduce()+bicubic": (R.BICUBIC, 1.0),
}
CPU = time.process_time
SIZES = sorted(thumbnails.THUMBNAIL_SIZES.values(), reverse=True)
PHONE_SIZE = (4032, 3024)
SEED_PHOTO = "jpeg/Apple_iPhone_6.jpg"


def default_media() -> Path:
    shared = os.environ.get("LUMILIO_SHARED")
    if shared:
        return Path(shared) / "media"
    return Path(__file__).resolve().parents[1].parent / "shared" / "media"


def timed(
    action: Callable[[], object],
    repeat: int,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Fastest of `repeat` runs after one warm-up run, in seconds of `clock`.

    The fastest run is the one least disturbed by other work on the machine. The
    filter and WebP comparisons use the process's CPU time: those steps run on one
    thread, so CPU time compares them fairly even on a shared, busy host.
    """
    action()
    runs = []
    for _ in range(repeat):
        start = clock()
        action()
        runs.append(clock() - start)
    return min(runs)


def psnr(a: Image.Image, b: Image.Image) -> float:
    left = np.asarray(a.convert("RGB"), dtype=np.float64)
    right = np.asarray(b.convert("RGB").resize(a.size), dtype=np.float64)
    mse = float(((left - right) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def build_phone_jpeg(media: Path, folder: Path) -> Path:
    with Image.open(media / SEED_PHOTO) as seed:
        big = seed.convert("RGB").resize(PHONE_SIZE, R.LANCZOS)
    target = folder / "phone-12mp.jpg"
    big.save(target, "JPEG", quality=92)
    return target


def draft_decode(path: Path) -> Image.Image:
    image = Image.open(path)
    request = stills.draft_request(image.size, SIZES[0])
    if request:
        image.draft("RGB", request)
    image.load()
    return image


def bench_filters(photo: Path, repeat: int) -> None:
    print(
        f"\n== resampling, 3 sizes from a {PHONE_SIZE[0]}x{PHONE_SIZE[1]} JPEG "
        f"(decode with draft + resize; encode excluded; CPU ms)"
    )
    with Image.open(photo) as full:
        reference = full.convert("RGB").resize(
            _fit(full.size, SIZES[-1]), R.LANCZOS, reducing_gap=None
        )

    decode_s = timed(lambda: draft_decode(photo), repeat, CPU)
    print(f"{'draft decode':20s} {decode_s * 1000:7.1f} ms")
    for name, (resample, gap) in FILTERS.items():

        def chain(
            resample: Image.Resampling = resample, gap: float | None = gap
        ) -> Image.Image:
            image = draft_decode(photo)
            for side in SIZES:
                image = thumbnails.scale_down(image, side, resample, gap)
            return image

        seconds = timed(chain, repeat, CPU)
        quality = psnr(reference, chain())
        marker = (
            "  <- in use"
            if (resample, gap) == (thumbnails.RESAMPLE, thumbnails.REDUCING_GAP)
            else ""
        )
        print(
            f"{name:20s} {seconds * 1000:7.1f} ms   small vs full-decode "
            f"Lanczos: PSNR {quality:5.2f} dB{marker}"
        )


def bench_webp(photo: Path, repeat: int) -> None:
    print("\n== WebP quality 80 by method, 3 sizes (encode only; CPU ms)")
    image = draft_decode(photo)
    chain = []
    for side in SIZES:
        image = thumbnails.scale_down(image, side)
        chain.append(image)

    for method in (6, 4, 3, 2, 1, 0):

        def encode(method: int = method) -> list[bytes]:
            out = []
            for picture in chain:
                buffer = io.BytesIO()
                picture.save(
                    buffer, "WEBP", quality=thumbnails.WEBP_QUALITY, method=method
                )
                out.append(buffer.getvalue())
            return out

        seconds = timed(encode, repeat, CPU)
        encoded = encode()
        size_kib = sum(len(data) for data in encoded) / 1024
        quality = psnr(chain[0], Image.open(io.BytesIO(encoded[0])))
        marker = "  <- in use" if method == thumbnails.WEBP_METHOD else ""
        print(
            f"method {method}: {seconds * 1000:7.1f} ms  {size_kib:7.1f} KiB  "
            f"large PSNR {quality:5.2f} dB{marker}"
        )


def bench_families(media: Path, photo: Path, repeat: int, folder: Path) -> None:
    print("\n== render_thumbnails per family (3 sizes, WebP written), wall ms per file")
    corpus = sorted(
        p for p in media.rglob("*") if p.is_file() and is_supported_name(p.name)
    )
    files = [photo, *corpus]
    timings: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, int] = defaultdict(int)
    with MetadataReader() as reader:
        for path in files:
            kind = sniff(path) if path.stat().st_size else None
            if kind is None:
                continue
            family = "jpeg 12MP" if path == photo else kind.family
            targets = {
                name: folder / f"{name}.webp" for name in thumbnails.THUMBNAIL_SIZES
            }
            try:
                render = partial(
                    thumbnails.render_thumbnails, path, kind, targets, reader=reader
                )
                seconds = timed(render, max(1, repeat // 2))
            except MediaError:
                failures[family] += 1
                continue
            timings[family].append(seconds)

    print(
        f"{'family':10s} {'files':>5s} {'median':>8s} {'max':>8s} {'MediaError':>10s}"
    )
    # Per file the fastest run counts; across files the median and the worst.
    for family in sorted(set(timings) | set(failures)):
        runs = timings.get(family, [])
        median = statistics.median(runs) * 1000 if runs else float("nan")
        worst = max(runs) * 1000 if runs else float("nan")
        print(
            f"{family:10s} {len(runs):5d} {median:8.1f} {worst:8.1f} "
            f"{failures.get(family, 0):10d}"
        )


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    scale = side / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--media", type=Path, default=default_media())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo = build_phone_jpeg(args.media, folder)
        bench_filters(photo, args.repeat)
        bench_webp(photo, args.repeat)
        bench_families(args.media, photo, args.repeat, folder)


if __name__ == "__main__":
    main()

"""Measure perceptual-hash distances that decide what counts as a duplicate picture.

Usage: python bench/measure_phash.py [--media FOLDER] [--pairs N]

Every still picture of the shared media is rendered the way the pipeline renders
its small thumbnail, then compared with:

- the same picture saved again (half size, JPEG quality 60): must match;
- every other picture of the corpus: must not match;
- traps that must not match: frames of the corpus videos taken 0.2 s to 1 s apart
  (bursts), crops of each picture (an edit with another crop), nearly flat pictures
  (black, white, a photo darkened or washed out), and screenshots of one app drawn
  with different content.

It prints, per kind of pair, the distribution of the 64-bit pHash distance, of the
thumbprint difference, and how many pairs the rule of
`lumilio.services.duplicate_graph` would join. The README's "Duplicates" section
records one run.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import random
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lumilio.media import fingerprint, thumbnails
from lumilio.media.errors import MediaError
from lumilio.media.kinds import sniff
from lumilio.services import duplicate_graph

SMALL = thumbnails.THUMBNAIL_SIZES["small"]
STILL_FOLDERS = ("jpeg", "heic", "png-webp-gif", "raw", "livephoto", "edge")


def default_media() -> Path:
    shared = os.environ.get("LUMILIO_SHARED")
    if shared:
        return Path(shared) / "media"
    return Path(__file__).resolve().parents[2] / "shared" / "media"


def as_thumbnail(image: Image.Image) -> Image.Image:
    """What the pipeline stores as the small thumbnail, decoded again."""
    small = thumbnails.scale_down(image.convert("RGB"), SMALL)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "small.webp"
        thumbnails.write_webp(small, target)
        with Image.open(target) as decoded:
            decoded.load()
            return decoded.copy()


def saved_again(image: Image.Image) -> Image.Image:
    half = image.convert("RGB").resize((max(1, image.width // 2),
                                        max(1, image.height // 2)))
    buffer = io.BytesIO()
    half.save(buffer, "JPEG", quality=60)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def corpus_pictures(media: Path) -> dict[str, Image.Image]:
    found = {}
    for folder in STILL_FOLDERS:
        for path in sorted((media / folder).rglob("*")):
            if not path.is_file():
                continue
            try:
                kind = sniff(path)
                if kind.asset_type != "PHOTO":
                    continue
                picture = thumbnails.load_picture(path, kind, 800)
            except (MediaError, OSError):
                continue
            found[str(path.relative_to(media))] = picture.image.convert("RGB")
    return found


def video_bursts(media: Path) -> list[tuple[str, Image.Image, Image.Image]]:
    """Pairs of frames 0.2 s, 0.5 s and 1 s apart from each corpus video."""
    pairs = []
    for path in sorted((media / "video").iterdir()) + [media / "livephoto/train.mov"]:
        frames = []
        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                for frame in container.decode(stream):
                    if frame.time is None:
                        continue
                    frames.append((frame.time, frame.to_image()))
                    if frame.time > 3:
                        break
        except (av.error.FFmpegError, IndexError):
            continue
        for gap in (0.2, 0.5, 1.0):
            start = frames[min(3, len(frames) - 1)] if frames else None
            later = [f for f in frames if start and f[0] >= start[0] + gap]
            if start and later:
                pairs.append((f"{path.name}+{gap}s", start[1], later[0][1]))
    return pairs


def crops(image: Image.Image) -> list[Image.Image]:
    """An edit with another crop: the centre, a square, the left three quarters."""
    w, h = image.size
    side = min(w, h)
    return [
        image.crop((w // 12, h // 12, w - w // 12, h - h // 12)),
        image.crop(((w - side) // 2, (h - side) // 2,
                    (w + side) // 2, (h + side) // 2)),
        image.crop((0, 0, w * 3 // 4, h)),
    ]


def flat_pictures(pictures: list[Image.Image]) -> list[Image.Image]:
    out = [Image.new("RGB", (800, 600), (0, 0, 0)),
           Image.new("RGB", (800, 600), (255, 255, 255)),
           Image.new("RGB", (600, 800), (8, 8, 10))]
    for image in pictures:
        out.append(image.point(lambda v: v * 4 // 100))         # nearly black
        out.append(image.point(lambda v: 245 + v * 4 // 100))   # nearly white
    return out


def screenshots(count: int, seed: int = 7) -> list[Image.Image]:
    """Phone screenshots of one chat app: same chrome, different messages."""
    rng = random.Random(seed)
    font = ImageFont.load_default(size=34)
    words = ("lunch tomorrow photos from the trip see you at eight the train is "
             "late call me back sounds good where are you thanks a lot").split()
    shots = []
    for _ in range(count):
        image = Image.new("RGB", (1170, 2532), (246, 246, 248))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, 1170, 250), fill=(240, 240, 242))
        draw.text((470, 150), "Family", fill=(20, 20, 20), font=font)
        draw.rectangle((0, 2330, 1170, 2532), fill=(240, 240, 242))
        draw.rounded_rectangle((120, 2380, 1050, 2470), 40, outline=(200, 200, 200))
        y = 300
        while y < 2250:
            mine = rng.random() < 0.5
            lines = rng.randint(1, 3)
            height = 40 + 48 * lines
            width = rng.randint(300, 800)
            x = 1170 - 40 - width if mine else 40
            draw.rounded_rectangle((x, y, x + width, y + height), 36,
                                   fill=(10, 132, 255) if mine else (229, 229, 234))
            for line in range(lines):
                text = " ".join(rng.choice(words) for _ in range(4))
                draw.text((x + 30, y + 20 + 48 * line), text, font=font,
                          fill=(255, 255, 255) if mine else (0, 0, 0))
            y += height + rng.randint(20, 60)
        shots.append(image)
    return shots


def _quantiles(values: list) -> list:
    return statistics.quantiles(values, n=20) if len(values) > 1 else values * 19


def report(label: str, rows: list[tuple[fingerprint.Fingerprint,
                                         fingerprint.Fingerprint]]) -> None:
    coarse = [fingerprint.distance(a.phash, b.phash) for a, b in rows]
    detail = [fingerprint.difference(a.thumbprint, b.thumbprint) for a, b in rows]
    joined = sum(1 for a, b in rows if duplicate_graph.similar(a, b) is not None)
    c, d = _quantiles(coarse), _quantiles(detail)
    print(f"{label:<26} {len(rows):>5} | pHash min {min(coarse):>2} p5 {c[0]:>4.1f}"
          f" median {statistics.median(coarse):>4.1f} max {max(coarse):>2}"
          f" | thumbprint min {min(detail):.3f} p5 {d[0]:.3f}"
          f" p95 {d[-1]:.3f} max {max(detail):.3f} | joined {joined}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=default_media())
    args = parser.parse_args()

    pictures = corpus_pictures(args.media)
    prints = {name: fingerprint.of_image(as_thumbnail(img))
              for name, img in pictures.items()}
    print(f"{len(prints)} corpus pictures")

    rows: dict[str, list] = defaultdict(list)
    for name, image in pictures.items():
        # Halving a picture of 100 pixels leaves little of it: reported apart.
        label = ("saved again" if min(image.size) >= 300
                 else "saved again (under 300 px)")
        rows[label].append(
            (prints[name], fingerprint.of_image(as_thumbnail(saved_again(image)))))
        for cropped in crops(image):
            if cropped.size == image.size:
                continue
            rows["crop of the picture"].append(
                (prints[name], fingerprint.of_image(as_thumbnail(cropped))))

    closest = []
    for (na, a), (nb, b) in itertools.combinations(prints.items(), 2):
        rows["two corpus pictures"].append((a, b))
        closest.append((fingerprint.distance(a.phash, b.phash), na, nb,
                        duplicate_graph.similar(a, b)))

    for _, first, second in video_bursts(args.media):
        rows["burst (video frames)"].append(
            (fingerprint.of_image(as_thumbnail(first)),
             fingerprint.of_image(as_thumbnail(second))))

    flats = [fingerprint.of_image(as_thumbnail(img))
             for img in flat_pictures(list(pictures.values())[:20])]
    rows["flat pictures"] = list(itertools.combinations(flats, 2))

    shots = [fingerprint.of_image(as_thumbnail(img)) for img in screenshots(8)]
    rows["screenshots of one app"] = list(itertools.combinations(shots, 2))

    for label, pairs in rows.items():
        report(label, pairs)

    print("\nclosest corpus pairs (pHash distance, joined?):")
    for dist, na, nb, verdict in sorted(closest)[:25]:
        print(f"  {dist:>2} {'      ' if verdict is None else 'JOINED'} {na}  ~  {nb}")
    print("\nspread of flat pictures: max",
          max(f.spread for f in flats[3:]), "; of corpus pictures: min",
          min(p.spread for p in prints.values()))


if __name__ == "__main__":
    main()

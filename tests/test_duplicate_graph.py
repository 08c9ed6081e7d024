"""Which pictures count as the same: fingerprints of real media and the graph rules.

Pictures go through the pipeline's own thumbnail code, so the fingerprints are the
ones detection sees. The thresholds themselves are measured by
bench/measure_phash.py on the whole corpus (see the README).
"""

from __future__ import annotations

import random
from pathlib import Path

import av
import pytest
from PIL import Image, ImageDraw, ImageFont

from serverkit import MEDIA
from lumilio.media import fingerprint, thumbnails
from lumilio.media.fingerprint import Fingerprint
from lumilio.media.kinds import sniff
from lumilio.services import duplicate_graph
from lumilio.services.duplicate_graph import Candidate


@pytest.fixture
def look(tmp_path):
    """The fingerprint of a picture (a path or an image), via a small thumbnail."""
    made = []

    def fingerprint_of(source: Path | Image.Image) -> Fingerprint:
        if isinstance(source, Path):
            source = thumbnails.load_picture(source, sniff(source), 800).image
        small = thumbnails.scale_down(source.convert("RGB"),
                                      thumbnails.THUMBNAIL_SIZES["small"])
        target = tmp_path / f"small-{len(made)}.webp"
        thumbnails.write_webp(small, target)
        made.append(target)
        return fingerprint.of_file(target)

    return fingerprint_of


def saved_again(path: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"again-{path.name}"
    with Image.open(path) as image:
        image.resize((image.width // 2, image.height // 2)).save(
            target, "JPEG", quality=60)
    return target


def frames(video: Path, times: list[float]) -> list[Image.Image]:
    found = []
    with av.open(str(video)) as container:
        for frame in container.decode(container.streams.video[0]):
            if len(found) < len(times) and frame.time >= times[len(found)]:
                found.append(frame.to_image())
    return found


def chat_screenshot(seed: int) -> Image.Image:
    """A phone screenshot of one chat app: the same bars, other messages."""
    rng = random.Random(seed)
    font = ImageFont.load_default(size=34)
    image = Image.new("RGB", (1170, 2532), (246, 246, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1170, 250), fill=(240, 240, 242))
    draw.rectangle((0, 2330, 1170, 2532), fill=(240, 240, 242))
    y = 300
    while y < 2250:
        width, mine = rng.randint(300, 800), rng.random() < 0.5
        x = 1130 - width if mine else 40
        draw.rounded_rectangle((x, y, x + width, y + 100), 36,
                               fill=(10, 132, 255) if mine else (229, 229, 234))
        draw.text((x + 30, y + 30), f"message {rng.randint(0, 10**6)}", font=font,
                  fill=(255, 255, 255) if mine else (0, 0, 0))
        y += 100 + rng.randint(20, 60)
    return image


@pytest.mark.parametrize("name", ["ship.jpg", "ladybug.jpg", "Iceland-P3.jpg"])
def test_a_picture_saved_again_matches(look, tmp_path, name):
    original = MEDIA / "jpeg" / name
    assert duplicate_graph.similar(look(original),
                                   look(saved_again(original, tmp_path))) is not None


def test_one_picture_with_another_orientation_flag_matches(look):
    # The same pixels turned by the file's orientation tag look the same once shown.
    folder = MEDIA / "jpeg/orientation"
    assert duplicate_graph.similar(look(folder / "landscape_3.jpg"),
                                   look(folder / "landscape_6.jpg")) is not None


def test_frames_of_a_burst_do_not_match(look):
    first, second = (look(f) for f in frames(MEDIA / "livephoto/train.mov",
                                             [0.1, 0.3]))
    # They share the coarse hash: only the thumbprint tells them apart.
    assert fingerprint.distance(first.phash, second.phash) <= \
        duplicate_graph.PHASH_MAX_DISTANCE
    assert duplicate_graph.similar(first, second) is None


def test_an_edit_with_another_crop_does_not_match(look):
    assert duplicate_graph.similar(look(MEDIA / "jpeg/IMG_4120.JPG"),
                                   look(MEDIA / "jpeg/IMG_E4120.JPG")) is None
    with Image.open(MEDIA / "jpeg/ladybug.jpg") as image:
        w, h = image.size
        centre = image.crop((w // 12, h // 12, w - w // 12, h - h // 12))
        assert duplicate_graph.similar(look(image), look(centre)) is None


def test_nearly_flat_pictures_do_not_match(look):
    dark = []
    for name in ("ship.jpg", "ladybug.jpg"):
        with Image.open(MEDIA / "jpeg" / name) as image:
            dark.append(look(image.point(lambda v: v * 4 // 100)))
    black = look(Image.new("RGB", (640, 480)))
    other_black = look(Image.new("RGB", (800, 600), (3, 3, 3)))
    white = look(Image.new("RGB", (640, 480), (255, 255, 255)))

    # The collision the guard is for: flat pictures share (nearly) one hash.
    assert fingerprint.distance(black.phash, other_black.phash) <= \
        duplicate_graph.PHASH_MAX_DISTANCE
    for a, b in [(black, other_black), (black, white), (dark[0], dark[1]),
                 (dark[0], black)]:
        assert duplicate_graph.similar(a, b) is None


def test_screenshots_of_one_app_do_not_match(look):
    shots = [look(chat_screenshot(seed)) for seed in range(3)]
    assert duplicate_graph.similar(shots[0], shots[1]) is None
    assert duplicate_graph.similar(shots[1], shots[2]) is None


def _print(phash: int) -> Fingerprint:
    # One rich thumbprint for all: only the hash decides.
    return Fingerprint(f"{phash:016x}", bytes(i * 7 % 256 for i in range(576)), 1.5,
                       60.0)


def test_band_search_finds_every_pair_within_the_distance():
    rng = random.Random(3)
    hashes = [rng.getrandbits(64) for _ in range(300)]
    for distance in range(8):
        bits = rng.sample(range(64), distance)
        hashes.append(hashes[distance] ^ sum(1 << b for b in bits))
    candidates = [Candidate(f"a{i:04}", None, 1, _print(h))
                  for i, h in enumerate(hashes)]

    groups = duplicate_graph.build(candidates)
    found = {(e.asset_id_a, e.asset_id_b) for g in groups for e in g.edges}
    expected = {(a.asset_id, b.asset_id) for i, a in enumerate(candidates)
                for b in candidates[i + 1:]
                if fingerprint.distance(a.fingerprint.phash, b.fingerprint.phash)
                <= duplicate_graph.PHASH_MAX_DISTANCE}
    assert found == expected
    assert len(expected) >= 7  # the planted pairs at distance 0 to 6


def test_stacks_and_decisions_limit_the_evidence():
    copy, look, close = (_print(h) for h in (0x0F0F0F0F0F0F0F0F, 0xF0F0F0F0F0F0F0F0,
                                             0xF0F0F0F0F0F0F0F1))
    candidates = [
        Candidate("copy-1", "h1", 10, copy, stack_id="s"),
        Candidate("copy-2", "h1", 10, copy, stack_id="s"),
        Candidate("look-1", "h2", 20, look, stack_id="t"),
        Candidate("look-2", "h3", 30, close, stack_id="t"),
    ]
    # Copies of one file are duplicates even inside a stack; look-alikes are not.
    assert [(g.asset_ids, g.method) for g in duplicate_graph.build(candidates)] == \
        [(["copy-1", "copy-2"], "exact")]

    unstacked = [Candidate(c.asset_id, c.content_hash, c.file_size, c.fingerprint)
                 for c in candidates]
    assert [(g.asset_ids, g.method) for g in duplicate_graph.build(unstacked)] == \
        [(["copy-1", "copy-2"], "exact"), (["look-1", "look-2"], "phash")]

    decided = duplicate_graph.build(unstacked, [("copy-2", "copy-1")])
    assert [g.asset_ids for g in decided] == [["look-1", "look-2"]]


def test_copies_and_look_alikes_together_make_a_mixed_group():
    same = _print(0x0123456789ABCDEF)
    candidates = [Candidate("x1", "h", 5, same), Candidate("x2", "h", 5, same),
                  Candidate("x3", "k", 9, same)]
    groups = duplicate_graph.build(candidates)
    assert [(g.asset_ids, g.method) for g in groups] == [(["x1", "x2", "x3"],
                                                           "mixed")]
    methods = sorted((e.method, e.confidence) for e in groups[0].edges)
    assert methods == [("exact", 1.0), ("phash", 1.0), ("phash", 1.0)]

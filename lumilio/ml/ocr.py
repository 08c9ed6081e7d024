"""Text in photos: PP-OCR's DB detector finds lines, its CTC recogniser reads them.

The detector answers a probability map of "text here" at its input size; each
connected region above `BINARY_THRESHOLD` whose mean probability reaches
`BOX_THRESHOLD` is a line, taken as its smallest enclosing rotated rectangle and
grown by the DB "unclip" rule (area x ratio / perimeter on each side). Each line is
cut out upright, 48 pixels high, and read by the recogniser; greedy CTC decoding
gives the characters and a confidence (their mean probability).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from lumilio.ml.manifest import ModelSpec
from lumilio.ml.runtime import Runtime

log = logging.getLogger(__name__)

MAX_SIDE = 960
BINARY_THRESHOLD = 0.3
BOX_THRESHOLD = 0.6
UNCLIP_RATIO = 1.5
LINE_HEIGHT = 48
MAX_LINE_WIDTH = 1600
MIN_CONFIDENCE = 0.5
REC_BATCH = 8
DET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
DET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float
    quad: np.ndarray  # 4 x 2 corners in image pixels, clockwise from top-left

    def box(self, width: int, height: int) -> dict:
        """Axis-aligned bounds, relative to the image size."""
        xs, ys = self.quad[:, 0], self.quad[:, 1]
        x1, y1 = max(0.0, xs.min()), max(0.0, ys.min())
        x2, y2 = min(float(width), xs.max()), min(float(height), ys.max())
        return {"x": x1 / width, "y": y1 / height, "width": (x2 - x1) / width,
                "height": (y2 - y1) / height}

    def area(self) -> float:
        p = self.quad
        return float(np.linalg.norm(p[1] - p[0]) * np.linalg.norm(p[3] - p[0]))


class TextReader:
    def __init__(self, runtime: Runtime, detector: ModelSpec, recogniser: ModelSpec):
        self.runtime = runtime
        self.detector = detector
        self.recogniser = recogniser
        self._alphabet: list[str] | None = None

    @property
    def model_id(self) -> str:
        return f"{self.detector.model_id}+{self.recogniser.model_id}"

    def alphabet(self) -> list[str]:
        if self._alphabet is None:
            text = self.recogniser.path("characters").read_text(encoding="utf-8")
            chars = text.split("\n")
            if chars and chars[-1] == "":
                chars.pop()
            # CTC blank first; the recogniser's last class is the space.
            self._alphabet = ["", *chars, " "]
        return self._alphabet

    def read(self, image: Image.Image) -> list[TextLine]:
        quads = self.detect(image)
        if not quads:
            return []
        lines = []
        for start in range(0, len(quads), REC_BATCH):
            chunk = quads[start:start + REC_BATCH]
            for quad, (text, confidence) in zip(chunk, self.recognise(image, chunk)):
                if text.strip() and confidence >= MIN_CONFIDENCE:
                    lines.append(TextLine(text.strip(), confidence, quad))
        # Reading order: rows from the top, then from the left.
        rows = max(8.0, float(np.median([_height(line.quad) for line in lines]))
                   if lines else 8.0)
        lines.sort(key=lambda line: (round(line.quad[:, 1].mean() / rows),
                                     line.quad[:, 0].min()))
        return lines

    def detect(self, image: Image.Image) -> list[np.ndarray]:
        w, h = image.size
        scale = min(1.0, MAX_SIDE / max(w, h))
        nw = max(32, round(w * scale / 32) * 32)
        nh = max(32, round(h * scale / 32) * 32)
        pixels = np.asarray(image.resize((nw, nh), Image.Resampling.BILINEAR),
                            dtype=np.float32)[:, :, ::-1] / 255.0
        blob = ((pixels - DET_MEAN) / DET_STD).transpose(2, 0, 1)[None].copy()
        with self.runtime.use(self.detector) as session:
            name = session.get_inputs()[0].name
            prob = session.run(None, {name: blob})[0][0, 0]

        from scipy import ndimage  # here, not at start: scipy costs ~40 MB idle

        regions, _ = ndimage.label(prob > BINARY_THRESHOLD)
        quads = []
        for number, area in enumerate(ndimage.find_objects(regions), start=1):
            mask = regions[area] == number
            if prob[area][mask].mean() < BOX_THRESHOLD or mask.sum() < 6:
                continue
            ys, xs = np.nonzero(mask)
            quad = _region_quad(xs + area[1].start, ys + area[0].start)
            if quad is not None:
                quad[:, 0] *= w / nw
                quad[:, 1] *= h / nh
                quads.append(quad)
        return quads

    def recognise(self, image: Image.Image,
                  quads: list[np.ndarray]) -> list[tuple[str, float]]:
        crops = [np.asarray(_upright(image, q), dtype=np.float32)[:, :, ::-1]
                 for q in quads]
        width = max(c.shape[1] for c in crops)
        batch = np.zeros((len(crops), 3, LINE_HEIGHT, width), dtype=np.float32)
        for i, c in enumerate(crops):
            batch[i, :, :, :c.shape[1]] = ((c / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
        with self.runtime.use(self.recogniser) as session:
            name = session.get_inputs()[0].name
            probs = session.run(None, {name: batch})[0]
        return [_ctc_decode(p, self.alphabet()) for p in probs]


def _region_quad(xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
    """The smallest rotated rectangle around a region's pixels, grown by unclip."""
    from scipy.spatial import ConvexHull, QhullError

    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    pts = np.concatenate([pts, pts + (1, 0), pts + (0, 1), pts + (1, 1)])
    try:
        hull = pts[ConvexHull(pts).vertices]
    except QhullError:
        return None

    best = None
    for i in range(len(hull)):
        edge = hull[(i + 1) % len(hull)] - hull[i]
        angle = math.atan2(edge[1], edge[0])
        c, s = math.cos(angle), math.sin(angle)
        rot = np.array([[c, s], [-s, c]])
        turned = hull @ rot.T
        low, high = turned.min(0), turned.max(0)
        size = float(np.prod(high - low))
        if best is None or size < best[0]:
            best = (size, rot, low, high)
    _, rot, low, high = best
    w, h = high - low
    if min(w, h) < 3:
        return None

    grow = w * h * UNCLIP_RATIO / (2 * (w + h))
    low, high = low - grow, high + grow
    corners = np.array([[low[0], low[1]], [high[0], low[1]], [high[0], high[1]],
                        [low[0], high[1]]]) @ rot
    return _clockwise_from_top_left(corners)


def _clockwise_from_top_left(quad: np.ndarray) -> np.ndarray:
    centre = quad.mean(0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    quad = quad[np.argsort(angles)]
    start = int(np.argmin(quad.sum(1)))
    return np.roll(quad, -start, axis=0)


def _height(quad: np.ndarray) -> float:
    return float(min(np.linalg.norm(quad[1] - quad[0]),
                     np.linalg.norm(quad[3] - quad[0])))


def _upright(image: Image.Image, quad: np.ndarray) -> Image.Image:
    """A line cut out and turned horizontal, LINE_HEIGHT pixels high."""
    p0, p1, _, p3 = quad
    across, down = np.linalg.norm(p1 - p0), np.linalg.norm(p3 - p0)
    if down > across * 1.5:
        # A vertical box: read it as turned a quarter clockwise.
        p0, p1, p3 = quad[3], quad[0], quad[2]
        across, down = down, across
    width = max(1, min(MAX_LINE_WIDTH, round(LINE_HEIGHT * across / max(down, 1))))
    step_x, step_y = (p1 - p0) / width, (p3 - p0) / LINE_HEIGHT
    data = (step_x[0], step_y[0], p0[0], step_x[1], step_y[1], p0[1])
    return image.transform((width, LINE_HEIGHT), Image.Transform.AFFINE, data,
                           Image.Resampling.BILINEAR)


def _ctc_decode(probs: np.ndarray, alphabet: list[str]) -> tuple[str, float]:
    best = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    chars, scores = [], []
    previous = -1
    for index, score in zip(best, confidence):
        if index != previous and index != 0 and index < len(alphabet):
            chars.append(alphabet[index])
            scores.append(float(score))
        previous = index
    return "".join(chars), (float(np.mean(scores)) if scores else 0.0)

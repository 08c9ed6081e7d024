"""Featured photos: a weighted, seeded, varied pick that stays the same all day.

Each candidate gets a weight from how recent, how good and how well described it is;
a weighted random sample without replacement (Efraimidis-Spirakis A-ES keys) then
ranks them, with the randomness taken from SHA-256 of "seed:asset_id" so that a seed
always gives the same pick. The ranking is then thinned so that no day, camera or
shape dominates, and topped up in rank order if the limits left slots empty.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from lumilio.auth.principal import Principal
from lumilio.catalog.db import loads
from lumilio.context import Context
from lumilio.services.asset_view import asset_dto
from lumilio.services.browse import build_filter
from lumilio.services.places import valid_position
from lumilio.timeutil import api, iso, now, now_iso, parse

log = logging.getLogger(__name__)

STRATEGY = "weighted_aes_v1"
HALF_LIFE_DAYS = 120.0
FULL_RESOLUTION_MP = 24.0
MAX_PER_DAY, MAX_PER_CAMERA, MAX_PER_SHAPE = 2, 3, 4
# Capture times that are only guesses (file dates, the moment of upload).
GUESSED_TIME_SOURCES = (None, "mtime", "upload")


@dataclass(frozen=True)
class Request:
    count: int = 8
    candidate_limit: int = 240
    days: int = 3650
    seed: str | None = None
    repository_id: str | None = None


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


def weight(row: dict, today: datetime) -> float:
    """How much a photo deserves to be featured, between 0.05 and 1."""
    taken = parse(row["sort_time"]) or today
    days_old = max(0.0, (today - taken).total_seconds() / 86400)
    recency = math.exp(-math.log(2) * days_old / HALF_LIFE_DAYS)

    pixels = (row["width"] or 0) * (row["height"] or 0)
    resolution = _clamp(pixels / 1e6 / FULL_RESOLUTION_MP)
    quality = (0.45 * (row["rating"] or 0) / 5 + 0.20 * (1 if row["liked"] else 0)
               + 0.35 * resolution)

    specific = loads(row["specific_metadata"], {}) or {}
    richness = _clamp(
        0.20 * (row["taken_source"] not in GUESSED_TIME_SOURCES)
        + 0.20 * bool(row["camera_model"])
        + 0.15 * bool(row["lens_model"])
        + 0.20 * valid_position(row["gps_latitude"], row["gps_longitude"])
        + 0.10 * bool(specific.get("exposure_time"))
        + 0.15 * bool(specific.get("f_number")))

    score = 0.45 * recency + 0.35 * quality + 0.20 * richness
    return 0.05 + 0.95 * _clamp(score)


def key(seed: str, asset_id: str, weight_value: float) -> float:
    digest = hashlib.sha256(f"{seed}:{asset_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / (2**64 - 1)
    u = _clamp(u, 1e-12, 1 - 1e-12)
    return -math.log(u) / weight_value


def shape(row: dict) -> str:
    width, height = row["width"] or 0, row["height"] or 0
    ratio = width / height if width and height else 1.0
    if ratio >= 1.2:
        return "landscape"
    if ratio <= 0.85:
        return "portrait"
    return "squareish"


def diversify(ranked: list[dict], count: int) -> list[dict]:
    days, cameras, shapes = Counter(), Counter(), Counter()
    chosen: list[dict] = []
    for row in ranked:
        if len(chosen) == count:
            return chosen
        day = row["sort_time"][:10]
        camera = (row["camera_model"] or "").strip().lower()
        form = shape(row)
        # A photo without a camera model has no camera to be over-represented.
        if (days[day] >= MAX_PER_DAY or shapes[form] >= MAX_PER_SHAPE
                or (camera and cameras[camera] >= MAX_PER_CAMERA)):
            continue
        chosen.append(row)
        days[day] += 1
        shapes[form] += 1
        if camera:
            cameras[camera] += 1

    picked = {row["asset_id"] for row in chosen}
    for row in ranked:
        if len(chosen) == count:
            break
        if row["asset_id"] not in picked:
            chosen.append(row)
    return chosen


def featured(ctx: Context, who: Principal, req: Request) -> dict:
    moment = now()
    seed = req.seed or moment.strftime("%Y-%m-%d")
    # Recency is measured from the start of the UTC day, so one seed gives one pick
    # for the whole day rather than drifting by the second.
    today = datetime.combine(moment.date(), time.min, timezone.utc)

    filt: dict = {"type": "PHOTO"}
    if req.repository_id:
        filt["repository_id"] = req.repository_id
    where = build_filter(filt, who, timezone.utc)
    if req.days > 0:
        where.add("a.sort_time >= ?", iso(today - timedelta(days=req.days)))
    rows = ctx.catalog.all(
        "SELECT a.* FROM assets a"
        f" WHERE {where.sql()} ORDER BY a.sort_time DESC, a.asset_id DESC LIMIT ?",
        [*where.params, req.candidate_limit])

    unique = list({row["asset_id"]: row for row in rows}.values())
    ranked = sorted(unique, key=lambda r: (key(seed, r["asset_id"], weight(r, today)),
                                           r["asset_id"]))
    chosen = diversify(ranked, req.count)
    log.debug("featured: %d of %d candidates for seed %r", len(chosen), len(unique),
              seed)
    return {
        "assets": [asset_dto(row) for row in chosen],
        "count": len(chosen),
        "candidate_count": len(unique),
        "seed": seed,
        "strategy": STRATEGY,
        "generated_at_time": api(now_iso()),
    }

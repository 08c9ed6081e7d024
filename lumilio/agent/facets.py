"""What a set of assets holds at a glance: dates, places, people, cameras, types,
ratings. Stored with each ref (`AgentRefFacetsDTO`) and given to the model in short.
"""

from __future__ import annotations

import json
from collections import Counter

from lumilio.agent import library
from lumilio.auth.principal import Principal
from lumilio.context import Context

TOP = 5
# Up to three years of photos are counted per month, a longer span per year.
MONTHLY_SPAN_MONTHS = 36
_COLUMNS = ("a.asset_id, a.type, a.sort_time, a.geohash7, a.camera_model, a.rating,"
            " a.liked")


def _named(counter: Counter) -> list[dict]:
    return [{"name": name, "count": n} for name, n in counter.most_common(TOP)]


def _histogram(days: list[str]) -> list[dict]:
    months = sorted({d[:7] for d in days})
    if not months:
        return []
    first, last = months[0], months[-1]
    span = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:])
    width = 7 if span < MONTHLY_SPAN_MONTHS else 4
    counts = Counter(d[:width] for d in days)
    return [{"bucket": bucket, "count": counts[bucket]} for bucket in sorted(counts)]


def _people(ctx: Context, asset_ids: list[str]) -> Counter:
    rows = ctx.catalog.all(
        "SELECT p.person_id, p.name, COUNT(DISTINCT f.asset_id) AS n FROM faces f"
        " JOIN people p USING (person_id) WHERE f.asset_id IN"
        " (SELECT value FROM json_each(?)) GROUP BY p.person_id",
        (json.dumps(asset_ids),))
    return Counter({r["name"] or f"Unnamed person {r['person_id']}": r["n"]
                    for r in rows})


def of(ctx: Context, who: Principal, asset_ids: list[str]) -> dict:
    """The facets of the assets the caller can see among `asset_ids`."""
    rows = library.rows_in_order(ctx, who, asset_ids, _COLUMNS)
    out: dict = {"count": len(rows)}
    if not rows:
        return out

    days = [d for d in (library.day(r) for r in rows) if d]
    if days:
        out["date_range"] = {"from": min(days), "to": max(days)}
        out["histogram"] = _histogram(days)
    out["types"] = dict(Counter(r["type"] for r in rows))
    places = library.place_names(ctx, {r["geohash7"] for r in rows if r["geohash7"]})
    out["top_places"] = _named(Counter(places[r["geohash7"]] for r in rows
                                       if r["geohash7"] in places))
    out["top_people"] = _named(_people(ctx, [r["asset_id"] for r in rows]))
    out["cameras"] = _named(Counter(r["camera_model"] for r in rows
                                    if r["camera_model"]))
    out["liked_count"] = sum(1 for r in rows if r["liked"])
    ratings = Counter(r["rating"] or 0 for r in rows)
    out["rating_dist"] = [ratings[n] for n in range(6)]
    return out


def brief(facets: dict) -> dict:
    """The facets without the histogram and empty lists: what the model needs."""
    return {k: v for k, v in facets.items() if k != "histogram" and v not in ([], {})}


def summary(facets: dict) -> str:
    """One line for a pin: '24 photos · 2025-04-02 – 2025-04-09 · Kyoto'."""
    count = facets.get("count", 0)
    types = facets.get("types") or {}
    noun = "photo" if set(types) <= {"PHOTO"} else "item"
    parts = [f"{count} {noun}{'' if count == 1 else 's'}"]
    span = facets.get("date_range")
    if span:
        parts.append(span["from"] if span["from"] == span["to"]
                     else f"{span['from']} – {span['to']}")
    places = facets.get("top_places") or []
    if places:
        parts.append(", ".join(p["name"] for p in places[:2]))
    return " · ".join(parts)

"""The library as the assistant's tools read it: always through the caller's scope.

Every read starts from `browse.build_filter`, the filter of the unified query, so
that owner scoping, the trash and missing files follow the same rules as the
user's own requests.
"""

from __future__ import annotations

import json
from datetime import UTC

from lumilio.agent.prompt import clean
from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.services import browse, geocoding
from lumilio.services.browse import Where

# A ref keeps at most this many asset ids; a larger result is marked truncated.
REF_CAP = 5000
NEWEST_FIRST = browse.SORTS["date_captured"]
OLDEST_FIRST = "a.sort_time ASC, a.asset_id ASC"
FILE_NAME_MAX = 200


def scope(who: Principal, filt: dict | None = None) -> Where:
    """The caller's live assets, narrowed by a filter of the unified query."""
    return browse.build_filter(filt or {}, who, UTC)


def restrict(where: Where, asset_ids: list[str]) -> None:
    where.add("a.asset_id IN (SELECT value FROM json_each(?))", json.dumps(asset_ids))


def ids_matching(ctx: Context, where: Where, order: str = NEWEST_FIRST,
                 cap: int = REF_CAP + 1) -> list[str]:
    rows = ctx.catalog.all(
        f"SELECT a.asset_id FROM assets a WHERE {where.sql()} ORDER BY {order}"
        " LIMIT ?", [*where.params, cap])
    return [r["asset_id"] for r in rows]


def rows_in_order(ctx: Context, who: Principal, asset_ids: list[str],
                  columns: str = "a.*") -> list[dict]:
    """The rows of the given assets that the caller can still see, in that order."""
    if not asset_ids:
        return []
    where = scope(who)
    restrict(where, asset_ids)
    rows = ctx.catalog.all(f"SELECT {columns} FROM assets a WHERE {where.sql()}",
                           where.params)
    by_id = {r["asset_id"]: r for r in rows}
    return [by_id[i] for i in dict.fromkeys(asset_ids) if i in by_id]


def visible(ctx: Context, who: Principal, asset_ids: list[str]) -> list[str]:
    return [r["asset_id"] for r in rows_in_order(ctx, who, asset_ids, "a.asset_id")]


def _names_in(ctx: Context) -> tuple[str, str] | None:
    """The provider and language of the place names the settings ask for; the
    settings do not change while the server runs."""
    if "agent_place_names" not in ctx.runtime:
        geocoder = geocoding.from_config(ctx.config)
        ctx.runtime["agent_place_names"] = (
            (geocoder.provider, geocoder.language) if geocoder else None)
    return ctx.runtime["agent_place_names"]


def place_names(ctx: Context, geohashes: set[str]) -> dict[str, str]:
    """The short place name (the town, else the label) of each named geohash."""
    names_in = _names_in(ctx)
    if names_in is None or not geohashes:
        return {}
    rows = ctx.catalog.all(
        "SELECT geohash, city, label, country FROM geocode_cache WHERE provider = ?"
        " AND language = ? AND status = 'resolved' AND geohash IN"
        " (SELECT value FROM json_each(?))",
        (*names_in, json.dumps(sorted(geohashes))))
    return {r["geohash"]: r["city"] or r["label"] or r["country"] for r in rows
            if r["city"] or r["label"] or r["country"]}


def day(row: dict) -> str | None:
    """The capture day of an asset row, as the catalog has it (YYYY-MM-DD)."""
    stamp = row.get("sort_time") or row.get("taken_time") or row.get("upload_time")
    return stamp[:10] if stamp else None


def compact_items(ctx: Context, who: Principal, asset_ids: list[str]) -> list[dict]:
    """A few assets as the model reads them: id, day, place, type, file name."""
    rows = rows_in_order(
        ctx, who, asset_ids,
        "a.asset_id, a.type, a.original_filename, a.sort_time, a.geohash7,"
        " a.rating, a.liked")
    places = place_names(ctx, {r["geohash7"] for r in rows if r["geohash7"]})
    items = []
    for r in rows:
        item = {"id": r["asset_id"], "date": day(r), "type": r["type"],
                "file_name": clean(r["original_filename"], FILE_NAME_MAX)}
        if r["geohash7"] in places:
            item["place"] = places[r["geohash7"]]
        if r["rating"]:
            item["rating"] = r["rating"]
        if r["liked"]:
            item["liked"] = True
        items.append(item)
    return items

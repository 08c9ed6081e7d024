"""Location clusters: photos with a position, grouped by geohash, with place names.

A photo's position is kept as two geohashes on the asset (5 characters, about 5 km;
7 characters, about 150 m). Clusters are the photos of one repository and owner that
share a 7-character geohash; a rebuild recounts them and names the new ones with the
configured geocoder (see `geocoding`), through a cache keyed by provider, language
and geohash. Rebuilds run as jobs: queued after imports that bring positions, after
photos go to the trash, and on request.

The place names are also a search channel: `place_asset_ids` finds the photos whose
place matches the words of a query ("photos in Lisbon").
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta

import pygeohash

from lumilio.auth.principal import Principal
from lumilio.catalog.db import dumps
from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.jobs.queue import register
from lumilio.services import geocoding, repositories
from lumilio.services.browse import Where
from lumilio.services.geocoding import Place
from lumilio.timeutil import api, iso, now, now_iso

log = logging.getLogger(__name__)

PRECISION = 7
COARSE = 5
JOB = "rebuild_locations"
FAILED_RETRY = timedelta(days=1)
GEOHASH = re.compile(r"^[0123456789bcdefghjkmnpqrstuvwxyz]{1,12}$")

# Inside the globe's ranges and not exactly 0,0 (what cameras write without a fix).
VALID_POSITION = (
    "a.gps_latitude BETWEEN -90 AND 90 AND a.gps_longitude BETWEEN -180 AND 180"
    " AND NOT (a.gps_latitude = 0 AND a.gps_longitude = 0)"
)
CLUSTERED = ("a.type = 'PHOTO' AND a.is_deleted = 0 AND a.is_missing = 0"
             " AND a.geohash7 IS NOT NULL AND " + VALID_POSITION)


def geohashes(lat: float | None, lon: float | None) -> tuple[str | None, str | None]:
    """The (5, 7)-character geohashes of a position; (None, None) for no position."""
    if lat is None or lon is None:
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat, lon) == (0, 0):
        return None, None
    fine = pygeohash.encode(lat, lon, precision=PRECISION)
    return fine[:COARSE], fine


# -- keeping positions and clusters current -------------------------------------------


def record_position(ctx: Context, asset_id: str) -> None:
    """After metadata: store the photo's geohashes, and recount its repository's
    clusters when they changed."""
    row = ctx.catalog.one(
        "SELECT repository_id, type, gps_latitude, gps_longitude, geohash7"
        " FROM assets WHERE asset_id = ?", (asset_id,))
    if row is None:
        return
    coarse, fine = geohashes(row["gps_latitude"], row["gps_longitude"])
    if fine == row["geohash7"]:
        return
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE assets SET geohash5 = ?, geohash7 = ? WHERE asset_id = ?",
        (coarse, fine, asset_id)))
    if row["type"] == "PHOTO":
        request_rebuild(ctx, row["repository_id"])


def request_rebuild(ctx: Context, repository_id: str | None) -> int | None:
    """Queue a rebuild unless one for the same scope is already waiting.

    A waiting rebuild sees every change made before it starts, so one is enough:
    an import of thousands of photos queues one, not thousands.
    """
    args = {"repository_id": repository_id} if repository_id else {}
    waiting = ctx.catalog.one(
        "SELECT job_id FROM jobs WHERE kind = ? AND args = ?"
        " AND state IN ('available', 'scheduled', 'retryable') LIMIT 1",
        (JOB, dumps(args)))
    if waiting is not None:
        return waiting["job_id"]
    return ctx.jobs.enqueue(JOB, **args)


# After imports and thumbnails: one run at the end of a busy import.
@register(JOB, retries=1, priority=-5)
def run_rebuild(ctx: Context, repository_id: str | None = None) -> None:
    if repository_id and ctx.catalog.one(
            "SELECT 1 AS x FROM repositories WHERE repository_id = ?",
            (repository_id,)) is None:
        return
    counts = rebuild(ctx, repository_id)
    log.info("location clusters %s: %d cluster(s) of %d photo(s), %d place name(s)"
             " looked up", repository_id or "(all repositories)",
             counts["clusters"], counts["photos"], counts["geocoded"])


def rebuild(ctx: Context, repository_id: str | None = None) -> dict:
    """Recount the clusters of one repository (or all), and name the new places."""
    _refresh_geohashes(ctx, repository_id)
    scope, args = ("a.repository_id = ?", [repository_id]) if repository_id \
        else ("1", [])
    groups = ctx.catalog.all(
        "SELECT a.repository_id, a.owner_id, a.geohash7 AS geohash, COUNT(*) AS n,"
        " AVG(a.gps_latitude) AS lat, AVG(a.gps_longitude) AS lon FROM assets a"
        f" WHERE {CLUSTERED} AND {scope} GROUP BY a.repository_id, a.owner_id,"
        " a.geohash7", args)

    def save(conn) -> None:
        stamp = now_iso()
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS kept_clusters"
                     " (cluster_id TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM temp.kept_clusters")
        for g in groups:
            found = conn.execute(
                "SELECT cluster_id FROM location_clusters WHERE repository_id = ?"
                " AND COALESCE(owner_id, -1) = COALESCE(?, -1) AND geohash = ?",
                (g["repository_id"], g["owner_id"], g["geohash"])).fetchall()
            cluster_id = found[0]["cluster_id"] if found else str(uuid.uuid4())
            conn.execute(
                "INSERT INTO location_clusters (cluster_id, repository_id, owner_id,"
                " geohash, precision, centroid_latitude, centroid_longitude,"
                " photo_count, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (cluster_id) DO UPDATE SET"
                " centroid_latitude = excluded.centroid_latitude,"
                " centroid_longitude = excluded.centroid_longitude,"
                " photo_count = excluded.photo_count, updated_at = excluded.updated_at",
                (cluster_id, g["repository_id"], g["owner_id"], g["geohash"],
                 PRECISION, g["lat"], g["lon"], g["n"], stamp))
            conn.execute("INSERT INTO temp.kept_clusters VALUES (?)", (cluster_id,))
        conn.execute(
            f"DELETE FROM location_clusters WHERE {scope.replace('a.', '')} AND"
            " cluster_id NOT IN (SELECT cluster_id FROM temp.kept_clusters)", args)

    ctx.catalog.write(save)
    geocoded = name_places(ctx, {g["geohash"]: (g["lat"], g["lon"]) for g in groups})
    return {"clusters": len(groups), "photos": sum(g["n"] for g in groups),
            "geocoded": geocoded}


def _refresh_geohashes(ctx: Context, repository_id: str | None) -> None:
    # Positions written before geohashes existed, or changed by a later metadata
    # read, are brought up to date here; the rest are left alone.
    scope, args = ("repository_id = ?", [repository_id]) if repository_id \
        else ("1", [])
    rows = ctx.catalog.all(
        "SELECT asset_id, gps_latitude, gps_longitude, geohash7 FROM assets"
        f" WHERE {scope} AND (gps_latitude IS NOT NULL OR geohash7 IS NOT NULL)",
        args)
    changes = []
    for row in rows:
        coarse, fine = geohashes(row["gps_latitude"], row["gps_longitude"])
        if fine != row["geohash7"]:
            changes.append((coarse, fine, row["asset_id"]))
    if changes:
        ctx.catalog.write(lambda conn: conn.executemany(
            "UPDATE assets SET geohash5 = ?, geohash7 = ? WHERE asset_id = ?",
            changes))
        log.debug("geohashes updated on %d asset(s)", len(changes))


def name_places(ctx: Context, positions: dict[str, tuple[float, float]]) -> int:
    """Look up the geohashes that have no cached name yet; returns how many."""
    geocoder = geocoding.from_config(ctx.config)
    if geocoder is None or not positions:
        return 0
    # A failed look-up (an online geocoder that was unreachable) is tried again
    # by the first rebuild a day later.
    retry_after = iso(now() - FAILED_RETRY)
    known = {r["geohash"] for r in ctx.catalog.all(
        "SELECT geohash FROM geocode_cache WHERE provider = ? AND language = ?"
        " AND (status = 'resolved' OR geocoded_at > ?)",
        (geocoder.provider, geocoder.language, retry_after))}
    wanted = sorted(set(positions) - known)
    if not wanted:
        return 0

    try:
        places = geocoder.lookup([positions[g] for g in wanted])
        errors: list[str | None] = [None] * len(wanted)
    except OSError as exc:
        # An online geocoder that cannot be reached: remembered as failed for
        # these places, which keep their positions and get no names.
        log.warning("geocoder %s failed: %s", geocoder.provider, exc)
        places, errors = [None] * len(wanted), [str(exc)] * len(wanted)
    finally:
        geocoding.release_offline_data()

    def save(conn) -> None:
        stamp = now_iso()
        for geohash, place, error in zip(wanted, places, errors, strict=True):
            place = place or Place(None, None, None, None)
            conn.execute(
                "INSERT INTO geocode_cache (provider, language, geohash, status,"
                " label, city, region, country, country_code, error, geocoded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
                " status = excluded.status, label = excluded.label,"
                " city = excluded.city, region = excluded.region,"
                " country = excluded.country, country_code = excluded.country_code,"
                " error = excluded.error, geocoded_at = excluded.geocoded_at",
                (geocoder.provider, geocoder.language, geohash,
                 "failed" if error else "resolved", place.label, place.city,
                 place.region, place.country, place.country_code, error, stamp))

    ctx.catalog.write(save)
    return len(wanted)


# -- reading --------------------------------------------------------------------------


def list_clusters(ctx: Context, who: Principal, limit: int, offset: int,
                  repository_id: str | None, geohash: str | None) -> dict:
    clauses, args = ["1"], []
    if repository_id:
        clauses.append("c.repository_id = ?")
        args.append(repositories.valid_uuid(repository_id))
    if geohash:
        prefix = geohash.strip().lower()
        if not GEOHASH.match(prefix):
            raise BadRequest("Invalid request data", "geohash is not a geohash")
        clauses.append("c.geohash LIKE ?")
        args.append(prefix + "%")
    if not who.is_admin:
        clauses.append("c.owner_id = ?")
        args.append(who.user_id)
    where = " AND ".join(clauses)

    geocoder = geocoding.from_config(ctx.config)
    provider = geocoder.provider if geocoder else "off"
    language = geocoder.language if geocoder else ""
    total = ctx.catalog.scalar(
        f"SELECT COUNT(*) FROM location_clusters c WHERE {where}", args)
    rows = ctx.catalog.all(
        "SELECT c.*, g.status AS geo_status, g.label, g.city, g.region, g.country,"
        " g.geocoded_at FROM location_clusters c LEFT JOIN geocode_cache g"
        " ON g.geohash = c.geohash AND g.provider = ? AND g.language = ?"
        f" WHERE {where} ORDER BY c.photo_count DESC, c.geohash, c.cluster_id"
        " LIMIT ? OFFSET ?", [provider, language, *args, limit, offset])
    clusters = [_cluster_dto(r, provider) for r in rows]
    return {"clusters": clusters, "total": total, "limit": limit, "offset": offset}


def _cluster_dto(row: dict, provider: str) -> dict:
    out = {
        "cluster_id": row["cluster_id"],
        "repository_id": row["repository_id"],
        "geohash": row["geohash"],
        "precision": row["precision"],
        "centroid_latitude": row["centroid_latitude"],
        "centroid_longitude": row["centroid_longitude"],
        "photo_count": row["photo_count"],
    }
    if provider == "off":
        out["geocode_status"] = "disabled"
        return out
    out["geocode_status"] = row["geo_status"] or "pending"
    if row["geo_status"]:
        out["provider"] = provider
        out["geocoded_at"] = api(row["geocoded_at"])
    for key in ("label", "city", "region", "country"):
        if row[key]:
            out[key] = row[key]
    return out


# -- search ---------------------------------------------------------------------------

# Words of a request that name no place ("photos in Lisbon").
QUERY_NOISE = frozenset(
    "a an and at from in near of on photo photos picture pictures image images my "
    "the taken to".split())


def place_query(text: str) -> str | None:
    """The full-text query for the place words of `text`, or None if it has none."""
    words = [w for w in re.findall(r"\w+", text.lower())
             if len(w) > 1 and w not in QUERY_NOISE]
    if not words:
        return None
    return " OR ".join('"' + w.replace('"', "") + '"' for w in words)


def place_asset_ids(ctx: Context, where: Where, text: str, cap: int) -> list[str]:
    """Photos whose place names match the words of `text`, best match first.

    `where` is an asset filter on alias `a` (owner scope included), as built by
    `browse.build_filter`. Names in every cached language and provider count, so
    "Munich" and "München" both find the same photos.
    """
    match = place_query(text)
    if match is None:
        return []
    rows = ctx.catalog.all(
        "WITH matched AS MATERIALIZED (SELECT rowid AS id, bm25(place_names) AS score"
        " FROM place_names WHERE place_names MATCH ?),"
        " hits AS (SELECT g.geohash, MIN(m.score) AS rank FROM matched m"
        " JOIN geocode_cache g ON g.rowid = m.id GROUP BY g.geohash)"
        " SELECT a.asset_id FROM assets a JOIN hits h ON h.geohash = a.geohash7"
        f" WHERE {where.sql()} ORDER BY h.rank, a.sort_time DESC, a.asset_id DESC"
        " LIMIT ?", [match, *where.params, cap])
    return [r["asset_id"] for r in rows]

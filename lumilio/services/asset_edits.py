"""What a user changes on an asset: favourite, stars, description, metadata.

Only the owner (or an admin) may change an asset; for anyone else it does not exist.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC
from typing import Any

from lumilio.auth.principal import Principal
from lumilio.catalog.db import dumps, loads
from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.media.dates import USER_TIME_SOURCE, parse_stamp
from lumilio.services.assets import row_for
from lumilio.timeutil import iso, now_iso

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 10_000
MAX_METADATA_BYTES = 64 * 1024

# The typed fields of the API document's specific metadata, per asset type. Other keys
# (the pipeline also keeps e.g. camera_make) are kept if they hold plain values.
_STRING, _NUMBER, _INTEGER, _BOOLEAN = str, (int, float), int, bool
_COMMON = {"camera_model": _STRING, "capture_offset_minutes": _INTEGER,
           "content_identifier": _STRING, "description": _STRING,
           "gps_latitude": _NUMBER, "gps_longitude": _NUMBER}
METADATA_FIELDS: dict[str, dict[str, Any]] = {
    "PHOTO": {**_COMMON, "dimensions": _STRING, "exposure": _NUMBER,
              "exposure_time": _STRING, "f_number": _NUMBER, "focal_length": _NUMBER,
              "is_raw": _BOOLEAN, "iso_speed": _INTEGER, "lens_model": _STRING,
              "resolution": _STRING, "taken_time": _STRING},
    "VIDEO": {**_COMMON, "bitrate": _INTEGER, "codec": _STRING,
              "frame_rate": _NUMBER, "recorded_time": _STRING},
    "AUDIO": {"album": _STRING, "artist": _STRING, "bitrate": _INTEGER,
              "channels": _INTEGER, "codec": _STRING, "description": _STRING,
              "genre": _STRING, "sample_rate": _INTEGER, "title": _STRING,
              "year": _INTEGER},
}


def rating_value(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest("Invalid request data", "rating must be an integer 0-5")
    if not 0 <= value <= 5:
        raise BadRequest("Invalid request data", "rating must be between 0 and 5")
    return value


def liked_value(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequest("Invalid request data", "liked must be true or false")
    return value


def _update(ctx: Context, asset_id: str, assignments: str, params: list) -> None:
    ctx.catalog.write(lambda conn: conn.execute(
        f"UPDATE assets SET {assignments}, updated_at = ? WHERE asset_id = ?",
        [*params, now_iso(), asset_id]))


def set_rating_and_like(ctx: Context, who: Principal, asset_id: str,
                        rating: int | None, liked: bool | None) -> None:
    """Either or both; a value left None is not changed."""
    row_for(ctx, who, asset_id)
    parts, params = [], []
    if rating is not None:
        parts.append("rating = ?")
        params.append(rating)
    if liked is not None:
        parts.append("liked = ?")
        params.append(int(liked))
    if parts:
        _update(ctx, asset_id, ", ".join(parts), params)
    log.debug("asset %s: rating=%s liked=%s by %s", asset_id, rating, liked,
              who.username)


def set_liked_in(conn, who: Principal, asset_ids: list[str], liked: bool) -> int:
    """Like (or unlike) many assets at once inside the caller's transaction, those
    the caller may change among them; returns how many changed."""
    scope, params = "", [int(liked), now_iso(), dumps(asset_ids), int(liked)]
    if not who.is_admin:
        scope = " AND owner_id = ?"
        params.append(who.user_id)
    conn.execute(
        "UPDATE assets SET liked = ?, updated_at = ? WHERE asset_id IN"
        " (SELECT value FROM json_each(?)) AND is_deleted = 0 AND liked != ?" + scope,
        params)
    return conn.changes()


def set_description(ctx: Context, who: Principal, asset_id: str, text: Any) -> None:
    if not isinstance(text, str):
        raise BadRequest("Invalid request data", "description must be a string")
    if len(text) > MAX_DESCRIPTION:
        raise BadRequest("Invalid request data",
                         f"description is longer than {MAX_DESCRIPTION} characters")
    row_for(ctx, who, asset_id)
    text = text.strip()
    # The column is what search and the UI read; the metadata copy is what the
    # API document shows in specific_metadata.description.
    if text:
        _update(ctx, asset_id,
                "description = ?, specific_metadata = json_set("
                "COALESCE(specific_metadata, '{}'), '$.description', ?)", [text, text])
    else:
        _update(ctx, asset_id,
                "description = NULL, specific_metadata = json_remove("
                "COALESCE(specific_metadata, '{}'), '$.description')", [])


def replace_metadata(ctx: Context, who: Principal, asset_id: str, value: Any) -> None:
    """`PUT /assets/{id}`: the whole specific metadata, checked field by field.

    The columns that mirror it (camera, lens, position, description) follow, so that
    filters and statistics agree with what the asset shows.
    """
    row = row_for(ctx, who, asset_id)
    metadata = checked_metadata(value, row["type"])
    lat, lon = metadata.get("gps_latitude"), metadata.get("gps_longitude")
    if (lat is None) != (lon is None):
        raise BadRequest("Invalid request data",
                         "gps_latitude and gps_longitude go together")
    moved = _capture_time_change(row, metadata)
    _update(ctx, asset_id,
            "specific_metadata = ?, camera_model = ?, lens_model = ?,"
            " gps_latitude = ?, gps_longitude = ?, description = ?"
            + "".join(f", {column} = ?" for column in moved),
            [dumps(metadata), metadata.get("camera_model"),
             metadata.get("lens_model"), lat, lon,
             metadata.get("description") or None, *moved.values()])
    log.info("asset %s: metadata replaced by %s", asset_id, who.username)


def _capture_time_change(row: dict, metadata: dict) -> dict:
    """The timeline columns to change when the user gave another capture time.

    The value is read by the same rules as a file's own stamp: with an offset it is
    a moment in that zone; without one it is the wall clock as written; a trailing
    Z is a moment in UTC whose local zone stays unknown. A later re-read of the
    file leaves the typed time alone.
    """
    key = "recorded_time" if row["type"] == "VIDEO" else "taken_time"
    given = metadata.get(key)
    before = (loads(row["specific_metadata"]) or {}).get(key)
    if given is None or given == before:
        return {}

    parsed = parse_stamp(given)
    if parsed is None:
        raise BadRequest("Invalid request data",
                         f"specific_metadata.{key} must be a date and time such as"
                         " 2019-06-01T10:30:00+02:00")
    if given.rstrip().endswith("Z"):
        taken, offset = parsed.wall.replace(tzinfo=UTC), None
    else:
        taken, offset = parsed.as_capture(), parsed.offset_minutes
    metadata[key], metadata["capture_offset_minutes"] = iso(taken), offset
    return {"taken_time": iso(taken), "capture_offset_minutes": offset,
            "taken_source": USER_TIME_SOURCE}


def checked_metadata(value: Any, asset_type: str) -> dict:
    if not isinstance(value, dict):
        raise BadRequest("Invalid request data", "specific_metadata must be an object")
    if len(dumps(value) or "") > MAX_METADATA_BYTES:
        raise BadRequest("Invalid request data", "specific_metadata is too large")
    fields = METADATA_FIELDS.get(asset_type, {})
    out = {}
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, float) and not math.isfinite(item):
            raise BadRequest("Invalid request data",
                             f"specific_metadata.{key} must be a finite number")
        kind = fields.get(key)
        if kind is None:
            if not isinstance(item, (str, int, float, bool)):
                raise BadRequest("Invalid request data",
                                 f"specific_metadata.{key} must be a plain value")
        elif not isinstance(item, kind) or (isinstance(item, bool) and kind
                                            is not _BOOLEAN):
            raise BadRequest("Invalid request data",
                             f"specific_metadata.{key} has the wrong type")
        out[key] = item
    _check_position(out)
    return out


def _check_position(metadata: dict) -> None:
    lat, lon = metadata.get("gps_latitude"), metadata.get("gps_longitude")
    if lat is not None and not -90 <= lat <= 90:
        raise BadRequest("Invalid request data", "gps_latitude must be -90..90")
    if lon is not None and not -180 <= lon <= 180:
        raise BadRequest("Invalid request data", "gps_longitude must be -180..180")

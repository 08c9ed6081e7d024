"""Where photos were taken: positions worth showing, and the points of the map."""

from __future__ import annotations

from datetime import timezone

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.services.browse import build_filter
from lumilio.timeutil import api

# A position inside the globe's ranges and not exactly 0,0: cameras write zeros when
# they have no fix, and a few write out-of-range values.
VALID_POSITION_SQL = (
    "a.gps_latitude BETWEEN -90 AND 90 AND a.gps_longitude BETWEEN -180 AND 180"
    " AND NOT (a.gps_latitude = 0 AND a.gps_longitude = 0)"
)


def valid_position(lat: float | None, lon: float | None) -> bool:
    if lat is None or lon is None:
        return False
    return -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0, 0)


def map_points(ctx: Context, who: Principal, limit: int, offset: int,
               repository_id: str | None) -> dict:
    filt: dict = {"type": "PHOTO"}
    if repository_id:
        filt["repository_id"] = repository_id
    where = build_filter(filt, who, timezone.utc)
    where.add(VALID_POSITION_SQL)

    def run(conn):
        total = conn.execute(f"SELECT COUNT(*) AS n FROM assets a WHERE {where.sql()}",
                             where.params).fetchall()[0]["n"]
        rows = conn.execute(
            "SELECT a.asset_id, a.original_filename, a.upload_time, a.taken_time,"
            " a.gps_latitude, a.gps_longitude FROM assets a"
            f" WHERE {where.sql()} ORDER BY a.sort_time DESC, a.asset_id DESC"
            " LIMIT ? OFFSET ?", [*where.params, limit, offset]).fetchall()
        return total, rows

    total, rows = ctx.catalog.read(run)
    points = []
    for row in rows:
        point = {"asset_id": row["asset_id"],
                 "original_filename": row["original_filename"],
                 "upload_time": api(row["upload_time"]),
                 "gps_latitude": row["gps_latitude"],
                 "gps_longitude": row["gps_longitude"]}
        if row["taken_time"]:
            point["taken_time"] = api(row["taken_time"])
        points.append(point)
    return {"points": points, "total": total, "limit": limit, "offset": offset}

"""The legacy asset lists: favourites and assets by star rating.

Both are the browse filter with one condition, newest capture first, in the older
`{assets, total, limit, offset}` shape.
"""

from __future__ import annotations

from datetime import timezone

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.services.asset_view import asset_dto
from lumilio.services.browse import SORTS, build_filter


def _listed(ctx: Context, who: Principal, filt: dict, limit: int,
            offset: int) -> dict:
    where = build_filter(filt, who, timezone.utc)

    def run(conn):
        total = conn.execute(f"SELECT COUNT(*) AS n FROM assets a WHERE {where.sql()}",
                             where.params).fetchall()[0]["n"]
        rows = conn.execute(
            f"SELECT a.* FROM assets a WHERE {where.sql()}"
            f" ORDER BY {SORTS['date_captured']} LIMIT ? OFFSET ?",
            [*where.params, limit, offset]).fetchall()
        return total, rows

    total, rows = ctx.catalog.read(run)
    return {"assets": [asset_dto(r) for r in rows], "total": total, "limit": limit,
            "offset": offset}


def liked(ctx: Context, who: Principal, limit: int, offset: int) -> dict:
    return _listed(ctx, who, {"liked": True}, limit, offset)


def rated(ctx: Context, who: Principal, rating: int, limit: int, offset: int) -> dict:
    return _listed(ctx, who, {"rating": rating}, limit, offset)

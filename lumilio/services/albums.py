"""Albums: a user's named, ordered selections of assets.

An album belongs to the user who made it; for anyone else it does not exist (404).
Positions in an album are kept dense (0, 1, 2...): every change that moves members
reads and rewrites them inside one write transaction, and all writes run one after
the other on the catalog's writer, so concurrent edits cannot leave gaps or twins.
"""

from __future__ import annotations

import logging
from typing import Any

import apsw

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound
from lumilio.services.asset_view import asset_dto
from lumilio.services.assets import row_for
from lumilio.services.repositories import valid_uuid
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

ALBUM_TYPES = ("default", "bio")
MAX_NAME = 255
MAX_DESCRIPTION = 10_000

# Live members, and the first of them for an album without a usable cover.
_MEMBERS = (
    "FROM album_assets aa JOIN assets m ON m.asset_id = aa.asset_id"
    " WHERE aa.album_id = al.album_id AND m.is_deleted = 0"
)


def _summary_sql(repository_id: str | None) -> tuple[str, list]:
    scope = " AND m.repository_id = ?" if repository_id else ""
    params = [repository_id] if repository_id else []
    sql = (
        f"(SELECT COUNT(*) {_MEMBERS}{scope}) AS asset_count,"
        " COALESCE((SELECT c.asset_id FROM assets c WHERE c.asset_id ="
        " al.cover_asset_id AND c.is_deleted = 0),"
        f" (SELECT aa.asset_id {_MEMBERS}{scope}"
        " ORDER BY aa.position, aa.added_time LIMIT 1)) AS display_cover_asset_id"
    )
    return sql, params * 2


def album_dto(row: dict) -> dict:
    out = {
        "album_id": row["album_id"],
        "user_id": row["user_id"],
        "album_name": row["album_name"],
        "created_at": api(row["created_at"]),
        "updated_at": api(row["updated_at"]),
        # Albums made before the document's vocabulary was adopted say 'manual'.
        "album_type": row["album_type"] if row["album_type"] in ALBUM_TYPES
        else "default",
    }
    for key in ("description", "cover_asset_id"):
        if row.get(key) is not None:
            out[key] = row[key]
    for key in ("asset_count", "display_cover_asset_id"):
        if key in row:
            out[key] = row[key]
    return out


# -- reading --------------------------------------------------------------------------


def _own_row(ctx: Context, who: Principal, album_id: int,
             repository_id: str | None = None) -> dict:
    summary, params = _summary_sql(repository_id)
    row = ctx.catalog.one(
        f"SELECT al.*, {summary} FROM albums al WHERE al.album_id = ?",
        [*params, album_id])
    if row is None or row["user_id"] != who.user_id:
        raise NotFound("Album not found")
    return row


def list_albums(ctx: Context, who: Principal, limit: int, offset: int,
                repository_id: str | None) -> dict:
    summary, params = _summary_sql(repository_id)

    def run(conn):
        total = conn.execute("SELECT COUNT(*) AS n FROM albums WHERE user_id = ?",
                             (who.user_id,)).fetchall()[0]["n"]
        rows = conn.execute(
            f"SELECT al.*, {summary} FROM albums al WHERE al.user_id = ?"
            " ORDER BY al.created_at DESC, al.album_id DESC LIMIT ? OFFSET ?",
            [*params, who.user_id, limit, offset]).fetchall()
        return total, rows

    total, rows = ctx.catalog.read(run)
    return {"albums": [album_dto(r) for r in rows], "total": total, "limit": limit,
            "offset": offset}


def get_album(ctx: Context, who: Principal, album_id: int,
              repository_id: str | None = None) -> dict:
    return album_dto(_own_row(ctx, who, album_id, repository_id))


def album_assets(ctx: Context, who: Principal, album_id: int,
                 repository_id: str | None) -> dict:
    _own_row(ctx, who, album_id)
    scope, params = "", []
    if repository_id:
        scope, params = " AND a.repository_id = ?", [repository_id]
    if not who.is_admin:
        scope += " AND a.owner_id = ?"
        params.append(who.user_id)
    rows = ctx.catalog.all(
        "SELECT a.*, aa.position AS album_position, aa.added_time AS album_added"
        " FROM album_assets aa JOIN assets a ON a.asset_id = aa.asset_id"
        f" WHERE aa.album_id = ? AND a.is_deleted = 0{scope}"
        " ORDER BY aa.position, aa.added_time, a.asset_id", [album_id, *params])
    assets = []
    for row in rows:
        asset = asset_dto(row)
        asset["position"] = row["album_position"]
        asset["added_time"] = api(row["album_added"])
        assets.append(asset)
    return {"album_id": album_id, "assets": assets, "count": len(assets)}


def albums_of_asset(ctx: Context, who: Principal, asset_id: str) -> dict:
    row_for(ctx, who, asset_id)
    summary, params = _summary_sql(None)
    rows = ctx.catalog.all(
        f"SELECT al.*, {summary}, x.position AS member_position,"
        " x.added_time AS member_added FROM album_assets x"
        " JOIN albums al ON al.album_id = x.album_id"
        " WHERE x.asset_id = ? AND al.user_id = ? ORDER BY al.album_name",
        [*params, asset_id, who.user_id])
    albums = []
    for row in rows:
        album = album_dto(row)
        album["position"] = row["member_position"]
        album["added_time"] = api(row["member_added"])
        albums.append(album)
    return {"asset_id": asset_id, "albums": albums, "count": len(albums)}


# -- creating and changing ------------------------------------------------------------


def _text(body: dict, name: str, limit: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest("Invalid request data", f"{name} is required")
        return None
    if not isinstance(value, str):
        raise BadRequest("Invalid request data", f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise BadRequest("Invalid request data", f"{name} must not be empty")
    if len(value) > limit:
        raise BadRequest("Invalid request data",
                         f"{name} is longer than {limit} characters")
    return value


def _album_type(body: dict) -> str | None:
    value = body.get("album_type")
    if value is None or value == "":
        return None
    if value not in ALBUM_TYPES:
        raise BadRequest("Invalid request data", "album_type must be default or bio")
    return value


def _cover(ctx: Context, who: Principal, body: dict) -> str | None:
    """The cover asset id given in a body: '' clears it, None leaves it."""
    value = body.get("cover_asset_id")
    if value is None or value == "":
        return value
    if not isinstance(value, str):
        raise BadRequest("Invalid request data", "cover_asset_id must be a string")
    return row_for(ctx, who, valid_uuid(value))["asset_id"]


def checked_new_album(body: dict) -> dict:
    """The name, description and type of a new album from a body (400 when wrong)."""
    return {"album_name": _text(body, "album_name", MAX_NAME, required=True),
            "description": _text(body, "description", MAX_DESCRIPTION),
            "album_type": _album_type(body) or "default"}


def insert_in(conn: apsw.Connection, who: Principal, fields: dict,
              cover: str | None = None) -> int:
    """Make an album of checked fields inside the caller's transaction."""
    stamp = now_iso()
    conn.execute(
        "INSERT INTO albums (user_id, album_name, description, album_type,"
        " cover_asset_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
        (who.user_id, fields["album_name"], fields["description"],
         fields["album_type"], cover, stamp, stamp))
    return conn.last_insert_rowid()


def create_album(ctx: Context, who: Principal, body: dict) -> dict:
    fields = checked_new_album(body)
    cover = _cover(ctx, who, body) or None
    album_id = ctx.catalog.write(lambda conn: insert_in(conn, who, fields, cover))
    log.info("album %d %r created by %s", album_id, fields["album_name"],
             who.username)
    return get_album(ctx, who, album_id)


def update_album(ctx: Context, who: Principal, album_id: int, body: dict) -> dict:
    _own_row(ctx, who, album_id)
    changes: dict[str, Any] = {}
    if "album_name" in body and body["album_name"] is not None:
        changes["album_name"] = _text(body, "album_name", MAX_NAME, required=True)
    if "description" in body and body["description"] is not None:
        changes["description"] = _text(body, "description", MAX_DESCRIPTION) or None
    if (kind := _album_type(body)) is not None:
        changes["album_type"] = kind
    cover = _cover(ctx, who, body)
    if cover is not None:
        changes["cover_asset_id"] = cover or None

    if changes:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        ctx.catalog.write(lambda conn: conn.execute(
            f"UPDATE albums SET {assignments}, updated_at = ? WHERE album_id = ?",
            [*changes.values(), now_iso(), album_id]))
        log.info("album %d updated by %s: %s", album_id, who.username,
                 ", ".join(changes))
    return get_album(ctx, who, album_id)


def delete_album(ctx: Context, who: Principal, album_id: int) -> None:
    _own_row(ctx, who, album_id)
    ctx.catalog.write(lambda conn: conn.execute(
        "DELETE FROM albums WHERE album_id = ?", (album_id,)))
    log.info("album %d deleted by %s", album_id, who.username)


def bioclip_rebuild(ctx: Context, who: Principal, album_id: int) -> dict:
    from lumilio.services import labels

    return labels.queue_bio_album(ctx, who, _own_row(ctx, who, album_id))


# -- members and their order ----------------------------------------------------------


def _position_value(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest("Invalid request data", "position must be an integer")
    if value < 0:
        raise BadRequest("Invalid request data", "position must not be negative")
    return value


def _move(conn: apsw.Connection, album_id: int, asset_id: str, old: int | None,
          new: int) -> None:
    """Put a member at `new`, shifting the others; `old` None means it is new."""
    if old is None:
        conn.execute("UPDATE album_assets SET position = position + 1"
                     " WHERE album_id = ? AND position >= ?", (album_id, new))
    elif new < old:
        conn.execute("UPDATE album_assets SET position = position + 1"
                     " WHERE album_id = ? AND position >= ? AND position < ?",
                     (album_id, new, old))
    elif new > old:
        conn.execute("UPDATE album_assets SET position = position - 1"
                     " WHERE album_id = ? AND position > ? AND position <= ?",
                     (album_id, old, new))
    if old is not None:
        conn.execute("UPDATE album_assets SET position = ? WHERE album_id = ?"
                     " AND asset_id = ?", (new, album_id, asset_id))


def _member(conn: apsw.Connection, album_id: int, asset_id: str) -> int | None:
    rows = conn.execute("SELECT position FROM album_assets WHERE album_id = ?"
                        " AND asset_id = ?", (album_id, asset_id)).fetchall()
    return rows[0]["position"] if rows else None


def _size(conn: apsw.Connection, album_id: int) -> int:
    """How many members; renumbers them first if positions have gaps or twins.

    Gaps appear when an asset row is removed from the catalog and its membership
    goes with it (a cascade, which cannot shift the others).
    """
    found = conn.execute(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT position) AS d, MAX(position) AS top"
        " FROM album_assets WHERE album_id = ?", (album_id,)).fetchall()[0]
    if found["n"] and (found["d"] != found["n"] or found["top"] != found["n"] - 1):
        conn.execute(
            "UPDATE album_assets SET position = (SELECT r.rank FROM (SELECT"
            " asset_id, ROW_NUMBER() OVER (ORDER BY position, added_time, asset_id)"
            " - 1 AS rank FROM album_assets WHERE album_id = ?1) r"
            " WHERE r.asset_id = album_assets.asset_id) WHERE album_id = ?1",
            (album_id,))
    return found["n"]


def _touch(conn: apsw.Connection, album_id: int) -> None:
    conn.execute("UPDATE albums SET updated_at = ? WHERE album_id = ?",
                 (now_iso(), album_id))


def add_asset(ctx: Context, who: Principal, album_id: int, asset_id: str,
              position: Any = None) -> bool:
    """Add (or, with a position, move) a member; False when it was already there."""
    _own_row(ctx, who, album_id)
    row_for(ctx, who, asset_id)
    wanted = _position_value(position)

    def add(conn: apsw.Connection) -> bool:
        size = _size(conn, album_id)
        old = _member(conn, album_id, asset_id)
        if old is not None and wanted is None:
            return False
        last = size if old is None else size - 1
        new = last if wanted is None else min(wanted, last)
        _move(conn, album_id, asset_id, old, new)
        if old is None:
            conn.execute("INSERT INTO album_assets (album_id, asset_id, position,"
                         " added_time) VALUES (?, ?, ?, ?)",
                         (album_id, asset_id, new, now_iso()))
        _touch(conn, album_id)
        return old is None

    added = ctx.catalog.write(add)
    log.debug("album %d: asset %s %s", album_id, asset_id,
              "added" if added else "already present")
    if added:
        from lumilio.services import labels

        labels.photo_added_to_album(ctx, _own_row(ctx, who, album_id), asset_id)
    return added


def append_in(conn: apsw.Connection, album_id: int, asset_ids: list[str]) -> list[str]:
    """Add assets at the end of an album, in order, inside the caller's transaction;
    the caller has checked the album and the assets. Returns the ids added (those
    already in the album are left where they are)."""
    size = _size(conn, album_id)
    added: list[str] = []
    stamp = now_iso()
    for asset_id in dict.fromkeys(asset_ids):
        if _member(conn, album_id, asset_id) is not None:
            continue
        conn.execute("INSERT INTO album_assets (album_id, asset_id, position,"
                     " added_time) VALUES (?, ?, ?, ?)",
                     (album_id, asset_id, size + len(added), stamp))
        added.append(asset_id)
    if added:
        _touch(conn, album_id)
    return added


def remove_asset(ctx: Context, who: Principal, album_id: int, asset_id: str) -> None:
    _own_row(ctx, who, album_id)

    def remove(conn: apsw.Connection) -> None:
        _size(conn, album_id)
        old = _member(conn, album_id, asset_id)
        if old is None:
            raise NotFound("Asset not in album")
        conn.execute("DELETE FROM album_assets WHERE album_id = ? AND asset_id = ?",
                     (album_id, asset_id))
        conn.execute("UPDATE album_assets SET position = position - 1"
                     " WHERE album_id = ? AND position > ?", (album_id, old))
        _touch(conn, album_id)

    ctx.catalog.write(remove)
    log.debug("album %d: asset %s removed", album_id, asset_id)


def move_asset(ctx: Context, who: Principal, album_id: int, asset_id: str,
               position: Any) -> int:
    """Move a member to a position (past the end means last); returns where it went."""
    _own_row(ctx, who, album_id)
    wanted = _position_value(position)
    if wanted is None:
        raise BadRequest("Invalid request data", "position is required")

    def move(conn: apsw.Connection) -> int:
        size = _size(conn, album_id)
        old = _member(conn, album_id, asset_id)
        if old is None:
            raise NotFound("Asset not in album")
        new = min(wanted, size - 1)
        _move(conn, album_id, asset_id, old, new)
        _touch(conn, album_id)
        return new

    return ctx.catalog.write(move)

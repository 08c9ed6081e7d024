"""Duplicate groups of a repository: detection, review, dismissal and merge.

Detection reads the catalog, hands plain values to `duplicate_graph`, and replaces
the repository's pending groups with what it finds. Merged and dismissed groups are
kept: they are the record of what a person decided, and the pairs inside them are
not offered again. A merge keeps one asset, gives it what the others had (albums,
tags, the higher rating, the like, a description) and moves the others to the
trash, from where they can be restored.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, Conflict, NotFound
from lumilio.library import layout
from lumilio.media import fingerprint
from lumilio.media.errors import MediaError
from lumilio.services import duplicate_graph, repositories
from lumilio.services.asset_view import asset_dto
from lumilio.services.duplicate_graph import Candidate
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

DETECTION_VERSION = "duplicates-v2"
STATUSES = ("pending", "merged", "dismissed")
MERGE_POLICY = {"albums": True, "tags": True, "rating": True, "liked": True,
                "description": True, "faces": False}
FINGERPRINT_SOURCE = "thumbnail_small"


# -- fingerprints ---------------------------------------------------------------------


def record_fingerprint(ctx: Context, asset_id: str) -> bool:
    """Fingerprint a photo from its small thumbnail; False when it has none."""
    row = ctx.catalog.one(
        "SELECT a.type, d.storage_path, r.path AS repo_path FROM assets a"
        " JOIN repositories r USING (repository_id) JOIN derived_files d"
        " ON d.asset_id = a.asset_id AND d.kind = ? WHERE a.asset_id = ?",
        (FINGERPRINT_SOURCE, asset_id))
    if row is None or row["type"] != "PHOTO":
        return False
    path = layout.resolve(Path(row["repo_path"]), row["storage_path"])
    try:
        found = fingerprint.of_file(path)
    except MediaError as exc:
        log.warning("no fingerprint for asset %s: %s", asset_id, exc)
        return False

    def save(conn) -> None:
        conn.execute(
            "INSERT INTO asset_fingerprints (asset_id, phash, thumbprint, aspect,"
            " spread, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (asset_id)"
            " DO UPDATE SET phash = excluded.phash, thumbprint = excluded.thumbprint,"
            " aspect = excluded.aspect, spread = excluded.spread,"
            " created_at = excluded.created_at",
            (asset_id, found.phash, found.thumbprint, found.aspect, found.spread,
             now_iso()))
        conn.execute("UPDATE assets SET phash = ? WHERE asset_id = ?",
                     (found.phash, asset_id))

    ctx.catalog.write(save)
    log.debug("fingerprint of %s: %s spread %.1f", asset_id, found.phash, found.spread)
    return True


def _fill_fingerprints(ctx: Context, repository_id: str) -> int:
    """Photos imported before fingerprints existed (or whose step failed) get one.

    TODO: this runs inside the detect request; for a large library imported before
    fingerprints existed the first detection is slow (a few ms per photo). A queued
    job with progress would suit that one-time case better.
    """
    missing = ctx.catalog.all(
        "SELECT a.asset_id FROM assets a JOIN derived_files d ON d.asset_id ="
        " a.asset_id AND d.kind = ? LEFT JOIN asset_fingerprints f ON f.asset_id ="
        " a.asset_id WHERE a.repository_id = ? AND a.type = 'PHOTO'"
        " AND a.is_deleted = 0 AND f.asset_id IS NULL",
        (FINGERPRINT_SOURCE, repository_id))
    made = sum(record_fingerprint(ctx, r["asset_id"]) for r in missing)
    if missing:
        log.info("fingerprinted %d of %d photo(s) that had none", made, len(missing))
    return made


# -- detection ------------------------------------------------------------------------


def _repository(ctx: Context, repository_id: object) -> str:
    if not isinstance(repository_id, str) or not repository_id:
        raise BadRequest("Invalid request data", "repository_id is required")
    return repositories.get_row(ctx, repositories.valid_uuid(repository_id))[
        "repository_id"]


def detect(ctx: Context, who: Principal, repository_id: object) -> dict:
    """Recompute the pending groups of a repository (the caller's assets only,
    unless an administrator asks)."""
    repo = _repository(ctx, repository_id)
    _fill_fingerprints(ctx, repo)

    owner_sql, owner_args = ("", ()) if who.is_admin else (" AND a.owner_id = ?",
                                                           (who.user_id,))
    rows = ctx.catalog.all(
        "SELECT a.asset_id, a.owner_id, a.hash, a.file_size, a.type, f.phash,"
        " f.thumbprint, f.aspect, f.spread, sm.stack_id FROM assets a"
        " LEFT JOIN asset_fingerprints f ON f.asset_id = a.asset_id"
        " LEFT JOIN stack_members sm ON sm.asset_id = a.asset_id"
        " WHERE a.repository_id = ? AND a.is_deleted = 0 AND a.is_missing = 0"
        f"{owner_sql}", (repo, *owner_args))
    decided = ctx.catalog.all(
        "SELECT m1.asset_id AS a, m2.asset_id AS b FROM duplicate_groups g"
        " JOIN duplicate_members m1 USING (group_id) JOIN duplicate_members m2"
        " ON m2.group_id = g.group_id AND m2.asset_id > m1.asset_id"
        " WHERE g.repository_id = ? AND g.status != 'pending'", (repo,))
    decided_pairs = [(r["a"], r["b"]) for r in decided]

    by_owner: dict[int | None, list[Candidate]] = {}
    facts: dict[str, dict] = {}
    for row in rows:
        facts[row["asset_id"]] = row
        by_owner.setdefault(row["owner_id"], []).append(_candidate(row))
    found = [(owner, group) for owner, candidates in by_owner.items()
             for group in duplicate_graph.build(candidates, decided_pairs)]

    stamp = now_iso()
    _replace_pending(ctx, who, repo, found, stamp)
    counts = {"exact": 0, "phash": 0, "mixed": 0}
    for _, group in found:
        counts[group.method] += 1
    log.info("duplicate detection in repository %s: %d group(s) over %d asset(s)",
             repo, len(found), len(rows))
    return {
        "groups": len(found), "exact_groups": counts["exact"],
        "phash_groups": counts["phash"], "mixed_groups": counts["mixed"],
        "assets_affected": sum(len(g.asset_ids) for _, g in found),
        "generated_at": api(stamp),
    }


def _candidate(row: dict) -> Candidate:
    # Only photos are compared by look: two videos with similar first frames are
    # rarely the same video.
    look = None
    if row["type"] == "PHOTO" and row["phash"]:
        look = fingerprint.Fingerprint(row["phash"], bytes(row["thumbprint"]),
                                       row["aspect"], row["spread"])
    return Candidate(row["asset_id"], row["hash"], row["file_size"] or 0, look,
                     row["stack_id"])


def recommended_keeper(members: list[dict]) -> dict:
    """Largest file, then highest rating, then earliest capture, then lowest id."""
    return min(members, key=lambda m: (
        -(m["file_size"] or 0), -(m["rating"] or 0),
        m["taken_time"] or m["upload_time"] or "", uuid.UUID(m["asset_id"]).bytes))


def _replace_pending(ctx: Context, who: Principal, repo: str,
                     found: list[tuple[int | None, duplicate_graph.Group]],
                     stamp: str) -> None:
    member_ids = sorted({a for _, g in found for a in g.asset_ids})
    members = _asset_rows(ctx, member_ids)

    def write(conn) -> None:
        scope, args = ("", ()) if who.is_admin else (" AND owner_id = ?",
                                                     (who.user_id,))
        previous = {}
        for row in conn.execute(
                "SELECT g.group_id, group_concat(m.asset_id) AS ids FROM"
                " duplicate_groups g JOIN duplicate_members m USING (group_id)"
                f" WHERE g.repository_id = ? AND g.status = 'pending'{scope}"
                " GROUP BY g.group_id", (repo, *args)).fetchall():
            previous[frozenset(row["ids"].split(","))] = row["group_id"]
        conn.execute("DELETE FROM duplicate_groups WHERE repository_id = ?"
                     f" AND status = 'pending'{scope}", (repo, *args))

        for owner, group in found:
            # The same members keep the same group id, so a page that shows a group
            # still finds it after another detection run.
            group_id = previous.get(frozenset(group.asset_ids)) or str(uuid.uuid4())
            rows = [members[a] for a in group.asset_ids]
            keeper = recommended_keeper(rows)["asset_id"]
            conn.execute(
                "INSERT INTO duplicate_groups (group_id, repository_id, owner_id,"
                " method, status, recommended_keeper_asset_id, detection_version,"
                " detected_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                (group_id, repo, owner, group.method, keeper, DETECTION_VERSION,
                 stamp))
            conn.executemany(
                "INSERT INTO duplicate_members (group_id, asset_id, role, file_size)"
                " VALUES (?, ?, ?, ?)",
                [(group_id, r["asset_id"],
                  "keeper" if r["asset_id"] == keeper else "candidate",
                  r["file_size"] or 0) for r in rows])
            conn.executemany(
                "INSERT INTO duplicate_edges (group_id, asset_id_a, asset_id_b,"
                " method, distance, confidence) VALUES (?, ?, ?, ?, ?, ?)",
                [(group_id, e.asset_id_a, e.asset_id_b, e.method, e.distance,
                  e.confidence) for e in group.edges])

    ctx.catalog.write(write)


def _asset_rows(ctx: Context, asset_ids: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for start in range(0, len(asset_ids), 500):
        chunk = asset_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in ctx.catalog.all(
                f"SELECT * FROM assets WHERE asset_id IN ({marks})", chunk):
            out[row["asset_id"]] = row
    return out


# -- reading --------------------------------------------------------------------------


def _scope(who: Principal, repository_id: object) -> tuple[str, list]:
    clauses, args = [], []
    if repository_id not in (None, ""):
        if not isinstance(repository_id, str):
            raise BadRequest("Invalid request data", "repository_id must be a string")
        clauses.append("g.repository_id = ?")
        args.append(repositories.valid_uuid(repository_id))
    if not who.is_admin:
        clauses.append("g.owner_id = ?")
        args.append(who.user_id)
    return (" AND ".join(clauses) or "1"), args


# A pending group whose members went to the trash one by one is no longer a choice.
LIVE_PENDING = (
    "(g.status != 'pending' OR (SELECT COUNT(*) FROM duplicate_members lm JOIN assets"
    " la ON la.asset_id = lm.asset_id WHERE lm.group_id = g.group_id"
    " AND la.is_deleted = 0) >= 2)"
)


def list_groups(ctx: Context, who: Principal, repository_id: object, status: str,
                limit: int, offset: int) -> dict:
    status = status or "pending"
    if status not in STATUSES:
        raise BadRequest("Invalid request data",
                         "status must be one of " + ", ".join(STATUSES))
    where, args = _scope(who, repository_id)
    where = f"{where} AND g.status = ? AND {LIVE_PENDING}"
    args.append(status)

    total = ctx.catalog.scalar(f"SELECT COUNT(*) FROM duplicate_groups g WHERE {where}",
                               args)
    rows = ctx.catalog.all(
        f"SELECT g.* FROM duplicate_groups g WHERE {where} ORDER BY"
        " (SELECT SUM(file_size) FROM duplicate_members m WHERE m.group_id ="
        " g.group_id) DESC, g.detected_at DESC, g.group_id LIMIT ? OFFSET ?",
        [*args, limit, offset])
    return {"groups": [_group_dto(ctx, row, with_edges=False) for row in rows],
            "total": total, "limit": limit, "offset": offset}


def _group_row(ctx: Context, who: Principal, group_id: str) -> dict:
    row = ctx.catalog.one("SELECT * FROM duplicate_groups WHERE group_id = ?",
                          (group_id,))
    if row is None:
        raise NotFound("Duplicate group not found")
    who.check_owns(row["owner_id"], "Duplicate group")
    return row


def get_group(ctx: Context, who: Principal, group_id: str) -> dict:
    return _group_dto(ctx, _group_row(ctx, who, group_id), with_edges=True)


def _group_dto(ctx: Context, group: dict, with_edges: bool) -> dict:
    members = ctx.catalog.all(
        "SELECT a.*, m.role AS member_role, m.file_size AS member_size FROM"
        " duplicate_members m JOIN assets a USING (asset_id) WHERE m.group_id = ?"
        " ORDER BY m.role = 'keeper' DESC, a.file_size DESC, a.asset_id",
        (group["group_id"],))
    total = sum(m["member_size"] for m in members)
    keeper_id = group["keeper_asset_id"] or group["recommended_keeper_asset_id"]
    keeper_size = next((m["member_size"] for m in members
                        if m["asset_id"] == keeper_id), 0)
    out = {
        "group_id": group["group_id"],
        "repository_id": group["repository_id"],
        "method": group["method"],
        "status": group["status"],
        "asset_count": len(members),
        "total_size": total,
        "recoverable_bytes": total - keeper_size if group["status"] == "pending"
        else 0,
        "detection_version": group["detection_version"],
        "detected_at": api(group["detected_at"]),
        "assets": [{"asset": asset_dto(m), "role": m["member_role"],
                    "file_size": m["member_size"]} for m in members],
    }
    optional = {
        "recommended_keeper_asset_id": group["recommended_keeper_asset_id"],
        "keeper_asset_id": group["keeper_asset_id"],
        "resolved_at": api(group["resolved_at"]),
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if with_edges:
        out["edges"] = [
            {"asset_id_a": e["asset_id_a"], "asset_id_b": e["asset_id_b"],
             "method": e["method"], "distance": e["distance"],
             "confidence": e["confidence"]}
            for e in ctx.catalog.all(
                "SELECT * FROM duplicate_edges WHERE group_id = ?"
                " ORDER BY method, distance, asset_id_a, asset_id_b",
                (group["group_id"],))
        ]
    return out


def summary(ctx: Context, who: Principal, repository_id: object) -> dict:
    where, args = _scope(who, repository_id)
    counts = {r["status"]: r["n"] for r in ctx.catalog.all(
        f"SELECT g.status, COUNT(*) AS n FROM duplicate_groups g WHERE {where}"
        f" AND {LIVE_PENDING} GROUP BY g.status", args)}
    pending = ctx.catalog.one(
        "SELECT COUNT(*) AS assets, SUM(m.role != 'keeper') AS spare,"
        " SUM(CASE WHEN m.role != 'keeper' THEN m.file_size ELSE 0 END) AS bytes"
        " FROM duplicate_groups g JOIN duplicate_members m USING (group_id)"
        f" WHERE {where} AND g.status = 'pending' AND {LIVE_PENDING}", args) or {}
    out = {
        "pending_groups": counts.get("pending", 0),
        "merged_groups": counts.get("merged", 0),
        "dismissed_groups": counts.get("dismissed", 0),
        "pending_assets": pending.get("assets") or 0,
        "recoverable_assets": pending.get("spare") or 0,
        "recoverable_bytes": pending.get("bytes") or 0,
    }
    last = ctx.catalog.scalar(
        f"SELECT MAX(g.detected_at) FROM duplicate_groups g WHERE {where}", args)
    if last:
        out["last_detected_at"] = api(last)
    return out


# -- decisions ------------------------------------------------------------------------


def dismiss(ctx: Context, who: Principal, group_id: str) -> None:
    group = _group_row(ctx, who, group_id)
    if group["status"] != "pending":
        raise Conflict("Duplicate group already resolved",
                       f"the group is {group['status']}")

    def write(conn) -> int:
        conn.execute("UPDATE duplicate_groups SET status = 'dismissed',"
                     " resolved_at = ? WHERE group_id = ? AND status = 'pending'",
                     (now_iso(), group_id))
        return conn.changes()

    if not ctx.catalog.write(write):
        raise Conflict("Duplicate group already resolved")
    log.info("duplicate group %s dismissed by %s", group_id, who.username)


def _id_list(body: dict, name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest("Invalid request data", f"{name} must be a list of ids")
    return [repositories.valid_uuid(v) for v in value]


def _policy(body: dict) -> dict[str, bool]:
    given = body.get("policy") or {}
    if not isinstance(given, dict):
        raise BadRequest("Invalid request data", "policy must be an object")
    policy = dict(MERGE_POLICY)
    for key, value in given.items():
        if key in policy and value is not None:
            if not isinstance(value, bool):
                raise BadRequest("Invalid request data", f"policy.{key} must be true"
                                 " or false")
            policy[key] = value
    return policy


def merge(ctx: Context, who: Principal, group_id: str, body: dict) -> dict:
    group = _group_row(ctx, who, group_id)
    keeper = body.get("keeper_asset_id")
    if not isinstance(keeper, str) or not keeper:
        raise BadRequest("Invalid request data", "keeper_asset_id is required")
    keeper = repositories.valid_uuid(keeper)
    chosen = _id_list(body, "duplicate_asset_ids")
    policy = _policy(body)
    if group["status"] != "pending":
        raise Conflict("Duplicate group already resolved",
                       f"the group is {group['status']}")

    members = {r["asset_id"]: r for r in ctx.catalog.all(
        "SELECT m.asset_id, m.file_size, a.rating, a.liked, a.description"
        " FROM duplicate_members m JOIN assets a USING (asset_id)"
        " WHERE m.group_id = ?", (group_id,))}
    if keeper not in members:
        raise BadRequest("Invalid request data", "the keeper is not in the group")
    duplicates = chosen if chosen is not None else [a for a in members if a != keeper]
    if keeper in duplicates:
        raise BadRequest("Invalid request data", "the keeper cannot be a duplicate")
    if not duplicates or any(d not in members for d in duplicates):
        raise BadRequest("Invalid request data",
                         "duplicate_asset_ids must be other members of the group")
    duplicates = sorted(set(duplicates))

    recovered = ctx.catalog.write(lambda conn: _apply_merge(
        conn, group, keeper, duplicates, members, policy))
    log.info("duplicate group %s merged by %s: kept %s, %d to the trash",
             group_id, who.username, keeper, len(duplicates))
    _after_trash(ctx, group["repository_id"])
    return {"group_id": group_id, "keeper_asset_id": keeper,
            "merged_duplicates": duplicates, "recovered_bytes": recovered}


def _apply_merge(conn, group: dict, keeper: str, duplicates: list[str],
                 members: dict[str, dict], policy: dict[str, bool]) -> int:
    status = conn.execute("SELECT status FROM duplicate_groups WHERE group_id = ?",
                          (group["group_id"],)).fetchall()
    if not status or status[0]["status"] != "pending":
        raise Conflict("Duplicate group already resolved")
    marks = ",".join("?" * len(duplicates))
    stamp = now_iso()

    if policy["albums"]:
        conn.execute(
            "INSERT OR IGNORE INTO album_assets (album_id, asset_id, position,"
            " added_time) SELECT album_id, ?, MIN(position), MIN(added_time)"
            f" FROM album_assets WHERE asset_id IN ({marks}) GROUP BY album_id",
            (keeper, *duplicates))
        conn.execute(f"UPDATE albums SET cover_asset_id = ? WHERE cover_asset_id IN"
                     f" ({marks})", (keeper, *duplicates))
    if policy["tags"]:
        conn.execute(
            "INSERT OR IGNORE INTO asset_tags (asset_id, tag_id, source, confidence)"
            " SELECT ?, tag_id, source, MAX(confidence) FROM asset_tags"
            f" WHERE asset_id IN ({marks}) GROUP BY tag_id, source",
            (keeper, *duplicates))
    if policy["faces"] and group["method"] == "exact":
        # The same bytes have the same faces at the same places.
        conn.execute(f"UPDATE faces SET asset_id = ? WHERE asset_id IN ({marks})",
                     (keeper, *duplicates))

    kept, others = members[keeper], [members[d] for d in duplicates]
    rating = max([kept["rating"] or 0, *(o["rating"] or 0 for o in others)]) \
        if policy["rating"] else kept["rating"]
    liked = int(bool(kept["liked"]) or any(o["liked"] for o in others)) \
        if policy["liked"] else kept["liked"]
    description = kept["description"]
    if policy["description"] and not description:
        description = next((o["description"] for o in others if o["description"]),
                           None)
    conn.execute("UPDATE assets SET rating = ?, liked = ?, description = ?,"
                 " updated_at = ? WHERE asset_id = ?",
                 (rating, liked, description, stamp, keeper))
    conn.execute("UPDATE assets SET is_deleted = 1, deleted_at = COALESCE(deleted_at,"
                 f" ?), updated_at = ? WHERE asset_id IN ({marks})",
                 (stamp, stamp, *duplicates))

    conn.execute("UPDATE duplicate_members SET role = CASE WHEN asset_id = ? THEN"
                 " 'keeper' WHEN asset_id IN (" + marks + ") THEN 'duplicate'"
                 " ELSE 'candidate' END WHERE group_id = ?",
                 (keeper, *duplicates, group["group_id"]))
    conn.execute("UPDATE duplicate_groups SET status = 'merged', keeper_asset_id = ?,"
                 " resolved_at = ? WHERE group_id = ?",
                 (keeper, stamp, group["group_id"]))
    return sum(members[d]["file_size"] or 0 for d in duplicates)


def _after_trash(ctx: Context, repository_id: str) -> None:
    # Photos in the trash leave their place clusters.
    from lumilio.services import locations

    locations.request_rebuild(ctx, repository_id)

"""Stacks: several files of one moment shown as one item.

Three detectors group the assets of a repository, in this order, each taking only
assets that are in no stack yet and that nobody took out of a stack by hand:

- RAW+JPEG: files with the same base name (lower-cased stem; a Lightroom copy suffix
  `-2`..`-999` removed) and capture times at most 5 s apart form a `raw_jpeg` stack
  when the group holds a RAW file, or an unsuffixed file together with a suffixed
  copy (`abc001.jpg` + `abc001-2.jpg`). A bare suffixed series (`DSC-1.jpg`,
  `DSC-2.jpg`) is not enough: those are different photos.
- Live Photo: exactly one photo and one video of the same owner that share Apple's
  content identifier form a `live_photo` stack.
- Burst: at least 3 photos of one owner and camera model whose capture times (read
  from EXIF or XMP, not guessed from the file) follow each other at most 1 s apart.
  The API has no burst kind: bursts are `manual` stacks whose origin is kept as
  `burst` in the catalog.

The first member by position is the cover. Detection is idempotent and runs as a job
after every scan and after the metadata of a photo, or of anything with a content
identifier, so pairs come together whatever order their files arrive in.
"""

from __future__ import annotations

import itertools
import logging
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from lumilio.auth.principal import Principal
from lumilio.catalog.db import dumps
from lumilio.context import Context
from lumilio.errors import BadRequest, Conflict, NotFound
from lumilio.jobs.queue import register
from lumilio.services.assets import row_for
from lumilio.timeutil import now_iso, parse

log = logging.getLogger(__name__)

RAW_JPEG_GAP_S = 5.0
BURST_GAP_S = 1.0
BURST_MIN_FRAMES = 3
MAX_MANUAL_MEMBERS = 500
_COPY_SUFFIX = re.compile(r"-\d{1,3}$")
_JPEG_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif")
# Capture times worth comparing to the second: read from the file's own metadata.
_TRUSTED_TIME_SOURCES = ("exif", "xmp")
# When two members were taken at the same moment, the original comes first.
_RELATION_RANK = {"raw_original": 0, "jpeg_original": 1, "alternative": 2,
                  "edited_version": 3}


@dataclass
class Candidate:
    asset_id: str
    repository_id: str
    owner_id: int | None
    type: str
    filename: str
    is_raw: bool
    moment: datetime
    camera: str | None
    trusted_time: bool
    content_identifier: str | None


@dataclass
class Group:
    kind: str  # raw_jpeg | live_photo | manual
    origin: str  # raw_jpeg | live_photo | burst | user
    members: list[tuple[str, str]]  # (asset_id, relation) in position order


# -- reading ----------------------------------------------------------------------


def stack_dto(ctx: Context, stack_id: str) -> dict:
    """StackDTO: the stack with its live members in position order."""
    head = ctx.catalog.one("SELECT stack_id, stack_kind FROM stacks WHERE stack_id = ?",
                           (stack_id,))
    if head is None:
        raise NotFound("Stack not found")
    members = ctx.catalog.all(
        "SELECT sm.asset_id, sm.relation, sm.position FROM stack_members sm"
        " JOIN assets a USING (asset_id) WHERE sm.stack_id = ? AND a.is_deleted = 0"
        " ORDER BY sm.position, sm.asset_id", (stack_id,))
    return {
        "stack_id": head["stack_id"],
        "stack_kind": head["stack_kind"],
        "member_count": len(members),
        "members": [{"asset_id": m["asset_id"], "relation": m["relation"],
                     "position": m["position"]} for m in members],
    }


def for_asset(ctx: Context, who: Principal, asset_id: str) -> dict:
    row_for(ctx, who, asset_id)
    found = ctx.catalog.one("SELECT stack_id FROM stack_members WHERE asset_id = ?",
                            (asset_id,))
    if found is None:
        raise NotFound("Asset is not in a stack")
    return {"asset_id": asset_id, "stack": stack_dto(ctx, found["stack_id"])}


# -- changes by hand --------------------------------------------------------------


def create_manual(ctx: Context, who: Principal, asset_ids: list) -> dict:
    """`POST /assets/stacks`: the given assets, in the given order, as one stack."""
    ids = _distinct_ids(asset_ids)
    rows = [row_for(ctx, who, asset_id) for asset_id in ids]
    if any(r["is_deleted"] for r in rows):
        raise BadRequest("Invalid request data", "deleted assets cannot be stacked")
    owners = {r["owner_id"] for r in rows}
    if len(owners) > 1:
        raise BadRequest("Invalid request data",
                         "assets of different owners cannot share a stack")
    repositories = {r["repository_id"] for r in rows}
    group = Group("manual", "user", [(i, "alternative") for i in ids])

    def create(conn) -> str:
        marks = ",".join("?" * len(ids))
        taken = conn.execute(
            f"SELECT asset_id FROM stack_members WHERE asset_id IN ({marks})",
            ids).fetchall()
        if taken:
            raise Conflict("Asset already in a stack",
                           f"{taken[0]['asset_id']} is already in a stack")
        conn.execute(f"DELETE FROM stack_exclusions WHERE asset_id IN ({marks})", ids)
        repository = repositories.pop() if len(repositories) == 1 else None
        return _insert(conn, group, repository, owners.pop())

    stack_id = ctx.catalog.write(create)
    log.info("%s stacked %d assets by hand (stack %s)", who.username, len(ids),
             stack_id)
    return stack_dto(ctx, stack_id)


def _distinct_ids(asset_ids: list) -> list[str]:
    if not isinstance(asset_ids, list) or not all(isinstance(i, str)
                                                  for i in asset_ids):
        raise BadRequest("Invalid request data", "asset_ids must be a list of ids")
    ids: list[str] = []
    for raw in asset_ids:
        try:
            value = str(uuid.UUID(raw))
        except ValueError:
            raise BadRequest("Invalid id", f"{raw!r} is not a valid id") from None
        if value not in ids:
            ids.append(value)
    if len(ids) < 2:
        raise BadRequest("Invalid request data", "a stack needs at least 2 assets")
    if len(ids) > MAX_MANUAL_MEMBERS:
        raise BadRequest("Invalid request data",
                         f"a stack holds at most {MAX_MANUAL_MEMBERS} assets")
    return ids


def unstack(ctx: Context, who: Principal, asset_id: str) -> None:
    """Take an asset out of its stack; a stack left with one member is dissolved.

    The asset is marked so that automatic detection does not stack it again.
    """
    row_for(ctx, who, asset_id)

    def remove(conn) -> str | None:
        found = conn.execute("SELECT stack_id FROM stack_members WHERE asset_id = ?",
                             (asset_id,)).fetchall()
        if not found:
            return None
        stack_id = found[0]["stack_id"]
        conn.execute("DELETE FROM stack_members WHERE asset_id = ?", (asset_id,))
        conn.execute(
            "INSERT OR IGNORE INTO stack_exclusions (asset_id, created_at)"
            " VALUES (?, ?)", (asset_id, now_iso()))
        left = conn.execute("SELECT COUNT(*) AS n FROM stack_members"
                            " WHERE stack_id = ?",
                            (stack_id,)).fetchall()[0]["n"]
        if left < 2:
            conn.execute("DELETE FROM stacks WHERE stack_id = ?", (stack_id,))
        return stack_id

    stack_id = ctx.catalog.write(remove)
    if stack_id is None:
        raise NotFound("Asset is not in a stack")
    log.info("%s took %s out of stack %s", who.username, asset_id, stack_id)


# -- detection --------------------------------------------------------------------


def request_detection(ctx: Context, repository_id: str) -> None:
    """Queue a detection run for the repository unless one is already waiting.

    A waiting run sees every change committed before it starts, so one is enough;
    this keeps an import of thousands of photos from queueing thousands of runs.
    """
    args = dumps({"repository_id": repository_id})
    waiting = ctx.catalog.one(
        "SELECT job_id FROM jobs WHERE kind = 'detect_stacks' AND args = ?"
        " AND state IN ('available', 'scheduled', 'retryable') LIMIT 1", (args,))
    if waiting is None:
        ctx.jobs.enqueue("detect_stacks", repository_id=repository_id)


# Below imports and thumbnails, so a busy import ends in one run; above transcodes.
@register("detect_stacks", retries=1, priority=-1)
def run_detection(ctx: Context, repository_id: str) -> None:
    if ctx.catalog.one("SELECT 1 AS x FROM repositories WHERE repository_id = ?",
                       (repository_id,)) is None:
        return
    created = detect(ctx, repository_id)
    if created:
        log.info("stack detection in repository %s: %d new stack(s)", repository_id,
                 created)


def detect(ctx: Context, repository_id: str) -> int:
    """Run every detector over the repository; returns how many stacks were made."""
    created = 0
    created += _save(ctx, repository_id, raw_jpeg_groups(_candidates(
        ctx, "a.repository_id = ? AND a.type = 'PHOTO'", (repository_id,))))
    created += _save(ctx, repository_id, live_photo_groups(_candidates(
        ctx, "a.content_identifier IN (SELECT content_identifier FROM assets"
        " WHERE repository_id = ? AND content_identifier IS NOT NULL)",
        (repository_id,))))
    created += _save(ctx, repository_id, burst_groups(_candidates(
        ctx, "a.repository_id = ? AND a.type = 'PHOTO'", (repository_id,))))
    return created


def _candidates(ctx: Context, where: str, params: tuple) -> list[Candidate]:
    rows = ctx.catalog.all(
        "SELECT a.asset_id, a.repository_id, a.owner_id, a.type,"
        " a.original_filename, a.is_raw, a.sort_time, a.camera_model,"
        " a.taken_source, a.content_identifier FROM assets a"
        f" WHERE {where} AND a.is_deleted = 0 AND a.is_missing = 0"
        " AND NOT EXISTS (SELECT 1 FROM stack_members sm"
        "                 WHERE sm.asset_id = a.asset_id)"
        " AND NOT EXISTS (SELECT 1 FROM stack_exclusions x"
        "                 WHERE x.asset_id = a.asset_id)", params)
    out = []
    for r in rows:
        moment = parse(r["sort_time"])
        if moment is None:
            continue
        out.append(Candidate(
            asset_id=r["asset_id"], repository_id=r["repository_id"],
            owner_id=r["owner_id"], type=r["type"], filename=r["original_filename"],
            is_raw=bool(r["is_raw"]), moment=moment, camera=r["camera_model"],
            trusted_time=r["taken_source"] in _TRUSTED_TIME_SOURCES,
            content_identifier=r["content_identifier"]))
    return out


def base_name(filename: str) -> tuple[str, bool]:
    """The name RAW+JPEG siblings share, and whether it carried a copy suffix."""
    stem = PurePosixPath(filename).stem.lower()
    stripped = _COPY_SUFFIX.sub("", stem)
    return stripped, stripped != stem


def _relation(c: Candidate) -> str:
    if c.is_raw:
        return "raw_original"
    if base_name(c.filename)[1]:
        return "edited_version"
    if PurePosixPath(c.filename).suffix.lower() in _JPEG_EXTENSIONS:
        return "jpeg_original"
    return "alternative"


def raw_jpeg_groups(candidates: list[Candidate]) -> list[Group]:
    by_name: dict[tuple, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_name[(c.owner_id, base_name(c.filename)[0])].append(c)

    groups = []
    for members in by_name.values():
        if len(members) < 2:
            continue
        for cluster in _clusters(members, RAW_JPEG_GAP_S):
            if len(cluster) >= 2 and _is_sibling_set(cluster):
                ordered = sorted(cluster, key=lambda c: (
                    c.moment, _RELATION_RANK[_relation(c)], c.filename))
                groups.append(Group("raw_jpeg", "raw_jpeg",
                                    [(c.asset_id, _relation(c)) for c in ordered]))
    return groups


def _is_sibling_set(cluster: list[Candidate]) -> bool:
    if any(c.is_raw for c in cluster):
        return True
    suffixed = [base_name(c.filename)[1] for c in cluster]
    return any(suffixed) and not all(suffixed)


def live_photo_groups(candidates: list[Candidate]) -> list[Group]:
    by_key: dict[tuple, list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.content_identifier:
            by_key[(c.owner_id, c.content_identifier)].append(c)

    groups = []
    for members in by_key.values():
        photos = [c for c in members if c.type == "PHOTO"]
        videos = [c for c in members if c.type == "VIDEO"]
        # More than one of either is ambiguous (copies, re-imports): leave it.
        if len(photos) == 1 and len(videos) == 1:
            groups.append(Group("live_photo", "live_photo", [
                (photos[0].asset_id, "live_photo_still"),
                (videos[0].asset_id, "live_photo_video")]))
    return groups


def burst_groups(candidates: list[Candidate]) -> list[Group]:
    by_camera: dict[tuple, list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.trusted_time and c.camera:
            by_camera[(c.owner_id, c.camera)].append(c)

    groups = []
    for members in by_camera.values():
        for cluster in _clusters(members, BURST_GAP_S):
            if len(cluster) >= BURST_MIN_FRAMES:
                ordered = sorted(cluster, key=lambda c: (c.moment, c.filename))
                groups.append(Group("manual", "burst",
                                    [(c.asset_id, "alternative") for c in ordered]))
    return groups


def _clusters(members: list[Candidate], gap_s: float) -> list[list[Candidate]]:
    """Members in time order, split wherever two neighbours are over `gap_s` apart."""
    ordered = sorted(members, key=lambda c: c.moment)
    clusters = [[ordered[0]]]
    for previous, current in itertools.pairwise(ordered):
        if (current.moment - previous.moment).total_seconds() > gap_s:
            clusters.append([])
        clusters[-1].append(current)
    return clusters


def _save(ctx: Context, repository_id: str, groups: list[Group]) -> int:
    if not groups:
        return 0

    def save(conn) -> int:
        made = 0
        for group in groups:
            ids = [asset_id for asset_id, _ in group.members]
            marks = ",".join("?" * len(ids))
            # Checked again inside the transaction: a person may have stacked one of
            # them since the candidates were read.
            busy = conn.execute(
                f"SELECT asset_id FROM stack_members WHERE asset_id IN ({marks})"
                f" UNION SELECT asset_id FROM stack_exclusions WHERE asset_id IN"
                f" ({marks})", ids + ids).fetchall()
            if busy:
                continue
            owner = conn.execute("SELECT owner_id FROM assets WHERE asset_id = ?",
                                 (ids[0],)).fetchall()[0]["owner_id"]
            _insert(conn, group, repository_id, owner)
            made += 1
        return made

    made = ctx.catalog.write(save)
    for group in groups[:20]:
        log.debug("stacked %s (%s): %s", group.kind, group.origin,
                  [asset_id for asset_id, _ in group.members])
    return made


def _insert(conn, group: Group, repository_id: str | None,
            owner_id: int | None) -> str:
    stack_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO stacks (stack_id, stack_kind, repository_id, owner_id,"
        " created_at, origin) VALUES (?, ?, ?, ?, ?, ?)",
        (stack_id, group.kind, repository_id, owner_id, now_iso(), group.origin))
    conn.executemany(
        "INSERT INTO stack_members (stack_id, asset_id, relation, position)"
        " VALUES (?, ?, ?, ?)",
        [(stack_id, asset_id, relation, position)
         for position, (asset_id, relation) in enumerate(group.members)])
    return stack_id

"""People: clusters of faces, within one repository, owner and face model.

A rebuild clusters every counted face of a scope with HDBSCAN (faces of one person
form a dense region of the embedding space; HDBSCAN needs no number of people and
leaves stray faces out as noise), then gives each cluster the person most of its
faces belonged to before, so that names survive; a named (confirmed) person is
never deleted. Between rebuilds a new face joins the nearest person
(`assign_new_faces`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter

import numpy as np

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound
from lumilio.library import layout
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

ALGORITHM = "hdbscan-v1"
MIN_CONFIDENCE = 0.7
MIN_CLUSTER = 3
# Cosine similarity of SFace vectors above which two faces are taken for one
# person (OpenCV's own rule for SFace is 0.363).
JOIN_SIMILARITY = 0.40
NAME_MAX = 100

Scope = tuple[str, int | None, str]


def _vectors(rows: list[dict]) -> np.ndarray:
    return np.frombuffer(b"".join(r["embedding"] for r in rows),
                         dtype=np.float32).reshape(len(rows), -1)


def _normalised(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _centroids(rows: list[dict]) -> tuple[list[int], np.ndarray]:
    by_person: dict[int, list[dict]] = {}
    for r in rows:
        by_person.setdefault(r["person_id"], []).append(r)
    ids = list(by_person)
    if not ids:
        return [], np.zeros((0, 0), dtype=np.float32)
    return ids, _normalised(np.stack([_vectors(by_person[p]).mean(0) for p in ids]))


# -- between rebuilds -----------------------------------------------------------------


def assign_new_faces(ctx: Context, asset: dict, face_ids: list[int],
                     model_id: str) -> int:
    """Put a photo's new faces with the people they resemble; returns how many."""
    members = ctx.catalog.all(
        "SELECT f.person_id, f.embedding FROM faces f JOIN people p USING (person_id)"
        " WHERE p.repository_id = ? AND p.owner_id IS ? AND p.model_id = ?"
        " AND f.embedding IS NOT NULL",
        (asset["repository_id"], asset["owner_id"], model_id))
    person_ids, centroids = _centroids(members)
    if not person_ids:
        return 0
    marks = ",".join("?" * len(face_ids))
    fresh = ctx.catalog.all(
        f"SELECT face_id, embedding FROM faces WHERE face_id IN ({marks})"
        " AND confidence >= ?", (*face_ids, MIN_CONFIDENCE))
    if not fresh:
        return 0

    similarity = _vectors(fresh) @ centroids.T
    best = similarity.argmax(axis=1)
    chosen = [(person_ids[b], f["face_id"]) for f, b, s in
              zip(fresh, best, similarity.max(axis=1)) if s >= JOIN_SIMILARITY]

    def save(conn) -> None:
        stamp = now_iso()
        for person_id, face_id in chosen:
            conn.execute("UPDATE faces SET person_id = ? WHERE face_id = ?",
                         (person_id, face_id))
            conn.execute("UPDATE people SET updated_at = ? WHERE person_id = ?",
                         (stamp, person_id))

    if chosen:
        ctx.catalog.write(save)
    return len(chosen)


# -- rebuild ---------------------------------------------------------------------------


def rebuild(ctx: Context, who: Principal, repository_id: str | None) -> dict:
    started = time.monotonic()
    where, params = ["a.is_deleted = 0", "f.embedding IS NOT NULL",
                     "f.confidence >= ?"], [MIN_CONFIDENCE]
    if not who.is_admin:
        where.append("a.owner_id = ?")
        params.append(who.user_id)
    if repository_id:
        where.append("a.repository_id = ?")
        params.append(repository_id)
    rows = ctx.catalog.all(
        "SELECT f.face_id, f.person_id, f.embedding, f.confidence, f.model_id,"
        " a.repository_id, a.owner_id FROM faces f JOIN assets a USING (asset_id)"
        f" WHERE {' AND '.join(where)} ORDER BY f.face_id", params)

    scopes: dict[Scope, list[dict]] = {}
    for r in rows:
        scopes.setdefault((r["repository_id"], r["owner_id"], r["model_id"]),
                          []).append(r)
    totals = Counter(candidate_faces=len(rows))
    for scope, faces in scopes.items():
        totals.update(_rebuild_scope(ctx, scope, faces))

    out = {"algorithm": ALGORITHM, "candidate_faces": totals["candidate_faces"],
           "clustered_faces": totals["clustered_faces"],
           "noise_faces": totals["candidate_faces"] - totals["clustered_faces"],
           "clusters_created": totals["clusters_created"],
           "clusters_reused": totals["clusters_reused"],
           "clusters_total": totals["clusters_created"] + totals["clusters_reused"],
           "duration_ms": int((time.monotonic() - started) * 1000)}
    if repository_id:
        out["repository_id"] = repository_id
    log.info("people rebuilt by %s: %d faces, %d clustered, %d people",
             who.username, out["candidate_faces"], out["clustered_faces"],
             out["clusters_total"])
    return out


def cluster(vectors: np.ndarray) -> np.ndarray:
    """A cluster number per face (-1 for noise)."""
    if len(vectors) < MIN_CLUSTER:
        return np.full(len(vectors), -1)
    import hdbscan  # imported here: it pulls in scikit-learn, slow to import

    # On unit vectors euclidean distance orders pairs as cosine similarity does.
    labels = hdbscan.HDBSCAN(min_cluster_size=MIN_CLUSTER, min_samples=2,
                             metric="euclidean", allow_single_cluster=True,
                             ).fit_predict(vectors.astype(np.float64))

    # HDBSCAN can keep a loose region as one cluster; a face far from its
    # cluster's centre is noise rather than a wrong person.
    for number in set(labels) - {-1}:
        members = labels == number
        centre = _normalised(vectors[members].mean(0))
        far = members & (vectors @ centre < JOIN_SIMILARITY)
        labels[far] = -1
    return labels


def _rebuild_scope(ctx: Context, scope: Scope, faces: list[dict]) -> Counter:
    repository_id, owner_id, model_id = scope
    vectors = _normalised(_vectors(faces))
    labels = cluster(vectors)

    # Noise faces close to a cluster join it, as new faces do between rebuilds.
    groups = sorted(set(labels) - {-1})
    if groups:
        centres = _normalised(np.stack([vectors[labels == g].mean(0) for g in groups]))
        for i in np.nonzero(labels == -1)[0]:
            sims = centres @ vectors[i]
            if sims.max() >= JOIN_SIMILARITY:
                labels[i] = groups[int(sims.argmax())]

    existing = {r["person_id"]: r for r in ctx.catalog.all(
        "SELECT person_id, is_confirmed FROM people WHERE repository_id = ?"
        " AND owner_id IS ? AND model_id = ?", (repository_id, owner_id, model_id))}
    # Bigger clusters choose first; each takes the person most of its faces had.
    order = sorted(groups, key=lambda g: -int((labels == g).sum()))
    taken: dict[int, int | None] = {}
    used: set[int] = set()
    for g in order:
        before = Counter(faces[i]["person_id"] for i in np.nonzero(labels == g)[0]
                         if faces[i]["person_id"] in existing)
        ranked = sorted(before.items(), key=lambda kv: (
            -existing[kv[0]]["is_confirmed"], -kv[1]))
        taken[g] = next((p for p, _ in ranked if p not in used), None)
        if taken[g] is not None:
            used.add(taken[g])

    def save(conn) -> Counter:
        stamp = now_iso()
        ids = [f["face_id"] for f in faces]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            conn.execute(f"UPDATE faces SET person_id = NULL WHERE face_id IN"
                         f" ({','.join('?' * len(chunk))})", chunk)
        counts = Counter()
        for g in order:
            person_id = taken[g]
            if person_id is None:
                conn.execute(
                    "INSERT INTO people (owner_id, repository_id, model_id,"
                    " is_confirmed, created_at, updated_at) VALUES (?,?,?,0,?,?)",
                    (owner_id, repository_id, model_id, stamp, stamp))
                person_id = conn.last_insert_rowid()
                counts["clusters_created"] += 1
            else:
                counts["clusters_reused"] += 1
            members = [faces[i] for i in np.nonzero(labels == g)[0]]
            for f in members:
                conn.execute("UPDATE faces SET person_id = ? WHERE face_id = ?",
                             (person_id, f["face_id"]))
            cover = max(members, key=lambda f: f["confidence"])["face_id"]
            conn.execute("UPDATE people SET cover_face_id = ?, updated_at = ?"
                         " WHERE person_id = ?", (cover, stamp, person_id))
            counts["clustered_faces"] += len(members)
        # People nobody named and no cluster kept are gone; named ones stay.
        for person_id, row in existing.items():
            if person_id not in used and not row["is_confirmed"]:
                conn.execute("DELETE FROM people WHERE person_id = ?", (person_id,))
        return counts

    return ctx.catalog.write(save)


# -- reading and renaming --------------------------------------------------------------

_SUMMARY = (
    "SELECT p.*, (SELECT COUNT(*) FROM faces f JOIN assets a USING (asset_id)"
    "  WHERE f.person_id = p.person_id AND a.is_deleted = 0) AS member_count,"
    " (SELECT COUNT(DISTINCT f.asset_id) FROM faces f JOIN assets a USING (asset_id)"
    "  WHERE f.person_id = p.person_id AND a.is_deleted = 0) AS asset_count,"
    " (SELECT f.asset_id FROM faces f WHERE f.face_id = p.cover_face_id)"
    "  AS cover_asset,"
    " (SELECT f.asset_id FROM faces f WHERE f.person_id = p.person_id"
    "  ORDER BY f.confidence DESC LIMIT 1) AS best_asset"
    " FROM people p"
)


def _dto(row: dict) -> dict:
    out = {"person_id": row["person_id"], "is_confirmed": bool(row["is_confirmed"]),
           "member_count": row["member_count"], "asset_count": row["asset_count"],
           "created_at": api(row["created_at"]), "updated_at": api(row["updated_at"])}
    if row["name"]:
        out["name"] = row["name"]
    representative = row["cover_asset"] or row["best_asset"]
    if representative:
        out["representative_asset_id"] = representative
        out["cover_face_image_path"] = f"/api/v1/people/{row['person_id']}/cover"
    return out


def _scope_where(who: Principal | None, repository_id: str | None
                 ) -> tuple[list[str], list]:
    where, params = [], []
    if who is not None and not who.is_admin:
        where.append("p.owner_id = ?")
        params.append(who.user_id)
    if repository_id:
        where.append("p.repository_id = ?")
        params.append(repository_id)
    return where, params


def list_people(ctx: Context, who: Principal | None, repository_id: str | None,
                limit: int, offset: int) -> dict:
    where, params = _scope_where(who, repository_id)
    where.append("(member_count > 0 OR p.is_confirmed = 1)")
    sql = f"SELECT * FROM ({_SUMMARY}) p WHERE {' AND '.join(where)}"
    total = ctx.catalog.scalar(f"SELECT COUNT(*) FROM ({sql})", params)
    rows = ctx.catalog.all(
        f"{sql} ORDER BY p.is_confirmed DESC, p.member_count DESC, p.updated_at DESC,"
        " p.person_id LIMIT ? OFFSET ?", [*params, limit, offset])
    return {"people": [_dto(r) for r in rows], "total": total, "limit": limit,
            "offset": offset}


def _row(ctx: Context, who: Principal | None, person_id: int,
         repository_id: str | None = None) -> dict:
    where, params = _scope_where(who, repository_id)
    where.append("p.person_id = ?")
    row = ctx.catalog.one(f"SELECT * FROM ({_SUMMARY}) p WHERE {' AND '.join(where)}",
                          [*params, person_id])
    if row is None:
        raise NotFound("Person not found")
    return row


def get_person(ctx: Context, who: Principal | None, person_id: int,
               repository_id: str | None = None) -> dict:
    return _dto(_row(ctx, who, person_id, repository_id))


def rename(ctx: Context, who: Principal, person_id: int, name: object,
           repository_id: str | None = None) -> dict:
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("Invalid request data", "name is required")
    name = name.strip()
    if len(name) > NAME_MAX or any(ord(c) < 32 for c in name):
        raise BadRequest("Invalid request data", "name is not acceptable")
    _row(ctx, who, person_id, repository_id)
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE people SET name = ?, is_confirmed = 1, updated_at = ?"
        " WHERE person_id = ?", (name, now_iso(), person_id)))
    log.info("person %d named by %s", person_id, who.username)
    return get_person(ctx, who, person_id)


def cover_path(ctx: Context, who: Principal | None, person_id: int,
               repository_id: str | None = None):
    row = _row(ctx, who, person_id, repository_id)
    face = ctx.catalog.one(
        "SELECT f.crop_path, r.path AS repo_path FROM faces f JOIN assets a"
        " USING (asset_id) JOIN repositories r ON r.repository_id = a.repository_id"
        " WHERE f.person_id = ? AND f.crop_path IS NOT NULL"
        " ORDER BY f.face_id = ? DESC, f.confidence DESC LIMIT 1",
        (person_id, row["cover_face_id"]))
    if face is None:
        raise NotFound("Person cover not found")
    from pathlib import Path

    path = layout.resolve(Path(face["repo_path"]), face["crop_path"])
    if not path.is_file():
        raise NotFound("Person cover not found")
    return path

"""Smart search: photos and queries in the active image-text model's vector space.

Each model has its own space (`semantic_spaces`), so switching models never mixes
vectors: the new model's space fills in the background while the old one stays on
disk. The search channel answers the photos whose cosine similarity to the query
reaches the model's own threshold, best first, within the caller's filter; the
classifier preview scores every indexed photo against prompt prototypes.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
from PIL import Image

from lumilio.auth.principal import Principal
from lumilio.catalog import vectors
from lumilio.catalog.vectors import VectorSpace
from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound, Unavailable
from lumilio.ml import packs
from lumilio.ml.manifest import ModelError
from lumilio.ml.registry import DEFAULT_PACK
from lumilio.ml.semantic import ImageTextEmbedder
from lumilio.services import labels, ml, ocr
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

CHANNEL_CAP = 10_000
DEFAULT_NEGATIVES = ["a photo", "an image", "a picture", "a random photograph"]
PREVIEW_MAX = 500
PROMPT_MAX = 32

_lock = threading.Lock()


def space(ctx: Context, embedder: ImageTextEmbedder) -> VectorSpace:
    """The vector space of a model, created on first use."""
    spaces = ctx.runtime.setdefault("vector_spaces", {})
    found = spaces.get(embedder.model_id)
    if found is not None:
        return found
    with _lock:
        if embedder.model_id in spaces:
            return spaces[embedder.model_id]

        def ensure(conn) -> tuple[int, int]:
            rows = conn.execute(
                "SELECT space_id, dim FROM semantic_spaces WHERE model_id = ?",
                (embedder.model_id,)).fetchall()
            if rows:
                space_id, dim = rows[0]["space_id"], rows[0]["dim"]
            else:
                conn.execute("INSERT INTO semantic_spaces (model_id, dim, created_at)"
                             " VALUES (?,?,?)", (embedder.model_id, embedder.dim,
                                                 now_iso()))
                space_id, dim = conn.last_insert_rowid(), embedder.dim
            vectors.create_table(conn, space_id, dim)
            return space_id, dim

        space_id, dim = ctx.catalog.write(ensure)
        if dim != embedder.dim:
            raise ModelError(f"{embedder.model_id}: {embedder.dim}-d vectors for a "
                             f"{dim}-d space")
        spaces[embedder.model_id] = VectorSpace(ctx.catalog, space_id, dim)
        return spaces[embedder.model_id]


def index_asset(ctx: Context, asset: dict, image: Image.Image | None = None,
                embedder: ImageTextEmbedder | None = None) -> bool:
    """Embed a photo into the active space; False when there is nothing to embed
    yet (the label model has not run on it)."""
    embedder = embedder or ml.models(ctx).embedder(ml.active_model(ctx))
    asset_id = asset["asset_id"]
    found = labels.labels_of(ctx, asset_id)
    if not embedder.uses_pixels and not found:
        return False
    if embedder.uses_pixels and image is None:
        from lumilio.pipeline import recognition

        image = recognition.load_image(ctx, asset)
    vector = embedder.embed_asset(image, found, ocr.text_of(ctx, asset_id))
    target = space(ctx, embedder)

    def store(conn) -> int:
        conn.execute(
            "INSERT INTO semantic_vectors (space_id, asset_id, updated_at)"
            " VALUES (?,?,?) ON CONFLICT (space_id, asset_id) DO UPDATE SET"
            " updated_at = excluded.updated_at", (target.space_id, asset_id, now_iso()))
        vector_id = conn.execute(
            "SELECT vector_id FROM semantic_vectors WHERE space_id = ? AND"
            " asset_id = ?", (target.space_id, asset_id)).fetchall()[0]["vector_id"]
        target.write(conn, vector_id, vector)
        return vector_id

    target.remember(ctx.catalog.write(store), vector)
    return True


def indexed_count(ctx: Context, repository_id: str | None = None) -> int:
    embedder = ml.models(ctx).embedder(ml.active_model(ctx))
    params: list = [embedder.model_id]
    extra = ""
    if repository_id:
        extra, params = " AND a.repository_id = ?", [*params, repository_id]
    return ctx.catalog.scalar(
        "SELECT COUNT(*) FROM semantic_vectors sv JOIN semantic_spaces s"
        " USING (space_id) JOIN assets a USING (asset_id) WHERE s.model_id = ?"
        " AND a.type = 'PHOTO' AND a.is_deleted = 0" + extra, params) or 0


# -- search ----------------------------------------------------------------------------


def search(ctx: Context, query: str, where_sql: str, params: list,
           limit: int = CHANNEL_CAP) -> list[tuple[str, float]]:
    """(asset_id, similarity) of the photos the query describes, best first, within
    the filter (`where_sql` over alias `a`). Raises Unavailable when it cannot run."""
    if not ml.runnable(ctx, "semantic"):
        raise Unavailable("Semantic search is currently unavailable",
                          "smart search is switched off or its model is missing")
    embedder = ml.embedder(ctx)
    try:
        vector = embedder.embed_text([query])[0]
        target = space(ctx, embedder)
    except ModelError as exc:
        raise Unavailable("Semantic search is currently unavailable",
                          str(exc)) from None
    hits = target.search(vector, limit, min_score=embedder.threshold)
    return _visible(ctx, target, hits, where_sql, params)


def _visible(ctx: Context, target: VectorSpace, hits: list[tuple[int, float]],
             where_sql: str, params: list) -> list[tuple[str, float]]:
    if not hits:
        return []
    score = dict(hits)
    found: dict[int, str] = {}
    ids = list(score)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for r in ctx.catalog.all(
                "SELECT sv.vector_id, a.asset_id FROM semantic_vectors sv JOIN assets a"
                f" ON a.asset_id = sv.asset_id WHERE sv.space_id = ? AND sv.vector_id"
                f" IN ({','.join('?' * len(chunk))}) AND {where_sql}",
                [target.space_id, *chunk, *params]):
            found[r["vector_id"]] = r["asset_id"]
    return [(found[v], s) for v, s in hits if v in found]


def _prompts(body: dict, name: str, required: bool) -> list[str]:
    value = body.get(name)
    if value is None or value == []:
        if required:
            raise BadRequest("Invalid request data", f"{name} needs at least one")
        return []
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise BadRequest("Invalid request data", f"{name} must be a list of strings")
    prompts = [p.strip() for p in value if p.strip()]
    if (required and not prompts) or len(prompts) > PROMPT_MAX:
        raise BadRequest("Invalid request data",
                         f"{name} needs 1 to {PROMPT_MAX} prompts")
    return prompts


def classifier_preview(ctx: Context, who: Principal, body: dict) -> dict:
    positives = _prompts(body, "positive_prompts", True)
    negatives = _prompts(body, "negative_prompts", False) or DEFAULT_NEGATIVES
    threshold = body.get("threshold", 0.0)
    limit = body.get("limit", 100)
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        raise BadRequest("Invalid request data", "threshold must be a number")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise BadRequest("Invalid request data", "limit must be a positive integer")
    limit = min(limit or 100, PREVIEW_MAX)

    if not ml.runnable(ctx, "semantic"):
        raise Unavailable("Semantic search is currently unavailable",
                          "smart search is switched off or its model is missing")
    embedder = ml.embedder(ctx)
    try:
        texts = embedder.embed_text(positives + negatives)
        target = space(ctx, embedder)
    except ModelError as exc:
        raise Unavailable("Semantic search is currently unavailable",
                          str(exc)) from None

    def prototype(v: np.ndarray) -> np.ndarray:
        mean = v.mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)

    positive = prototype(texts[:len(positives)])
    negative = prototype(texts[len(positives):])
    rowids, scores = target.index().score_all(positive - negative)
    keep = np.nonzero(scores >= float(threshold))[0]
    ranked = [(int(rowids[i]), float(scores[i]))
              for i in keep[np.argsort(-scores[keep])]]
    where_sql, params = ("a.is_deleted = 0", []) if who.is_admin else (
        "a.is_deleted = 0 AND a.owner_id = ?", [who.user_id])
    matches = _visible(ctx, target, ranked, where_sql, params)[:limit]
    return {"count": len(matches),
            "matches": [{"asset_id": a, "score": round(s, 6)} for a, s in matches]}


# -- models ----------------------------------------------------------------------------


def list_models(ctx: Context) -> dict:
    active = ml.active_model(ctx)
    default = ml.models(ctx).embedder(DEFAULT_PACK)
    out = [{"name": DEFAULT_PACK, "kind": "labels", "dim": default.dim,
            "model_id": default.model_id, "threshold": default.threshold,
            "active": active == DEFAULT_PACK}]
    for pack in packs.installed(ml.packs_dir(ctx)):
        out.append({**pack.describe(), "active": active == pack.name})
    return {"models": out, "active": active}


def install_pack(ctx: Context, source: object) -> dict:
    if not isinstance(source, str) or not source.strip():
        raise BadRequest("Invalid request data", "source must be a path or a URL")
    try:
        pack = packs.install(source.strip(), ml.packs_dir(ctx), ml.models(ctx).runtime)
    except ModelError as exc:
        raise BadRequest("Model pack rejected", str(exc)) from None
    ml.models(ctx).forget_pack(pack.name)
    ctx.runtime.get("vector_spaces", {}).pop(pack.model_id, None)
    return {**pack.describe(), "active": ml.active_model(ctx) == pack.name}


def activate(ctx: Context, name: str) -> dict:
    """Make a model the active one and index the library in its space."""
    from lumilio.pipeline import recognition

    if name != DEFAULT_PACK:
        try:
            pack = packs.find(ml.packs_dir(ctx), name)
            packs.validate(pack, ml.models(ctx).runtime)
        except ModelError as exc:
            raise NotFound("Model pack not found", str(exc)) from None
        ml.models(ctx).forget_pack(name)
    ml.set_active_model(ctx, name)
    job_id = recognition.queue_reindex(ctx, ["semantic"], None, None, True)
    log.info("semantic model is now %s; re-indexing queued as job %d", name, job_id)
    return {**next(m for m in list_models(ctx)["models"] if m["name"] == name),
            "reindex_job_id": job_id}


def remove_pack(ctx: Context, name: str) -> None:
    if name == ml.active_model(ctx):
        raise BadRequest("Invalid request data",
                         "the active model cannot be removed; activate another first")
    try:
        packs.remove(ml.packs_dir(ctx), name, ml.models(ctx).runtime)
    except ModelError as exc:
        raise NotFound("Model pack not found", str(exc)) from None
    ml.models(ctx).forget_pack(name)


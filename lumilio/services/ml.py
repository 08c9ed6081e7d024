"""Recognition as the rest of the product sees it: which tasks are on, which can run,
which image-text model is active, and the objects that run them.

The toggles are the ML part of the system settings (`semantic_enabled`,
`ocr_enabled`, `face_enabled`, `bioclip_enabled`); a task runs when it is enabled
and its models are in place. The active image-text model is kept in
`system_settings` under `semantic_model`: "default" (the bundled label embedder)
or the name of an installed pack.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from lumilio.context import Context
from lumilio.errors import Unavailable
from lumilio.ml import manifest
from lumilio.ml.manifest import ModelError
from lumilio.ml.registry import DEFAULT_PACK, Models
from lumilio.ml.runtime import Runtime
from lumilio.ml.semantic import ImageTextEmbedder

log = logging.getLogger(__name__)

# Indexing tasks, the setting that switches each, and its pipeline job.
TASKS = {
    "semantic": ("semantic_enabled", "process_semantic"),
    "ocr": ("ocr_enabled", "process_ocr"),
    "face": ("face_enabled", "process_face"),
    "bioclip": ("bioclip_enabled", "process_bioclip"),
}
ACTIVE_MODEL_KEY = "semantic_model"

_lock = threading.Lock()


def models(ctx: Context) -> Models:
    """The process's models, made on first use."""
    found = ctx.runtime.get("ml_models")
    if found is not None:
        return found
    with _lock:
        if "ml_models" not in ctx.runtime:
            cfg = ctx.config
            runtime = Runtime(threads=cfg.ml_threads, idle_seconds=cfg.ml_idle_unload,
                              provider=cfg.ml_provider)
            folder = Path(cfg.ml_models_dir) if cfg.ml_models_dir else \
                manifest.bundled_dir()
            ctx.runtime["ml_models"] = Models(folder, packs_dir(ctx), runtime)
            # The provider is not named here: choosing it imports onnxruntime,
            # which waits for the first model (Runtime logs it then).
            log.info("recognition models from %s; execution provider %s, %d "
                     "thread(s)", folder, runtime.wanted, runtime.threads)
        return ctx.runtime["ml_models"]


def packs_dir(ctx: Context) -> Path:
    return ctx.config.data_dir / "models" / "packs"


def toggles(ctx: Context) -> dict[str, bool]:
    from lumilio.services import system_settings

    return system_settings.ml_settings(ctx)


def available(ctx: Context, task: str) -> bool:
    if task == "semantic":
        name = active_model(ctx)
        if name != DEFAULT_PACK:
            return (packs_dir(ctx) / name).is_dir()
    if task == "bioclip":
        task = "species"
    return models(ctx).available(task)


def enabled(ctx: Context, task: str) -> bool:
    return bool(toggles(ctx).get(TASKS[task][0]))


def runnable(ctx: Context, task: str) -> bool:
    return enabled(ctx, task) and available(ctx, task)


def active_model(ctx: Context) -> str:
    row = ctx.catalog.one("SELECT value FROM system_settings WHERE key = ?",
                          (ACTIVE_MODEL_KEY,))
    return json.loads(row["value"]) if row else DEFAULT_PACK


def set_active_model(ctx: Context, name: str) -> None:
    ctx.catalog.write(lambda conn: conn.execute(
        "INSERT INTO system_settings (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (ACTIVE_MODEL_KEY, json.dumps(name))))


def embedder(ctx: Context) -> ImageTextEmbedder:
    """The active image-text embedder, or 503 when it cannot run."""
    try:
        return models(ctx).embedder(active_model(ctx))
    except ModelError as exc:
        raise Unavailable("Semantic search is currently unavailable",
                          str(exc)) from None


def capability_tasks(ctx: Context) -> dict[str, dict]:
    """The ML tasks of `GET /capabilities`: enabled and available, per task."""
    on = toggles(ctx)
    state = {task: {"enabled": bool(on.get(toggle)), "available": available(ctx, task)}
             for task, (toggle, _) in TASKS.items()}
    out = {
        "semantic_image_embed": state["semantic"],
        "semantic_text_embed": state["semantic"],
        "bioclip_classify": state["bioclip"],
        "ocr": state["ocr"],
        "face_recognition": state["face"],
    }
    # The short names of the indexing API, for clients that speak that vocabulary.
    out["semantic"] = state["semantic"]
    out["face"] = state["face"]
    return out


def execution_provider(ctx: Context) -> str:
    """The onnxruntime execution provider recognition really runs on.

    Known once a model has loaded; before that the smallest bundled model is loaded
    to find out, since a GPU provider can be offered by onnxruntime and still fail
    when a session starts (the runtime then falls back to the CPU). Without any
    model, the provider that would be asked for first.
    """
    m = models(ctx)
    graphs = [spec for spec in m.specs.values() if "model" in spec.files]
    if m.runtime.in_use is None and graphs:
        smallest = min(graphs, key=lambda spec: spec.files["model"].get("size", 0))
        try:
            with m.runtime.use(smallest):
                pass
        except ModelError as exc:
            log.warning("cannot load a model to learn the execution provider: %s",
                        exc)
    return m.runtime.in_use or m.runtime.providers[0]


def describe(ctx: Context) -> dict:
    """What the recognition layer runs on, for runtime info and the log."""
    m = models(ctx)
    return {**m.runtime.describe(), "models_dir": str(m.folder),
            "active_semantic_model": active_model(ctx),
            "models": {name: spec.model_id for name, spec in m.specs.items()}}

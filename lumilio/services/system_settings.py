"""System settings changed from the browser (LLM, ML toggles), runtime info and the
public capabilities report.

Stored in `system_settings` as one JSON object per section; the LLM API key is kept
sealed and is never returned, only whether one is set.
"""

from __future__ import annotations

import json
import logging

from lumilio import outbound
from lumilio.auth import sealed
from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

PROVIDERS = ("ark", "openai", "deepseek", "ollama")
ML_TOGGLES = ("semantic_enabled", "bioclip_enabled", "ocr_enabled", "face_enabled")
TEXT_MAX = 500
_KEY_LABEL = "llm-api-key"

_DEFAULT_LLM = {"agent_enabled": False, "provider": "", "model_name": "",
                "base_url": "", "api_key": ""}
# The ML toggles start as the configuration says (ml_semantic, ml_ocr, ...); once
# changed in the settings page the stored value wins.
_ML_CONFIG = {"semantic_enabled": "ml_semantic", "ocr_enabled": "ml_ocr",
              "face_enabled": "ml_faces", "bioclip_enabled": "ml_species"}


def _default_ml(ctx: Context) -> dict:
    return {name: bool(getattr(ctx.config, _ML_CONFIG[name], False))
            for name in ML_TOGGLES}


def _effective(ctx: Context, stored: dict) -> dict:
    return {
        "llm": {**_DEFAULT_LLM, **stored.get("llm", {})},
        "ml": {**_default_ml(ctx), **stored.get("ml", {})},
        "updated_at": stored.get("updated_at"),
        "updated_by": stored.get("updated_by"),
    }


def _read(ctx: Context) -> dict:
    rows = ctx.catalog.all("SELECT key, value FROM system_settings")
    return _effective(ctx, {r["key"]: json.loads(r["value"]) for r in rows})


def llm_settings(ctx: Context) -> dict:
    """The LLM settings with the API key unsealed, for the code that calls the LLM."""
    llm = dict(_read(ctx)["llm"])
    if llm["api_key"]:
        llm["api_key"] = sealed.unseal(ctx.config.secrets_dir, _KEY_LABEL,
                                       llm["api_key"]) or ""
    return llm


def ml_settings(ctx: Context) -> dict:
    return dict(_read(ctx)["ml"])


def agent_enabled(ctx: Context) -> bool:
    """The assistant's switch: `/agent/*` answers 404 while it is off."""
    return bool(_read(ctx)["llm"]["agent_enabled"])


def _configured(llm: dict) -> bool:
    # The base URL is needed for every provider: nothing has a default address. A
    # key is not: a model server on the user's own machine needs none.
    from lumilio.agent import llm as model

    return not model.missing(llm)


def dto(ctx: Context) -> dict:
    current = _read(ctx)
    llm = current["llm"]
    out = {
        "llm": {
            "agent_enabled": llm["agent_enabled"],
            "provider": llm["provider"],
            "model_name": llm["model_name"],
            "api_key_configured": bool(llm["api_key"]),
        },
        "ml": current["ml"],
        "updated_at": api(current["updated_at"]) or "",
    }
    if llm["base_url"]:
        out["llm"]["base_url"] = llm["base_url"]
    if current["updated_by"] is not None:
        out["updated_by"] = current["updated_by"]
    return out


def _text(section: dict, name: str) -> str | None:
    value = section.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest("Invalid request data", f"llm.{name} has the wrong type")
    value = value.strip()
    if len(value) > TEXT_MAX or any(ord(c) < 32 for c in value):
        raise BadRequest("Invalid request data", f"llm.{name} is not acceptable")
    return value


def _llm_changes(ctx: Context, section: object) -> dict:
    if not isinstance(section, dict):
        raise BadRequest("Invalid request data", "llm must be an object")
    changes: dict = {}
    agent = section.get("agent_enabled")
    if agent is not None:
        if not isinstance(agent, bool):
            raise BadRequest("Invalid request data",
                             "llm.agent_enabled has the wrong type")
        changes["agent_enabled"] = agent
    provider = _text(section, "provider")
    if provider is not None:
        if provider and provider not in PROVIDERS:
            raise BadRequest("Invalid request data",
                             "llm.provider must be one of " + ", ".join(PROVIDERS))
        changes["provider"] = provider
    model = _text(section, "model_name")
    if model is not None:
        changes["model_name"] = model
    base_url = _text(section, "base_url")
    if base_url is not None:
        if base_url:
            _check_base_url(base_url)
        changes["base_url"] = base_url
    key = _text(section, "api_key")
    if key is not None:
        changes["api_key"] = (
            sealed.seal(ctx.config.secrets_dir, _KEY_LABEL, key) if key else "")
    return changes


def _check_base_url(value: str) -> None:
    """The model server's address: http(s), with no user name or password in it
    (they would show in the settings, the log and the chat's messages), and not
    where the product never connects (`lumilio.outbound`)."""
    try:
        outbound.check_url(value, "llm.base_url")
    except outbound.CredentialsInURL as exc:
        raise BadRequest("Invalid request data",
                         f"{exc}: put the key in the API key field") from None
    except outbound.Refused as exc:
        raise BadRequest("Invalid request data", str(exc)) from None


def _ml_changes(section: object) -> dict:
    if not isinstance(section, dict):
        raise BadRequest("Invalid request data", "ml must be an object")
    changes = {}
    for name in ML_TOGGLES:
        value = section.get(name)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise BadRequest("Invalid request data", f"ml.{name} has the wrong type")
        changes[name] = value
    return changes


def update(ctx: Context, who: Principal, body: dict) -> dict:
    llm = _llm_changes(ctx, body["llm"]) if body.get("llm") is not None else {}
    ml = _ml_changes(body["ml"]) if body.get("ml") is not None else {}

    def store(conn) -> None:
        # Every toggle is written, so that from now on the settings page decides
        # rather than the server's initial settings.
        current = _effective(ctx, _read_in(conn))
        values = {
            "llm": {**current["llm"], **llm},
            "ml": {**current["ml"], **ml},
            "updated_at": now_iso(),
            "updated_by": who.user_id,
        }
        for key, value in values.items():
            conn.execute(
                "INSERT INTO system_settings (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)))

    ctx.catalog.write(store)
    log.info("system settings changed by %r: %s", who.username,
             ", ".join([f"llm.{k}" for k in llm] + [f"ml.{k}" for k in ml])
             or "nothing")
    return dto(ctx)


def _read_in(conn) -> dict:
    rows = conn.execute("SELECT key, value FROM system_settings").fetchall()
    return {r["key"]: json.loads(r["value"]) for r in rows}


def validate_llm(ctx: Context, body: dict) -> dict:
    """One small real request to the model server, with the body's settings over
    the stored ones: `{"valid": true}`, or a 400 that says what failed (settings
    too incomplete to try, a server that cannot be reached, a refused key...)."""
    from lumilio.agent import llm as model

    candidate = {**llm_settings(ctx), **{
        k: v for k, v in _llm_changes(ctx, body).items() if k != "api_key"}}
    key = _text(body, "api_key")
    if key:
        candidate["api_key"] = key
    missing = model.missing(candidate)
    if missing:
        detail = "missing: " + ", ".join(missing)
        if "base_url" in missing:
            detail += ("; the base URL is required for every provider (there is "
                       "no default address)")
        raise BadRequest("LLM is not configured", detail)
    return model.check(model.ModelSettings.from_stored(candidate),
                       ctx.config.agent_model_timeout)


# -- runtime info and capabilities ----------------------------------------------------


def _accelerator(ctx: Context) -> str:
    from lumilio.services import ml as recognition

    provider = recognition.execution_provider(ctx)
    if provider == "CPUExecutionProvider":
        return "none"
    return provider.removesuffix("ExecutionProvider").lower()


def runtime_info(ctx: Context) -> dict:
    cfg = ctx.config
    return {
        "environment": "production",
        "server_port": str(cfg.port),
        "log_level": cfg.log_level,
        "storage_root": str(cfg.storage_root),
        "hardware_accel": _accelerator(ctx),
        "geocoding_provider": "disabled" if cfg.geocoder == "off" else cfg.geocoder,
        "repository_scan_enabled": cfg.scan_interval > 0,
        "repository_scan_interval_seconds": cfg.scan_interval,
        # Models run inside this process; there are no inference nodes to discover.
        "lumen_discovery_enabled": False,
    }


def capabilities(ctx: Context) -> dict:
    from lumilio.services import ml as recognition

    llm = _read(ctx)["llm"]

    tasks = recognition.capability_tasks(ctx)
    # Models run inside this process: one local node, active when any task can run.
    nodes = 1 if any(t["available"] for t in tasks.values()) else 0
    out = {
        # execution_provider is not in the API document: the onnxruntime provider
        # the models really run on, so that a client can tell a GPU build at work.
        "ml": {"discovered_node_count": nodes, "active_node_count": nodes,
               "tasks": tasks,
               "execution_provider": recognition.execution_provider(ctx)},
        "llm": {"agent_enabled": bool(llm["agent_enabled"]),
                "configured": _configured(llm)},
    }
    if llm["provider"]:
        out["llm"]["provider"] = llm["provider"]
    if llm["model_name"]:
        out["llm"]["model_name"] = llm["model_name"]
    return out

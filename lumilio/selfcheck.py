"""`lumilio self-check`: does this installation carry what the product needs?

Made for the PyInstaller build, where a file left out of the bundle only shows when
the code that needs it runs: the browser UI, the catalog migrations, the metadata
reader, and every model the bundled manifest lists, each file checked against its
checksum and each ONNX graph loaded by onnxruntime, the offline place names
(GeoNames places, country names translated), and the clients of the assistant and
the cloud import made ready (their modules, S3's API model, the CA certificates),
without a single network call. Prints one JSON report; the exit status is 1 when
something is missing or does not load.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lumilio import __version__, frozen, web
from lumilio.catalog import migrate
from lumilio.config import Config

if TYPE_CHECKING:
    from lumilio.ml.manifest import ModelSpec

log = logging.getLogger(__name__)


def main(cfg: Config) -> int:
    report = run(cfg)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if report["ok"] else 1


def run(cfg: Config) -> dict[str, Any]:
    ui = (web.static_root() / "index.html").is_file()
    migrations = [name for _, name in migrate.available()]
    reader = check_metadata_reader(cfg.exiftool)
    models = check_models()
    places = check_places()
    clients = check_clients()
    report = {
        "version": __version__,
        "frozen": frozen.is_frozen(),
        "ui": ui,
        "migrations": migrations,
        "metadata_reader": reader,
        "onnxruntime": onnxruntime_info(),
        "models": models,
        "places": places,
        "clients": clients,
    }
    # The fallback reader is a designed outcome; an exiftool that fails is not.
    report["ok"] = bool(ui and migrations and "error" not in reader and models
                        and places["ok"] and all(m["loaded"] for m in models)
                        and all(c["ok"] for c in clients.values()))
    return report


def check_metadata_reader(configured: str) -> dict[str, Any]:
    """Which reader the server will use; for exiftool, whether it really runs."""
    tool = frozen.choose_exiftool(configured)
    if tool.path is None:
        return {"reader": "built-in fallback", "reason": tool.reason}

    out = {"reader": "exiftool", "origin": tool.origin, "path": tool.path}
    try:
        done = subprocess.run([tool.path, "-ver"], capture_output=True, text=True,
                              timeout=30, check=True)
        out["exiftool_version"] = done.stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        out["error"] = str(exc)
    return out


# Paris, named in English and in German: the GeoNames places and pycountry's
# translations are both data files the build must carry.
PLACE_PROBE = (48.8566, 2.3522)
PLACE_NAMES = {"en": "France", "de": "Frankreich"}


def check_places() -> dict[str, Any]:
    from lumilio.services.geocoding import OfflineGeocoder

    out: dict[str, Any] = {"ok": False}
    try:
        for language, country in PLACE_NAMES.items():
            place = OfflineGeocoder(language).lookup([PLACE_PROBE])[0]
            out[language] = place.label if place else None
            if place is None or place.country != country:
                return out
    except Exception as exc:  # a missing data file shows as any kind of error
        log.debug("the offline geocoder does not load", exc_info=True)
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    out["ok"] = True
    return out


# Made for an address on this machine that nothing answers: nothing here connects.
NOWHERE = "http://127.0.0.1:9"


def check_clients() -> dict[str, dict[str, Any]]:
    """Each network client the product makes, made as it is made there, unused."""
    checks = {"llm": _llm_client, "s3": _s3_client, "webdav": _webdav_client,
              "icloud": _icloud_client, "certificates": _certificates}
    out = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # a module or data file left out shows as anything
            log.debug("the %s client cannot be made", name, exc_info=True)
            out[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            continue
        out[name] = {"ok": True}
    return out


def _llm_client() -> None:
    import openai

    openai.OpenAI(api_key="self-check", base_url=NOWHERE + "/v1").close()


def _s3_client() -> None:
    import boto3

    # Reads S3's API model, the endpoint rules and the paginators from botocore's
    # data folder, which the build carries only in part.
    client = boto3.session.Session().client(
        "s3", endpoint_url=NOWHERE, region_name="us-east-1",
        aws_access_key_id="self-check", aws_secret_access_key="self-check")
    client.get_paginator("list_objects_v2")
    client.close()


def _webdav_client() -> None:
    from lumilio.cloud.providers.webdav import WebDAV, read_listing

    # The client as an import makes it, and webdav4's reading of a listing.
    WebDAV().open({"url": NOWHERE + "/", "username": "self-check",
                   "password": "self-check"}, Path()).close()
    list(read_listing('<multistatus xmlns="DAV:"><response><href>/a.jpg</href>'
                  "</response></multistatus>", "the self-check"))


def _icloud_client() -> None:
    # Signing in is the first thing its client does, so only the modules it uses
    # are loaded: the client, its SRP sign-in and its session.
    import pyicloud.base  # noqa: F401
    import srp  # noqa: F401


def _certificates() -> None:
    import certifi
    import httpx

    if not Path(certifi.where()).is_file():
        raise FileNotFoundError(certifi.where())
    # The context every HTTPS client here is made with, from certifi's bundle.
    httpx.create_ssl_context()


def onnxruntime_info() -> dict[str, Any]:
    import onnxruntime

    return {"version": onnxruntime.__version__,
            "device": onnxruntime.get_device(),
            "providers": onnxruntime.get_available_providers()}


def check_models() -> list[dict[str, Any]]:
    """Every model of the bundled manifest: its files verified, its graph loaded."""
    from lumilio.ml import manifest

    specs = manifest.read(manifest.bundled_dir())
    return [_check_model(spec) for spec in specs.values()]


def _check_model(spec: ModelSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": spec.name,
        "task": spec.task,
        "files": {role: entry["path"] for role, entry in spec.files.items()},
        "loaded": False,
    }
    try:
        for role in spec.files:
            path = spec.path(role)  # checks size and checksum
            if path.suffix == ".onnx":
                out["inputs"] = _load_onnx(path)
            elif role == "tokenizer":
                _load_tokenizer(path)
    except Exception as exc:  # report every model, whatever breaks one of them
        log.debug("model %s does not load", spec.name, exc_info=True)
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    out["loaded"] = True
    return out


def _load_onnx(path: Path) -> list[str]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Errors only: onnxruntime warns about every unused initialiser of a graph.
    options.log_severity_level = 3
    # The CPU provider is always there; this checks the graph, not the hardware.
    session = onnxruntime.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
    return [i.name for i in session.get_inputs()]


def _load_tokenizer(path: Path) -> None:
    import tokenizers

    tokenizers.Tokenizer.from_file(str(path))

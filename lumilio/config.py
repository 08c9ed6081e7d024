"""Settings, declared once.

Each setting has a name, a type, a default and a line of help. A value comes from, in
order of precedence: the command line, a `LUMILIO_<NAME>` environment variable, the
`lumilio.toml` file in the data folder, the default. `runtime-info` shows the result.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)

CONFIG_FILE = "lumilio.toml"


@dataclass(frozen=True)
class Setting:
    name: str
    kind: type
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "LUMILIO_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "Address to listen on. Keep 127.0.0.1 unless "
            "other devices must reach the server."),
    Setting("port", int, 6680, "Port to listen on."),
    Setting("data_dir", Path, None, "Folder for the catalog, job queue, secrets and "
            "lumilio.toml. Defaults to the platform's user data folder."),
    Setting("storage_root", Path, None, "Folder under which new repositories (the "
            "primary one included) are created. Defaults to <data_dir>/library."),
    Setting("workers", int, 0, "Background worker threads; 0 means one per CPU core."),
    Setting("scan_interval", int, 300, "Seconds between periodic scans of every "
            "repository; 0 turns periodic scans off."),
    Setting("watch", bool, True, "Watch repository folders and import new files."),
    Setting("watch_settle", float, 2.0, "Seconds a new file must stay unchanged "
            "before the watcher imports it."),
    Setting("open_browser", bool, True, "Open the browser at start when a display "
            "is available."),
    Setting("exiftool", str, "", "Path of the exiftool program; empty means search "
            "the PATH. Without it a reduced built-in reader is used."),
    Setting("access_token_minutes", int, 15, "Lifetime of access tokens."),
    Setting("refresh_token_days", int, 7, "Lifetime of refresh tokens."),
    Setting("media_token_minutes", int, 10, "Lifetime of media tokens (the mt query "
            "parameter of image and video URLs)."),
    Setting("max_upload_mb", int, 4096, "Largest file accepted by an upload."),
    Setting("cors_origins", str, "", "Comma-separated origins allowed to call the API "
            "from a browser page served elsewhere; empty allows none."),
    Setting("passkey_rp_id", str, "localhost", "Relying-party id of passkeys: the "
            "host name (without port) the browser shows when signing in with one."),
    Setting("passkey_origins", str, "", "Comma-separated origins a passkey may be "
            "used from; empty means http://localhost:<port> and "
            "http://127.0.0.1:<port>."),
    Setting("ml_threads", int, 0, "Threads each recognition model may use; 0 means "
            "one per CPU core, at most four."),
    Setting("ml_idle_unload", int, 300, "Seconds a recognition model stays in memory "
            "after its last use; 0 keeps models loaded."),
    Setting("ml_provider", str, "auto", "onnxruntime execution provider: auto (the "
            "best this build offers), cpu, cuda, directml or coreml."),
    Setting("ml_models_dir", Path, None, "Folder of the recognition models; "
            "defaults to the models shipped with Lumilio."),
    Setting("ml_semantic", bool, True, "Initial state of smart search (labels and "
            "embeddings); afterwards the ML settings page decides."),
    Setting("ml_ocr", bool, True, "Initial state of text recognition in photos."),
    Setting("ml_faces", bool, True, "Initial state of face recognition and people."),
    Setting("ml_species", bool, True, "Initial state of species predictions for "
            "photos of bio albums."),
    Setting("inaturalist_url", str, "https://api.inaturalist.org/v1", "iNaturalist "
            "API used by the species reference look-up when the machine is online."),
    Setting("geocoder", str, "offline", "Where place names come from: offline (the "
            "place list shipped with Lumilio), nominatim (a server you name in "
            "geocoder_url), or off."),
    Setting("geocoder_url", str, "", "Base URL of a Nominatim-compatible server, "
            "used only when geocoder is nominatim; empty calls nothing."),
    Setting("geocoder_language", str, "en", "Language of place names (a code such "
            "as en, de, fr, pt_BR) where the place data has it."),
    Setting("agent_max_steps", int, 10, "Most model turns the assistant takes to "
            "answer one message (each turn may call tools)."),
    Setting("agent_run_seconds", int, 600, "Longest time the assistant spends on "
            "one message, model and tools together."),
    Setting("agent_model_timeout", int, 120, "Seconds the assistant waits for the "
            "language model's next bytes before it gives up."),
    Setting("agent_completion_tokens", int, 2048, "Most tokens the model may write "
            "in one turn."),
    Setting("agent_run_tokens", int, 60000, "Most tokens (read and written) the "
            "assistant spends on one message."),
    Setting("log_level", str, "info", "debug, info, warning or error."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class ConfigError(Exception):
    """A setting has a value that cannot be used; the message names it."""


def _cast(setting: Setting, raw: Any, source: str) -> Any:
    if raw is None:
        return None
    try:
        if setting.kind is bool and isinstance(raw, str):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if setting.kind is Path:
            return Path(raw).expanduser()
        value = setting.kind(raw)
    except (TypeError, ValueError):
        wanted = {int: "a whole number", float: "a number"}.get(setting.kind, "valid")
        raise ConfigError(f"{setting.name} ({source}): {raw!r} is not "
                          f"{wanted}") from None
    if setting.name == "port" and not 0 < value < 65536:
        raise ConfigError(f"port ({source}): {value} is not a port number")
    return value


@dataclass
class Config:
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    libraries: list[Path] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.db"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def passkey_origin_list(self) -> list[str]:
        given = [o.strip().rstrip("/") for o in self.passkey_origins.split(",")]
        given = [o for o in given if o]
        if given:
            return given
        return [f"http://localhost:{self.port}", f"http://127.0.0.1:{self.port}"]

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)

    def describe(self) -> list[dict[str, Any]]:
        """Every setting with its value and where the value came from."""
        return [
            {
                "name": s.name,
                "value": str(self.values[s.name]),
                "source": self.sources[s.name],
                "env": s.env,
                "help": s.help,
            }
            for s in SETTINGS
        ]


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("Lumilio", appauthor=False))


def load(overrides: dict[str, Any] | None = None, environ: dict | None = None) -> Config:
    """Resolve every setting. `overrides` are command-line values (None = not given)."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    environ = os.environ if environ is None else environ

    data_dir = overrides.get("data_dir") or environ.get("LUMILIO_DATA_DIR")
    data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
    file_values = _read_config_file(data_dir / CONFIG_FILE)

    config = Config()
    for s in SETTINGS:
        if s.name in overrides:
            raw, source = overrides[s.name], "command line"
        elif s.env in environ:
            raw, source = environ[s.env], "environment"
        elif s.name in file_values:
            raw, source = file_values[s.name], CONFIG_FILE
        else:
            raw, source = s.default, "default"
        config.values[s.name] = _cast(s, raw, source)
        config.sources[s.name] = source

    config.values["data_dir"] = data_dir.resolve()
    if config.values["storage_root"] is None:
        config.values["storage_root"] = config.values["data_dir"] / "library"
    return config


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as f:
            values = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(values) - set(_BY_NAME))
    if unknown:
        log.warning("%s: ignoring unknown settings %s", path, ", ".join(unknown))
    return {k: v for k, v in values.items() if k in _BY_NAME}

"""The double-click start: `lumilio` with no arguments, for people without a terminal.

The data folder is the platform's usual one (the `data_dir` setting). On the first
start the library's folders go under the user's pictures folder, and that choice
is written to `lumilio.toml` so every later start, double-clicked or not, agrees.
When the usual port is taken another is chosen, and the log says which. A second
start while one is running opens the browser on the running one and exits.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import platformdirs

from lumilio import browser, config, instance
from lumilio.cli import configure_logging

log = logging.getLogger(__name__)

PICTURES_SUBFOLDER = "Lumilio"
PORT_TRIES = 10
LOG_FILE = Path("logs") / "lumilio.log"


def main() -> None:
    cfg = config.load({})
    log_path = cfg.data_dir / LOG_FILE
    configure_logging(cfg.log_level, log_path)

    lock = instance.InstanceLock(cfg.data_dir)
    if not lock.acquire():
        _show_running(cfg)
        return

    if not cfg.catalog_path.exists():
        _keep_library_in_pictures(cfg)
    cfg.values["port"] = choose_port(cfg.host, cfg.port)
    log.info("log file: %s", log_path)

    from lumilio import server  # the server's imports take a second: only now

    try:
        server.run(cfg, lock=lock)
    except KeyboardInterrupt:
        pass


def _show_running(cfg: config.Config) -> None:
    url = instance.running_url(cfg.data_dir)
    if url is None:
        log.error("another Lumilio is using %s but does not answer; try again in "
                  "a minute", cfg.data_dir)
        raise SystemExit(1)

    log.info("Lumilio is already running at %s", url)
    if cfg.open_browser and browser.available():
        browser.open_now(url)


def _keep_library_in_pictures(cfg: config.Config) -> None:
    """First start: new repositories (the primary one first) under Pictures."""
    if cfg.sources["storage_root"] != "default":
        return
    root = Path(platformdirs.user_pictures_dir()) / PICTURES_SUBFOLDER
    cfg.values["storage_root"] = root
    cfg.sources["storage_root"] = "first start"
    _remember(cfg.data_dir / config.CONFIG_FILE, "storage_root", str(root))
    log.info("first start: the library's folders go under %s", root)


def _remember(path: Path, name: str, value: str) -> None:
    """Append one setting to lumilio.toml, keeping whatever the file says."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    # A JSON string is also a TOML basic string (the same escapes), which spares a
    # TOML writer for a single line.
    line = f"{name} = {json.dumps(value, ensure_ascii=False)}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(existing + "# chosen on the first start\n" + line,
                    encoding="utf-8")


def choose_port(host: str, preferred: int) -> int:
    """`preferred` when free, else one of the next few, else any free port."""
    for port in range(preferred, preferred + PORT_TRIES):
        if _can_listen(host, port):
            if port != preferred:
                log.warning("port %d is taken; using port %d", preferred, port)
            return port

    with socket.create_server((host, 0)) as probe:
        port = probe.getsockname()[1]
    log.warning("ports %d to %d are taken; using port %d", preferred,
                preferred + PORT_TRIES - 1, port)
    return port


def _can_listen(host: str, port: int) -> bool:
    # The same bind the server will do a moment later; another program could take
    # the port in between, which is rare enough to leave to the error message.
    try:
        with socket.create_server((host, port)):
            return True
    except OSError:
        return False

"""Start the whole product in one process: catalog, jobs, watcher, web server."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig

from lumilio import __version__, browser, frozen, instance
from lumilio.app import create_app
from lumilio.auth import secrets
from lumilio.auth.tokens import TokenSigner
from lumilio.catalog.db import Catalog
from lumilio.config import Config
from lumilio.context import Context
from lumilio.errors import ApiError
from lumilio.jobs import handlers  # noqa: F401  registers the job handlers
from lumilio.jobs.queue import JobQueue
from lumilio.library import scanner
from lumilio.library.watcher import PeriodicScans, Watcher
from lumilio.pipeline import ingest
from lumilio.services import repositories

log = logging.getLogger("lumilio")


def build_context(config: Config) -> Context:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(config.catalog_path)
    jobs = JobQueue(catalog, config.queue_path, config.worker_count)
    root_secret = secrets.read_or_create(config.secrets_dir, secrets.ROOT_KEY)
    ctx = Context(config=config, catalog=catalog, jobs=jobs,
                  signer=TokenSigner(root_secret))
    tool = frozen.choose_exiftool(config.exiftool)
    if tool.origin.startswith("bundled"):
        # The media layer reads the setting; the bundled script is not on the PATH.
        config.values["exiftool"] = tool.path
        config.sources["exiftool"] = "bundled"
    ctx.runtime["metadata_reader"] = "exiftool" if tool.path else "built-in fallback"
    ctx.runtime["metadata_reader_detail"] = tool.summary
    return ctx


def prepare_library(ctx: Context) -> list[dict]:
    """The primary repository, the folders named on the command line, a first scan."""
    repositories.ensure_primary(ctx)
    known = {Path(r["path"]) for r in repositories.all_rows(ctx)}
    for folder in ctx.config.libraries:
        folder = Path(folder).expanduser().resolve()
        if folder in known:
            continue
        if not folder.is_dir():
            log.error("--library %s: not a folder; skipped", folder)
            continue
        try:
            repositories.register(ctx, folder, name=folder.name)
        except ApiError as exc:
            log.error("--library %s: %s (%s)", folder, exc.message, exc.detail)

    scanner.requeue_interrupted_scans(ctx)
    rows = repositories.all_rows(ctx)
    for row in rows:
        # A start scan catches what changed while the server was stopped.
        scanner.request_scan(ctx, row["repository_id"], mode="startup")
    return rows


class _Jobs:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def start(self) -> None:
        self.ctx.jobs.start(self.ctx)

    def stop(self) -> None:
        self.ctx.jobs.stop()
        ingest.close_readers()


def run(config: Config, lock: instance.InstanceLock | None = None) -> None:
    """Serve until stopped; `lock` is the data folder's claim when already taken."""
    if lock is None:
        lock = instance.InstanceLock(config.data_dir)
        if not lock.acquire():
            log.error("another Lumilio server is using %s (%s)", config.data_dir,
                      instance.running_url(config.data_dir, wait_s=0) or "starting")
            raise SystemExit(1)
    try:
        _run(config, lock)
    finally:
        lock.release()


def _run(config: Config, lock: instance.InstanceLock) -> None:
    ctx = build_context(config)
    rows = prepare_library(ctx)

    url = f"http://{'localhost' if config.host in ('127.0.0.1', '::1') else config.host}:{config.port}"
    log.info("Lumilio %s serving %s", __version__, url)
    log.info("data folder: %s", config.data_dir)
    for row in rows:
        log.info("repository %r (%s): %s", row["name"], row["role"], row["path"])
    log.info("%d background worker(s); metadata reader: %s", config.worker_count,
             ctx.runtime["metadata_reader_detail"])
    if ctx.runtime["metadata_reader"] != "exiftool":
        log.warning("metadata reader: %s, which reads fewer tags (install exiftool, "
                    "or perl for the bundled one, for complete metadata)",
                    ctx.runtime["metadata_reader_detail"])
    if config.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s: other devices on the network can reach this "
                    "server; use strong passwords and enable MFA", config.host)

    watcher = Watcher(ctx, settle=config.watch_settle) if config.watch else None
    services = [_Jobs(ctx)]
    if watcher is not None:
        services.append(watcher)
    services.append(PeriodicScans(ctx, config.scan_interval))
    app = create_app(ctx, services)
    app.state.watcher = watcher

    hyper = HypercornConfig()
    hyper.bind = [f"{config.host}:{config.port}"]
    hyper.accesslog = None
    hyper.errorlog = logging.getLogger("hypercorn.error")
    hyper.graceful_timeout = 5

    lock.publish(url)
    if config.open_browser and browser.available():
        browser.open_when_ready(url)

    try:
        asyncio.run(_serve(app, hyper))
    finally:
        ctx.catalog.close()
        log.info("stopped")


async def _serve(app, hyper: HypercornConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    await serve(app, hyper, shutdown_trigger=stop.wait)

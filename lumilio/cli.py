"""The `lumilio` command."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from pathlib import Path

from lumilio import __version__, config, frozen


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lumilio", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start the library server")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 6680)")
    serve.add_argument("--data-dir", type=Path, help="catalog, queue and secrets")
    serve.add_argument("--library", type=Path, action="append", default=[],
                       metavar="PATH",
                       help="register this folder in place and watch it "
                            "(repeatable; remembered for later starts)")
    serve.add_argument("--no-browser", action="store_true",
                       help="do not open a browser window")

    commands.add_parser("settings", help="print every setting and its source")
    commands.add_parser("self-check", help="check the UI, migrations, metadata "
                        "reader and models this installation carries (JSON)")
    return parser


def configure_logging(level: str, log_file: Path | None = None) -> None:
    """Log to stderr and, for a start without a terminal, to `log_file` too."""
    handlers: list[logging.Handler] = []
    # A program started without a console (a windowed build) has no stderr.
    if sys.stderr is not None:
        handlers.append(logging.StreamHandler(sys.stderr))
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            log_file, maxBytes=5 << 20, backupCount=3, encoding="utf-8"))
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        handlers=handlers,
    )
    # Huey announces every task it registers at info; that is noise for a person.
    logging.getLogger("huey").setLevel(logging.WARNING)
    # httpx logs every request (each file of a cloud import) at info.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    frozen.restore_child_environment()
    argv = sys.argv[1:] if argv is None else argv
    # Older macOS hands a double-clicked app a -psn_ process serial number.
    if not [arg for arg in argv if not arg.startswith("-psn_")]:
        from lumilio import desktop

        desktop.main()
        return

    args = _parser().parse_args(argv)
    overrides = {}
    if args.command == "serve":
        overrides = {"host": args.host, "port": args.port, "data_dir": args.data_dir}
        if args.no_browser:
            overrides["open_browser"] = False
    try:
        cfg = config.load(overrides)
    except config.ConfigError as exc:
        print(f"lumilio: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    if args.command == "settings":
        for item in cfg.describe():
            print(f"{item['name']:22} {item['value']:40} ({item['source']};"
                  f" {item['env']})")
        return
    if args.command == "self-check":
        from lumilio import selfcheck

        raise SystemExit(selfcheck.main(cfg))

    configure_logging(cfg.log_level)
    cfg.libraries = list(args.library)
    from lumilio import server

    try:
        server.run(cfg)
    except KeyboardInterrupt:
        pass

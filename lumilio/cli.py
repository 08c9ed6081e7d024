"""The `lumilio` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from lumilio import __version__, config


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
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # Huey announces every task it registers at info; that is noise for a person.
    logging.getLogger("huey").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    overrides = {}
    if args.command == "serve":
        overrides = {"host": args.host, "port": args.port, "data_dir": args.data_dir}
        if args.no_browser:
            overrides["open_browser"] = False
    cfg = config.load(overrides)

    if args.command == "settings":
        for item in cfg.describe():
            print(f"{item['name']:22} {item['value']:40} ({item['source']};"
                  f" {item['env']})")
        return

    configure_logging(cfg.log_level)
    cfg.libraries = list(args.library)
    from lumilio import server

    try:
        server.run(cfg)
    except KeyboardInterrupt:
        pass

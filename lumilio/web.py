"""The browser UI's files, and the rule that serves the single-page app."""

from __future__ import annotations

import sys
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response


def static_root() -> Path:
    """`static/` beside the package in a checkout, or inside a frozen build."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "static"
    return Path(__file__).resolve().parent.parent / "static"


async def spa(request: Request) -> Response:
    path = request.url.path
    if path == "/api" or path.startswith("/api/"):
        return JSONResponse({"error": "not found"}, status_code=404)
    if request.method not in ("GET", "HEAD"):
        return JSONResponse({"error": "not found"}, status_code=404)

    root = static_root().resolve()
    target = (root / path.lstrip("/")).resolve()
    if target.is_relative_to(root) and target.is_file():
        return FileResponse(target, headers={"Cache-Control": "no-cache"})
    index = root / "index.html"
    if not index.is_file():
        return JSONResponse({"error": "the browser UI is not installed"},
                            status_code=404)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})

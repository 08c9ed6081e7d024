"""Query-string values shared by the organising routes: pages, ids, clocks."""

from __future__ import annotations

from datetime import timezone, tzinfo

from starlette.requests import Request

from lumilio.errors import BadRequest
from lumilio.services.browse import viewer_zone
from lumilio.services.repositories import valid_uuid


def optional_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("Invalid request data", f"{name} must be an integer") from None
    if not -(2**62) <= value <= 2**62:  # SQLite integers are 64-bit
        raise BadRequest("Invalid request data", f"{name} is out of range")
    return value


def page(request: Request, default: int = 20, cap: int = 100) -> tuple[int, int]:
    """limit and offset in the albums style: a limit past the cap is the cap."""
    limit = optional_int(request, "limit")
    offset = optional_int(request, "offset") or 0
    if limit is None or limit <= 0:
        limit = default
    if offset < 0:
        raise BadRequest("Invalid request data", "offset must not be negative")
    return min(limit, cap), offset


def repository_id(request: Request) -> str | None:
    raw = request.query_params.get("repository_id")
    return valid_uuid(raw) if raw else None


def zone(request: Request) -> tzinfo:
    """The viewer's IANA zone (`viewer_timezone`); absent or unknown means UTC."""
    name = request.query_params.get("viewer_timezone")
    return viewer_zone(name) if name else timezone.utc

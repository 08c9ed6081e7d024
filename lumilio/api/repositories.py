"""Repositories and their scans (admin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, field, ok, uuid_param
from lumilio.library import scanner
from lumilio.services import repositories as repos
from lumilio.timeutil import api


def _watch_changed(request: Request) -> None:
    watcher = getattr(request.app.state, "watcher", None)
    if watcher is not None:
        watcher.reload()


@endpoint
def list_repositories(request: Request, body: dict):
    http.ready_admin(request)
    rows = repos.all_rows(ctx_of(request))
    return ok({"repositories": [repos.dto(r) for r in rows]})


@endpoint
def create_repository(request: Request, body: dict):
    # Open during setup too: the first-run wizard creates the primary repository.
    who = http.admin(request)
    result = repos.create(ctx_of(request), who, body)
    _watch_changed(request)
    return ok(result)


@endpoint
def get_repository(request: Request, body: dict):
    http.ready_admin(request)
    return ok(repos.dto(repos.get_row(ctx_of(request), uuid_param(request))))


@endpoint
def update_repository(request: Request, body: dict):
    http.ready_admin(request)
    return ok(repos.update(ctx_of(request), uuid_param(request), body))


@endpoint
def delete_repository(request: Request, body: dict):
    http.ready_admin(request)
    repos.delete(ctx_of(request), uuid_param(request))
    _watch_changed(request)
    return http.message("Repository unregistered; its files were not touched")


@endpoint
def scan_repository(request: Request, body: dict):
    who = http.ready_admin(request)
    ctx = ctx_of(request)
    repo = repos.get_row(ctx, uuid_param(request))
    force = field(body, "force", bool, default=False)
    queued = scanner.request_scan(ctx, repo["repository_id"], mode="manual",
                                  force=force, requested_by=who.username)
    queued.pop("scan_id", None)
    return ok(queued)


def scan_dto(row: dict) -> dict:
    out = {k: row[k] for k in (
        "scan_id", "repository_id", "mode", "status", "discovered_count",
        "updated_count", "deleted_count", "skipped_count")}
    out["started_at"] = api(row["started_at"])
    for key in ("requested_by", "error"):
        if row[key]:
            out[key] = row[key]
    if row["finished_at"]:
        out["finished_at"] = api(row["finished_at"])
    return out


@endpoint
def list_scans(request: Request, body: dict):
    http.ready_admin(request)
    ctx = ctx_of(request)
    repo = repos.get_row(ctx, uuid_param(request))
    limit = http.query_int(request, "limit", 20, 1, 100, clamp=True)
    offset = http.query_int(request, "offset", 0, 0, 1 << 62, clamp=True)
    rows = ctx.catalog.all(
        "SELECT * FROM scans WHERE repository_id = ? ORDER BY started_at DESC"
        " LIMIT ? OFFSET ?", (repo["repository_id"], limit, offset))
    return ok({"scans": [scan_dto(r) for r in rows]})


@endpoint
def latest_scan(request: Request, body: dict):
    http.ready_admin(request)
    ctx = ctx_of(request)
    repo = repos.get_row(ctx, uuid_param(request))
    row = ctx.catalog.one(
        "SELECT * FROM scans WHERE repository_id = ? ORDER BY started_at DESC"
        " LIMIT 1", (repo["repository_id"],))
    if row is None:
        from lumilio.errors import NotFound

        raise NotFound("No scan yet")
    return ok(scan_dto(row))


routes = [
    Route("/repositories", list_repositories, methods=["GET"]),
    Route("/repositories", create_repository, methods=["POST"]),
    Route("/repositories/{id}", get_repository, methods=["GET"]),
    Route("/repositories/{id}", update_repository, methods=["PATCH"]),
    Route("/repositories/{id}", delete_repository, methods=["DELETE"]),
    Route("/repositories/{id}/scan", scan_repository, methods=["POST"]),
    Route("/repositories/{id}/scans", list_scans, methods=["GET"]),
    Route("/repositories/{id}/scans/latest", latest_scan, methods=["GET"]),
]

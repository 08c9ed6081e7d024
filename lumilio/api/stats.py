"""Statistics of the library (`/stats/*`), over what the caller may see."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http, query_params
from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.services import stats


def _scope(request: Request) -> stats.Scope:
    who = http.ready_user(request)
    return stats.Scope(who, query_params.repository_id(request),
                       query_params.zone(request))


@endpoint
def available_years(request: Request, body: dict):
    scope = _scope(request)
    return ok(stats.available_years(ctx_of(request), scope))


@endpoint
def camera_lens(request: Request, body: dict):
    scope = _scope(request)
    limit = http.query_int(request, "limit", 20, 1, 100)
    return ok(stats.camera_lens(ctx_of(request), scope, limit))


@endpoint
def focal_length(request: Request, body: dict):
    scope = _scope(request)
    return ok(stats.focal_length(ctx_of(request), scope))


@endpoint
def time_distribution(request: Request, body: dict):
    scope = _scope(request)
    kind = request.query_params.get("type") or "hourly"
    return ok(stats.time_distribution(ctx_of(request), scope, kind))


@endpoint
def daily_activity(request: Request, body: dict):
    scope = _scope(request)
    days = stats.day_range(
        query_params.optional_int(request, "year"),
        request.query_params.get("start_date") or None,
        request.query_params.get("end_date") or None,
        query_params.optional_int(request, "days"),
        scope.zone,
    )
    return ok(stats.daily_activity(ctx_of(request), scope, days))


routes = [
    Route("/stats/available-years", available_years, methods=["GET"]),
    Route("/stats/camera-lens", camera_lens, methods=["GET"]),
    Route("/stats/focal-length", focal_length, methods=["GET"]),
    Route("/stats/time-distribution", time_distribution, methods=["GET"]),
    Route("/stats/daily-activity", daily_activity, methods=["GET"]),
]

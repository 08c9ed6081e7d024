"""Queue statistics (admin), read from the job history beside huey."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.timeutil import api, now_iso


@endpoint
def stats(request: Request, body: dict):
    http.ready_admin(request)
    return ok(ctx_of(request).jobs.counts())


@endpoint
def summary(request: Request, body: dict):
    http.ready_admin(request)
    ctx = ctx_of(request)
    rows = ctx.catalog.all(
        "SELECT queue, COUNT(*) AS total,"
        " SUM(state IN ('completed', 'discarded', 'cancelled')) AS processed,"
        " SUM(state IN ('available', 'scheduled', 'retryable')) AS remaining,"
        " SUM(state = 'running') AS running,"
        " SUM(state IN ('retryable', 'discarded')) AS attention,"
        " MAX(COALESCE(finalized_at, attempted_at, created_at)) AS latest,"
        " MIN(CASE WHEN state IN ('available', 'scheduled', 'retryable')"
        "  THEN created_at END) AS oldest,"
        " AVG(CASE WHEN finalized_at IS NOT NULL THEN"
        "  (julianday(finalized_at) - julianday(attempted_at)) * 86400000 END)"
        "  AS runtime,"
        " AVG(CASE WHEN attempted_at IS NOT NULL THEN"
        "  (julianday(attempted_at) - julianday(created_at)) * 86400000 END)"
        "  AS latency"
        " FROM jobs GROUP BY queue ORDER BY queue")
    queues = []
    for row in rows:
        samples = ctx.catalog.all(
            "SELECT * FROM jobs WHERE queue = ? AND last_error IS NOT NULL"
            " ORDER BY job_id DESC LIMIT 5", (row["queue"],))
        entry = {
            "name": row["queue"], "total_jobs": row["total"],
            "processed_jobs": row["processed"] or 0,
            "remaining_jobs": row["remaining"] or 0,
            "running_jobs": row["running"] or 0,
            "attention_jobs": row["attention"] or 0,
            "average_runtime_ms": int(row["runtime"] or 0),
            "average_latency_ms": int(row["latency"] or 0),
            "error_samples": [_sample(s) for s in samples],
        }
        if row["latest"]:
            entry["latest_activity_at"] = api(row["latest"])
        if row["oldest"]:
            entry["oldest_remaining_at"] = api(row["oldest"])
        queues.append(entry)
    return ok({"generated_at": api(now_iso()), "queues": queues})


def _sample(job: dict) -> dict:
    out = {"job_id": job["job_id"], "kind": job["kind"], "state": job["state"],
           "attempt": job["attempt"], "max_attempts": job["max_attempts"],
           "last_error": job["last_error"]}
    for key in ("created_at", "scheduled_at", "attempted_at", "finalized_at"):
        if job[key]:
            out[key] = api(job[key])
    return out


routes = [
    Route("/admin/river/stats", stats, methods=["GET"]),
    Route("/admin/river/queue-summary", summary, methods=["GET"]),
]

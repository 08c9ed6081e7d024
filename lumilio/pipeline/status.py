"""The per-asset processing status: one state per pipeline task, and a summary.

Stored as JSON on the asset: `{state, message, errors: [{task, error, time}],
updated_at, tasks: {<task>: {state, message?, updated_at}}}`. Task states are pending,
processing, complete and failed; the asset's state is processing, complete, warning
(some tasks failed) or failed (all failed, or the file itself is unreadable).
"""

from __future__ import annotations

from lumilio.timeutil import now_iso

TRACKED_TASKS = {
    "PHOTO": ("metadata_asset", "thumbnail_asset"),
    "VIDEO": ("metadata_asset", "thumbnail_asset", "transcode_asset"),
    "AUDIO": ("metadata_asset", "thumbnail_asset", "transcode_asset"),
}

# Errors of the file itself: nothing later can succeed, so retrying a task is refused.
FATAL_TASKS = ("initial_validation", "file_read", "file_corrupted")


def fresh(asset_type: str) -> dict:
    stamp = now_iso()
    tasks = {
        name: {"state": "pending", "updated_at": stamp}
        for name in TRACKED_TASKS[asset_type]
    }
    return summarize({"tasks": tasks, "errors": []})


def set_task(status: dict, task: str, state: str, message: str | None = None) -> dict:
    stamp = now_iso()
    entry = {"state": state, "updated_at": stamp}
    if message:
        entry["message"] = message
    status.setdefault("tasks", {})[task] = entry
    if state == "failed":
        errors = [e for e in status.get("errors", []) if e.get("task") != task]
        errors.append({"task": task, "error": message or "failed", "time": stamp})
        status["errors"] = errors
    else:
        status["errors"] = [e for e in status.get("errors", []) if e.get("task") != task]
    return summarize(status)


def fail_file(status: dict, reason_task: str, reason: str) -> dict:
    """The file itself is broken: record why, and fail every task still waiting."""
    stamp = now_iso()
    errors = [e for e in status.get("errors", []) if e.get("task") != reason_task]
    errors.append({"task": reason_task, "error": reason, "time": stamp})
    status["errors"] = errors
    for entry in status.get("tasks", {}).values():
        if entry["state"] in ("pending", "processing"):
            entry.update(state="failed", message=reason, updated_at=stamp)
    return summarize(status)


def summarize(status: dict) -> dict:
    states = [t["state"] for t in status.get("tasks", {}).values()]
    failed = sum(1 for s in states if s == "failed")
    if any(s in ("pending", "processing") for s in states):
        state, message = "processing", "Asset is being processed"
    elif states and failed == len(states):
        state, message = "failed", "Asset processing failed"
    elif failed:
        state, message = "warning", f"Asset processed with {failed} failed task(s)"
    else:
        state, message = "complete", "Asset processed successfully"
    if any(e.get("task") in FATAL_TASKS for e in status.get("errors", [])):
        state, message = "failed", "Asset processing failed"
    status["state"] = state
    status["message"] = message
    status["updated_at"] = now_iso()
    return status

"""Changes the model asked for, carried out only after the user confirms them.

A tool that changes the library (create_album, add_to_album, bulk_like_assets) does
not run: it stores a pending action and the run stops to ask. `POST
/agent/chat/resume {thread_id, targets}` decides: `targets` maps action ids to the
user's answer, `true` (or `{"approved": true}`) to carry it out, `false` (or
`{"approved": false}`) to decline it. Actions not named stay pending; once none is
left the conversation goes on with the outcomes. A new message in the thread
dismisses whatever is still pending.

Each decision is one catalog transaction: the change itself, the action's status and
the answer the model will read are written together, so a client that goes away
half-way leaves either all of it or none. Nothing here deletes anything.
"""

from __future__ import annotations

import json
import logging
import uuid

import apsw

from lumilio.agent import prompt, threads
from lumilio.agent.library import scope
from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.services import albums, asset_edits
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

DISMISSED = "The user did not confirm this change and went on; nothing was changed."
DECLINED = "The user declined this change; nothing was changed."


def prepare(who: Principal, thread_id: str, call_id: str, tool: str, args: dict,
            summary: str) -> dict:
    """A change as it will wait for the user; stored with the step that asked for
    it (`record_step`), so that no action outlives a step cut short."""
    return {"action_id": str(uuid.uuid4()), "thread_id": thread_id,
            "user_id": who.user_id, "tool_call_id": call_id, "tool": tool,
            "args": json.dumps(args), "summary": summary}


def record_step(ctx: Context, who: Principal, thread_id: str,
                messages: list[dict], waiting: list[dict]) -> None:
    """A finished model step, in one transaction: its messages and the changes it
    proposed."""

    def store(conn: apsw.Connection) -> None:
        for action in waiting:
            conn.execute(
                "INSERT INTO agent_actions (action_id, thread_id, user_id,"
                " tool_call_id, tool, args, summary, created_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (action["action_id"], thread_id, who.user_id,
                 action["tool_call_id"], action["tool"], action["args"],
                 action["summary"], now_iso()))
        threads.append_in(conn, who, thread_id, messages)

    ctx.catalog.write(store)
    for action in waiting:
        log.info("agent: %s proposed, waiting for confirmation: %s", action["tool"],
                 action["summary"])


def dto(row: dict) -> dict:
    """The `action` of a message frame: what the client asks the user to confirm."""
    args = json.loads(row["args"])
    out = {"type": "confirmation_required", "action_id": row["action_id"],
           "thread_id": row["thread_id"], "tool": row["tool"],
           "summary": row["summary"], "count": len(args.get("asset_ids", []))}
    if "album" in args:
        out["album_name"] = args["album"]["album_name"]
        if args["album"].get("description"):
            out["album_description"] = args["album"]["description"]
    for key in ("album_id", "liked"):
        if key in args:
            out[key] = args[key]
    return out


def pending(ctx: Context, who: Principal, thread_id: str) -> list[dict]:
    return ctx.catalog.all(
        "SELECT * FROM agent_actions WHERE user_id = ? AND thread_id = ?"
        " AND status = 'pending' ORDER BY created_at, action_id",
        (who.user_id, thread_id))


def approvals(targets: object, waiting: list[dict]) -> dict[str, bool]:
    """The user's answers in a resume body's `targets`, checked."""
    if not isinstance(targets, dict) or not targets:
        raise BadRequest("Invalid request data",
                         "targets must map action ids to true or false")
    known = {row["action_id"] for row in waiting}
    out: dict[str, bool] = {}
    for action_id, answer in targets.items():
        if action_id not in known:
            raise BadRequest("Invalid request data",
                             f"{action_id!r} is not a change waiting for an answer")
        if isinstance(answer, dict):
            answer = answer.get("approved")
        if not isinstance(answer, bool):
            raise BadRequest("Invalid request data",
                             f"the answer for {action_id} must be true or false")
        out[action_id] = answer
    return out


def _close_in(conn: apsw.Connection, row: dict, status: str, outcome: dict) -> dict:
    conn.execute("UPDATE agent_actions SET status = ?, outcome = ?, decided_at = ?"
                 " WHERE action_id = ?",
                 (status, json.dumps(outcome), now_iso(), row["action_id"]))
    return {"role": "tool", "tool_call_id": row["tool_call_id"],
            "content": prompt.tool_result(outcome)}


def dismiss_in(conn: apsw.Connection, who: Principal, thread_id: str) -> int:
    """Close what still waits in a thread because the user moved on."""
    rows = conn.execute("SELECT * FROM agent_actions WHERE user_id = ? AND"
                        " thread_id = ? AND status = 'pending'"
                        " ORDER BY created_at, action_id",
                        (who.user_id, thread_id)).fetchall()
    answers = [_close_in(conn, row, "dismissed",
                         {"status": "dismissed", "message": DISMISSED})
               for row in rows]
    threads.append_in(conn, who, thread_id, answers)
    return len(rows)


def decide(ctx: Context, who: Principal, thread_id: str,
           answers: dict[str, bool]) -> list[dict]:
    """Carry out or decline the answered actions, in one transaction; returns each
    action with its outcome."""

    def apply(conn: apsw.Connection) -> list[dict]:
        done = []
        messages = []
        for action_id, approved in answers.items():
            rows = conn.execute("SELECT * FROM agent_actions WHERE action_id = ? AND"
                                " user_id = ? AND thread_id = ? AND"
                                " status = 'pending'",
                                (action_id, who.user_id, thread_id)).fetchall()
            if not rows:
                continue  # answered by a concurrent request a moment ago
            row = rows[0]
            added: list[str] = []
            if approved:
                outcome, added = _carry_out(conn, who, row["tool"],
                                            json.loads(row["args"]))
                status = outcome["status"]
            else:
                outcome = {"status": "declined", "message": DECLINED}
                status = "declined"
            messages.append(_close_in(conn, row, status, outcome))
            done.append({**dto(row), "tool_call_id": row["tool_call_id"],
                         "status": status, "outcome": outcome, "added_ids": added})
        threads.append_in(conn, who, thread_id, messages)
        return done

    decided = ctx.catalog.write(apply)
    for item in decided:
        log.info("agent: %s for %s %s: %s", item["tool"], who.username,
                 item["status"], item["summary"])
        _after(ctx, who, item)
    return decided


def _visible_in(conn: apsw.Connection, who: Principal, asset_ids: list[str]
                ) -> list[str]:
    where = scope(who)
    rows = conn.execute(
        f"SELECT a.asset_id FROM assets a WHERE {where.sql()} AND a.asset_id IN"
        " (SELECT value FROM json_each(?))", [*where.params, json.dumps(asset_ids)]
    ).fetchall()
    still = {r["asset_id"] for r in rows}
    return [i for i in asset_ids if i in still]


def _carry_out(conn: apsw.Connection, who: Principal, tool: str, args: dict
               ) -> tuple[dict, list[str]]:
    """The change itself: its outcome, and the assets added to an album."""
    asset_ids = _visible_in(conn, who, args.get("asset_ids", []))
    if tool == "create_album":
        album_id = albums.insert_in(conn, who, args["album"])
        added = albums.append_in(conn, album_id, asset_ids)
        return {"status": "done", "album_id": album_id,
                "album_name": args["album"]["album_name"], "added": len(added)}, []
    if tool == "add_to_album":
        owner = conn.execute("SELECT user_id FROM albums WHERE album_id = ?",
                             (args["album_id"],)).fetchall()
        if not owner or owner[0]["user_id"] != who.user_id:
            return {"status": "failed", "message": "The album no longer exists."}, []
        added = albums.append_in(conn, args["album_id"], asset_ids)
        return {"status": "done", "album_id": args["album_id"], "added": len(added),
                "already_in_album": len(asset_ids) - len(added)}, added
    if tool == "bulk_like_assets":
        changed = asset_edits.set_liked_in(conn, who, asset_ids, args["liked"])
        return {"status": "done", "liked": args["liked"], "changed": changed,
                "unchanged": len(asset_ids) - changed}, []
    raise ValueError(f"unknown action {tool}")


def _after(ctx: Context, who: Principal, item: dict) -> None:
    """What follows a change outside its transaction: photos added to a bio album
    are queued for species predictions, as a single add would do."""
    from lumilio.services import labels

    added = item.pop("added_ids")
    if not added:
        return
    album = albums.get_album(ctx, who, item["outcome"]["album_id"])
    for asset_id in added:
        labels.photo_added_to_album(ctx, album, asset_id)

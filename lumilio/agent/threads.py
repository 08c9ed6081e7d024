"""Conversations: one thread per conversation, its messages in order.

A thread belongs to the user who started it. A client may name a new thread itself
(a UUID it made) or let the server choose. Thread ids are scoped per user: the id of
another user's thread names, in the caller's hands, a thread of the caller's own
(a new one at first), so no answer tells whether someone else uses that id.
"""

from __future__ import annotations

import json
import re
import uuid

import apsw

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound
from lumilio.timeutil import now_iso

THREAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TITLE_MAX = 80
# The model reads at most this many of the latest messages; older ones are left
# out at a user message, so that a tool call never loses its result.
HISTORY_MAX = 60


def valid_id(value: object, name: str = "thread_id") -> str:
    if not isinstance(value, str) or not THREAD_ID.match(value):
        raise BadRequest("Invalid request data",
                         f"{name} must be 1-64 letters, digits, '-' or '_'")
    return value


def _find(ctx: Context, who: Principal, thread_id: str) -> dict | None:
    return ctx.catalog.one(
        "SELECT * FROM agent_threads WHERE user_id = ? AND thread_id = ?",
        (who.user_id, thread_id))


def get(ctx: Context, who: Principal, thread_id: str) -> dict:
    row = _find(ctx, who, thread_id)
    if row is None:
        raise NotFound("Thread not found")
    return row


def open_thread(ctx: Context, who: Principal, thread_id: str | None,
                query: str) -> dict:
    """The caller's thread of that id, made now when it does not exist yet."""
    if thread_id is not None:
        row = _find(ctx, who, thread_id)
        if row is not None:
            return row
    new_id = thread_id or str(uuid.uuid4())
    title = " ".join(query.split())[:TITLE_MAX]

    def create(conn: apsw.Connection) -> None:
        stamp = now_iso()
        conn.execute(
            "INSERT INTO agent_threads (user_id, thread_id, title, created_at,"
            " updated_at) VALUES (?,?,?,?,?)", (who.user_id, new_id, title, stamp,
                                                stamp))

    try:
        ctx.catalog.write(create)
    except apsw.ConstraintError:
        # Made by a concurrent request with the same id a moment ago.
        return get(ctx, who, new_id)
    return get(ctx, who, new_id)


def append_in(conn: apsw.Connection, who: Principal, thread_id: str,
              bodies: list[dict]) -> None:
    """Add messages at the end of a thread, inside the caller's transaction."""
    stamp = now_iso()
    for body in bodies:
        conn.execute("INSERT INTO agent_messages (user_id, thread_id, body,"
                     " created_at) VALUES (?,?,?,?)",
                     (who.user_id, thread_id, json.dumps(body), stamp))
    conn.execute("UPDATE agent_threads SET updated_at = ? WHERE user_id = ? AND"
                 " thread_id = ?", (stamp, who.user_id, thread_id))


def append(ctx: Context, who: Principal, thread_id: str, bodies: list[dict]) -> None:
    ctx.catalog.write(lambda conn: append_in(conn, who, thread_id, bodies))


def history(ctx: Context, who: Principal, thread_id: str) -> list[dict]:
    """The latest messages of a thread, starting at a user message."""
    rows = ctx.catalog.all(
        "SELECT body FROM agent_messages WHERE user_id = ? AND thread_id = ?"
        " ORDER BY message_id", (who.user_id, thread_id))
    messages = [json.loads(r["body"]) for r in rows]
    if len(messages) <= HISTORY_MAX:
        return messages
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    fitting = [i for i in users if len(messages) - i <= HISTORY_MAX]
    start = fitting[0] if fitting else (users[-1] if users else 0)
    return messages[start:]


def next_ref_id(conn: apsw.Connection, who: Principal, thread_id: str) -> str:
    """The next ref id of a thread (r1, r2, ...), short for the model to repeat."""
    key = (who.user_id, thread_id)
    number = conn.execute("SELECT next_ref FROM agent_threads WHERE user_id = ? AND"
                          " thread_id = ?", key).fetchall()[0]["next_ref"]
    conn.execute("UPDATE agent_threads SET next_ref = next_ref + 1"
                 " WHERE user_id = ? AND thread_id = ?", key)
    return f"r{number}"

"""The Server-Sent Events response that drives a run.

The run is a task of the response: frames go out as it emits them, a heartbeat
every 30 seconds keeps idle proxies from closing the stream, and when the client
goes away the run is cancelled at once rather than left to talk to nobody. One run
at a time per thread: a second request for a busy thread answers 409. Threads are
the user's own (another user's thread of the same id is another thread), and so is
being busy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

import anyio
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from lumilio.errors import Conflict

log = logging.getLogger(__name__)

HEARTBEAT_S = 30.0
HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"),
           (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]

Emit = Callable[[str, dict], None]
Body = Callable[[Emit], Awaitable[None]]

# Threads with a run in progress in this process, as (user id, thread id).
_busy: set[tuple[int, str]] = set()


def now_ms() -> int:
    return int(time.time() * 1000)


def frame(kind: str, data: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class EventStream:
    """An ASGI response streaming what `body(emit)` emits, for one thread of one
    user."""

    def __init__(self, body: Body, user_id: int, thread_id: str):
        self.body = body
        self.thread_id = thread_id
        self.key = (user_id, thread_id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.key in _busy:
            busy = Conflict("The assistant is still answering in this conversation",
                            "wait for its answer, or close it, before sending more")
            await JSONResponse(busy.body(), status_code=409)(scope, receive, send)
            return
        _busy.add(self.key)
        try:
            await self._stream(receive, send)
        finally:
            _busy.discard(self.key)

    async def _stream(self, receive: Receive, send: Send) -> None:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        gone = False

        def emit(kind: str, data: dict) -> None:
            queue.put_nowait(frame(kind, data))

        headers = HEADERS + [(b"x-thread-id", self.thread_id.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})

        async with anyio.create_task_group() as group:

            async def produce() -> None:
                try:
                    await self.body(emit)
                except Exception:
                    log.exception("agent run in thread %s of user %d failed",
                                  self.thread_id, self.key[0])
                    emit("error", {"error": "The assistant failed unexpectedly; the "
                                   "server log has the details."})
                finally:
                    queue.put_nowait(None)

            async def pump() -> None:
                while True:
                    try:
                        chunk = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                    except TimeoutError:
                        chunk = frame("heartbeat", {"timestamp": now_ms()})
                    if chunk is None:
                        break
                    await send({"type": "http.response.body", "body": chunk,
                                "more_body": True})
                group.cancel_scope.cancel()

            async def watch() -> None:
                nonlocal gone
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone = True
                group.cancel_scope.cancel()

            group.start_soon(produce)
            group.start_soon(pump)
            group.start_soon(watch)

        if gone:
            log.info("agent: the client of thread %s of user %d went away; its run "
                     "was cancelled", self.thread_id, self.key[0])
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})

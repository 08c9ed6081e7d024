"""Batch and chunked uploads: the multipart body is read as it arrives.

Each file field is written to its staging file piece by piece while the request
streams in; no file, and no chunk, is ever held whole in memory or spooled to a
second temporary file first.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import call, ctx_of, endpoint, ok
from lumilio.errors import BadRequest
from lumilio.services import batch_upload

log = logging.getLogger(__name__)

# Bytes gathered before one write to disk: fewer hops to the thread pool.
WRITE_BATCH = 1 << 20
MAX_FIELD_BYTES = 4096
MAX_PARTS = 1000


@dataclass
class _Events:
    """What the parser saw in one piece of the body, in order."""

    items: list[tuple[str, object]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    name: bytes = b""
    value: bytes = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._add("name", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("value", d[s:e]),
            "on_header_end": self._header,
            "on_headers_finished": lambda: self.items.append(("part", self.headers)),
            "on_part_data": lambda d, s, e: self.items.append(("data", d[s:e])),
            "on_part_end": lambda: self.items.append(("end", None)),
        }

    def _begin(self) -> None:
        self.headers = {}

    def _add(self, which: str, data: bytes) -> None:
        setattr(self, which, getattr(self, which) + data)

    def _header(self) -> None:
        self.headers[self.name.decode("latin-1").lower()] = self.value.decode(
            "utf-8", "replace")
        self.name = self.value = b""

    def take(self) -> list[tuple[str, object]]:
        items, self.items = self.items, []
        return items


async def _events(request: Request) -> AsyncIterator[tuple[str, object]]:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadRequest("Invalid request data", "expected multipart/form-data")
    events = _Events()
    parser = MultipartParser(boundary, events.callbacks())
    try:
        async for piece in request.stream():
            parser.write(piece)
            for item in events.take():
                yield item
        parser.finalize()
    except MultipartParseError as exc:
        raise BadRequest("Invalid request data",
                         f"malformed multipart: {exc}") from None
    for item in events.take():
        yield item


def _disposition(headers: dict[str, str]) -> tuple[str, str | None]:
    try:
        _, options = parse_options_header(headers.get("content-disposition", ""))
    except (UnicodeError, ValueError):
        # Header values are Latin-1 on the wire; anything else is not a valid part.
        raise BadRequest("Invalid request data",
                         "malformed Content-Disposition in a form part") from None
    name = options.get(b"name", b"").decode("utf-8", "replace")
    filename = options.get(b"filename")
    return name, None if filename is None else filename.decode("utf-8", "replace")


class _Receiver:
    """Routes the parser's events: text fields to memory, files to their parts."""

    def __init__(self, upload: batch_upload.BatchUpload):
        self.upload = upload
        self.part: batch_upload.Part | None = None
        self.text: bytearray | None = None
        self.name = ""
        self.pending = bytearray()
        self.parts = 0

    async def begin(self, headers: dict[str, str]) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise BadRequest("Too many parts", f"at most {MAX_PARTS} per request")
        self.name, filename = _disposition(headers)
        if filename is None:
            self.text = bytearray()
        else:
            self.part = await call(self.upload.open_part, self.name, filename)

    async def data(self, data: bytes) -> None:
        if self.text is not None:
            self.text += data
            if len(self.text) > MAX_FIELD_BYTES:
                raise BadRequest("Invalid request data", f"{self.name} is too long")
        elif self.part is not None:
            self.pending += data
            if len(self.pending) >= WRITE_BATCH:
                await self._flush()

    async def end(self) -> None:
        if self.text is not None:
            if self.name == "repository_id":
                value = self.text.decode("utf-8", "replace")
                await call(self.upload.set_repository, value)
            self.text = None
        elif self.part is not None:
            await self._flush()
            done, self.part = self.part, None
            await call(done.finish)

    async def _flush(self) -> None:
        if self.pending and self.part is not None:
            await call(self.part.write, bytes(self.pending))
            self.pending.clear()

    async def abandon(self) -> None:
        if self.part is not None:
            log.debug("batch upload broken off in %r; its partial file is removed",
                      self.name)
            await call(self.part.discard)
            self.part = None


async def upload_batch(request: Request):
    ctx = ctx_of(request)
    who = await call(http.ready_user, request)
    upload = await call(batch_upload.BatchUpload, ctx, who,
                        request.query_params.get("repository_id"),
                        request.headers.get("x-content-hash"))

    receiver = _Receiver(upload)
    try:
        async for event, value in _events(request):
            if event == "part":
                await receiver.begin(value)  # type: ignore[arg-type]
            elif event == "data":
                await receiver.data(value)  # type: ignore[arg-type]
            else:
                await receiver.end()
    except BaseException:
        # A broken connection or a refused part: what was half-written goes away,
        # chunks already complete stay for the next attempt.
        await receiver.abandon()
        raise
    return ok(await call(upload.response))


@endpoint
def upload_config(request: Request, body: dict):
    http.require_ready(request)
    http.user(request)
    return ok(batch_upload.upload_config())


@endpoint
def upload_progress(request: Request, body: dict):
    who = http.ready_user(request)
    raw = request.query_params.get("session_ids") or ""
    wanted = [s.strip() for s in raw.split(",") if s.strip()] or None
    return ok(batch_upload.progress(ctx_of(request), who, wanted))


routes = [
    Route("/assets/batch", upload_batch, methods=["POST"]),
    Route("/assets/batch/config", upload_config, methods=["GET"]),
    Route("/assets/batch/progress", upload_progress, methods=["GET"]),
]

"""The library assistant: chat (Server-Sent Events), tools, refs and pins.

Every route needs a signed-in caller and answers 404 "Agent is disabled" while the
assistant is switched off in the settings. The chat routes also need a language
model; without one they answer 503 and say how to set one up. Refs, pins and the
tool list work without a model.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.agent import actions, llm, pins, refs, threads, tools
from lumilio.agent.library import REF_CAP
from lumilio.agent.llm import ModelSettings
from lumilio.agent.runs import Run
from lumilio.agent.stream import EventStream
from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, message, ok, query_int
from lumilio.auth.principal import Principal
from lumilio.errors import BadRequest, NotFound, Unavailable
from lumilio.services import system_settings

QUERY_MAX = 4000
ATTACHED_MAX = 20
OFFSET_MAX = 2**62


def _caller(request: Request) -> Principal:
    who = http.ready_user(request)
    if not system_settings.agent_enabled(ctx_of(request)):
        raise NotFound("Agent is disabled")
    return who


def _chatter(request: Request) -> tuple[Principal, ModelSettings]:
    """The caller of a chat route, and the model the assistant talks to."""
    who = _caller(request)
    stored = system_settings.llm_settings(ctx_of(request))
    lacking = llm.missing(stored)
    if lacking:
        raise Unavailable("No language model is set up for the assistant",
                          f"missing: {', '.join(lacking)}. {llm.SETUP_HELP}")
    return who, ModelSettings.from_stored(stored)


# -- chat ------------------------------------------------------------------------------


def _items(body: dict, name: str, fields: tuple[str, ...]) -> list[dict]:
    """The context or mentions of a chat body: short lists of small objects."""
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > ATTACHED_MAX:
        raise BadRequest("Invalid request data",
                         f"{name} must be a list of at most {ATTACHED_MAX} objects")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise BadRequest("Invalid request data", f"each of {name} is an object")
        kept = {}
        for key in fields:
            got = item.get(key)
            if got is not None and not isinstance(got, str):
                raise BadRequest("Invalid request data", f"{name}.{key} is text")
            kept[key] = got
        out.append(kept)
    return out


def _context(body: dict) -> list[dict]:
    found = _items(body, "context", ("type", "label"))
    for kept, item in zip(found, body.get("context") or []):
        ids = item.get("asset_ids") or []
        if (not isinstance(ids, list) or len(ids) > REF_CAP
                or not all(isinstance(i, str) for i in ids)):
            raise BadRequest("Invalid request data",
                             f"context.asset_ids is a list of at most {REF_CAP} ids")
        kept["asset_ids"] = ids
    return found


async def chat(request: Request):
    body = await http.json_body(request)
    who, settings = await http.call(_chatter, request)
    query = http.field(body, "query", str, required=True).strip()
    if not query or len(query) > QUERY_MAX:
        raise BadRequest("Invalid request data",
                         f"query must be 1 to {QUERY_MAX} characters")
    thread_id = body.get("thread_id")
    if thread_id is not None:
        thread_id = threads.valid_id(thread_id)
    context = _context(body)
    mentions = _items(body, "mentions", ("type", "id", "label"))
    ctx = ctx_of(request)
    thread = await http.call(threads.open_thread, ctx, who, thread_id, query)

    async def run(emit) -> None:
        await Run(ctx, who, thread["thread_id"], settings, emit).chat(
            query, context, mentions)

    return EventStream(run, who.user_id, thread["thread_id"])


async def resume(request: Request):
    body = await http.json_body(request)
    who, settings = await http.call(_chatter, request)
    thread_id = threads.valid_id(body.get("thread_id"))
    ctx = ctx_of(request)
    await http.call(threads.get, ctx, who, thread_id)
    waiting = await http.call(actions.pending, ctx, who, thread_id)
    if not waiting:
        raise BadRequest("Nothing to confirm",
                         "no change is waiting for an answer in this conversation")
    answers = actions.approvals(body.get("targets"), waiting)

    async def run(emit) -> None:
        await Run(ctx, who, thread_id, settings, emit).resume(answers)

    return EventStream(run, who.user_id, thread_id)


@endpoint
def tool_list(request: Request, body: dict):
    _caller(request)
    return ok(tools.catalogue())


# -- refs ------------------------------------------------------------------------------


def _ref(request: Request) -> tuple[Principal, refs.Ref]:
    who = _caller(request)
    thread_id = request.query_params.get("thread_id")
    if not thread_id:
        raise BadRequest("Invalid request data", "thread_id is required")
    return who, refs.load(ctx_of(request), who, thread_id,
                          request.path_params["id"])


def _page(request: Request) -> tuple[int, int]:
    return (query_int(request, "limit", refs.PAGE_DEFAULT, 1, refs.PAGE_MAX),
            query_int(request, "offset", 0, 0, OFFSET_MAX))


@endpoint
def get_ref(request: Request, body: dict):
    _, ref = _ref(request)
    return ok(refs.dto(ref))


@endpoint
def ref_assets(request: Request, body: dict):
    who, ref = _ref(request)
    limit, offset = _page(request)
    return ok(refs.assets_page(ctx_of(request), who, ref.asset_ids, limit, offset))


# -- pins ------------------------------------------------------------------------------


@endpoint
def list_pins(request: Request, body: dict):
    who = _caller(request)
    limit = query_int(request, "limit", pins.LIST_DEFAULT, 1, pins.LIST_MAX)
    offset = query_int(request, "offset", 0, 0, OFFSET_MAX)
    return ok(pins.list_pins(ctx_of(request), who, limit, offset))


@endpoint
def create_pin(request: Request, body: dict):
    who = _caller(request)
    return ok(pins.create(ctx_of(request), who, body))


@endpoint
def update_layout(request: Request, body: dict):
    who = _caller(request)
    pins.update_layout(ctx_of(request), who, body)
    return message("Pin layout updated")


@endpoint
def delete_pin(request: Request, body: dict):
    who = _caller(request)
    pins.delete(ctx_of(request), who, request.path_params["id"])
    return message("Pin removed")


@endpoint
def pin_assets(request: Request, body: dict):
    who = _caller(request)
    limit, offset = _page(request)
    return ok(pins.assets(ctx_of(request), who, request.path_params["id"], limit,
                          offset))


routes = [
    Route("/agent/chat", chat, methods=["POST"]),
    Route("/agent/chat/resume", resume, methods=["POST"]),
    Route("/agent/tools", tool_list, methods=["GET"]),
    Route("/agent/refs/{id}", get_ref, methods=["GET"]),
    Route("/agent/refs/{id}/assets", ref_assets, methods=["GET"]),
    Route("/agent/pins", list_pins, methods=["GET"]),
    Route("/agent/pins", create_pin, methods=["POST"]),
    Route("/agent/pins/layout", update_layout, methods=["PATCH"]),
    Route("/agent/pins/{id}", delete_pin, methods=["DELETE"]),
    Route("/agent/pins/{id}/assets", pin_assets, methods=["GET"]),
]

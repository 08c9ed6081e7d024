"""The tool registry: what a tool is, how a call from the model is checked and run,
and how a ref's plan is run again for a live pin.

A tool's arguments are a pydantic model: its JSON schema is what the model is given,
and the same model checks what the model sends back. Whatever goes wrong (arguments
that are not JSON, a wrong type, an unknown ref, a feature that is switched off)
becomes an error result for the model, which may try again; never a failed request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lumilio.agent import refs
from lumilio.agent.refs import Ref
from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import ApiError

log = logging.getLogger(__name__)

ERRORS_SHOWN = 5
# SQLite keeps integers in 64 bits: a larger one from the model must be an argument
# error, never a value the catalog cannot take.
INT_MAX = 2**63 - 1
# The id of a catalog row (an album, a person).
Id = Annotated[int, Field(ge=1, le=INT_MAX)]
# A position or a seed: anything from 0 that the catalog could hold.
NonNegative = Annotated[int, Field(ge=0, le=INT_MAX)]


class Args(BaseModel):
    """Arguments of a tool. Unknown fields are ignored: small models add some."""

    model_config = ConfigDict(extra="ignore")


class ToolError(Exception):
    """A call that cannot be carried out; the message goes back to the model."""


@dataclass(frozen=True)
class Call:
    """One tool call: who asked, in which thread."""

    ctx: Context
    who: Principal
    thread_id: str
    call_id: str

    def ref(self, ref_id: str) -> Ref:
        try:
            return refs.load(self.ctx, self.who, self.thread_id, ref_id)
        except ApiError:
            raise ToolError(f"There is no ref {ref_id!r} in this conversation"
                            ) from None


@dataclass
class Outcome:
    result: dict | None = None
    error: str | None = None
    ref: Ref | None = None          # the ref it made
    widget: dict | None = None      # what to show the user (the show tool)
    action: dict | None = None      # a change waiting for confirmation


Find = Callable[[Context, Principal, Any, dict], list[str]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[Args]
    run: Callable[[Call, Any], Outcome] | None = None
    # A finding tool gives `find` instead of `run`: a function of the arguments and
    # the asset ids of the refs it reads, which is also what a live pin replays.
    find: Find | None = None
    refs_in: tuple[str, ...] = ()  # argument fields that name refs
    changes: bool = False          # proposes a change the user must confirm

    def schema(self) -> dict:
        return _tidy(self.args.model_json_schema())

    def spec(self) -> dict:
        """The tool as the chat-completions protocol describes it."""
        return {"type": "function", "function": {
            "name": self.name, "description": self.description,
            "parameters": self.schema()}}


TOOLS: dict[str, Tool] = {}


def register(tool: Tool) -> Tool:
    TOOLS[tool.name] = tool
    return tool


def _tidy(schema: Any) -> Any:
    """The schema without pydantic's titles, and an optional field written as its
    type alone (leaving it out is how the model says 'none')."""
    if isinstance(schema, list):
        return [_tidy(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _tidy(v) for k, v in schema.items() if k not in ("title", "properties")}
    if "properties" in schema:
        out["properties"] = {k: _tidy(v) for k, v in schema["properties"].items()}
    options = out.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) == 1:
            out.pop("anyOf")
            out = {**kept[0], **out}
    if out.get("default", 0) is None:
        out.pop("default")
    return out


# -- running a call --------------------------------------------------------------------


def run(call: Call, name: str, arguments: str) -> Outcome:
    """Check and run one tool call; every failure is an error result."""
    tool = TOOLS.get(name)
    if tool is None:
        return Outcome(error=f"There is no tool named {name!r}. The tools are: "
                       + ", ".join(sorted(TOOLS)))
    try:
        raw = json.loads(arguments or "{}")
    except ValueError as exc:
        return Outcome(error=f"The arguments are not valid JSON ({exc}). Send one "
                       "JSON object that matches the tool's parameters.")
    if not isinstance(raw, dict):
        return Outcome(error="The arguments must be one JSON object.")
    try:
        args = tool.args.model_validate(raw)
    except ValidationError as exc:
        return Outcome(error="The arguments do not fit the tool: " + _problems(exc))

    try:
        if tool.find is not None:
            return _produce(tool, call, args)
        assert tool.run is not None
        return tool.run(call, args)
    except ToolError as exc:
        return Outcome(error=str(exc))
    except ApiError as exc:
        detail = f": {exc.detail}" if exc.detail and exc.detail != exc.message else ""
        return Outcome(error=f"{exc.message}{detail}")
    except Exception:
        log.exception("agent tool %s failed on %s", name, arguments[:200])
        return Outcome(error=f"The tool {name} failed unexpectedly; the server log "
                       "has the details.")


def _problems(exc: ValidationError) -> str:
    found = [f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
             for e in exc.errors()[:ERRORS_SHOWN]]
    return "; ".join(found)


def _inputs(call: Call, tool: Tool, args: Args) -> tuple[dict, dict]:
    """The asset ids and the plans of the refs the arguments name."""
    ids: dict[str, Any] = {}
    plans: dict[str, Any] = {}
    for field in tool.refs_in:
        named = getattr(args, field)
        if named is None:
            continue
        if isinstance(named, list):
            found = [call.ref(r) for r in named]
            ids[field] = [r.asset_ids for r in found]
            plans[field] = [r.plan for r in found]
        else:
            found_one = call.ref(named)
            ids[field] = found_one.asset_ids
            plans[field] = found_one.plan
    return ids, plans


def _replayable(plans: dict) -> bool:
    flat = [p for v in plans.values() for p in (v if isinstance(v, list) else [v])]
    return all(p is not None for p in flat)


def _produce(tool: Tool, call: Call, args: Args) -> Outcome:
    assert tool.find is not None
    ids, plans = _inputs(call, tool, args)
    found = tool.find(call.ctx, call.who, args, ids)
    plan = None
    if _replayable(plans):
        plan = {"op": tool.name,
                "args": args.model_dump(mode="json", exclude_none=True),
                "inputs": plans}
    ref = refs.save(call.ctx, call.who, call.thread_id, tool.name, plan, found)
    return Outcome(result=refs.model_view(call.ctx, call.who, ref), ref=ref)


def replay(ctx: Context, who: Principal, plan: dict) -> list[str]:
    """The asset ids a plan finds now, in the caller's scope."""
    tool = TOOLS[plan["op"]]
    assert tool.find is not None
    args = tool.args.model_validate(plan["args"])
    ids: dict[str, Any] = {}
    for field, sub in plan.get("inputs", {}).items():
        ids[field] = ([replay(ctx, who, p) for p in sub] if isinstance(sub, list)
                      else replay(ctx, who, sub))
    return tool.find(ctx, who, args, ids)

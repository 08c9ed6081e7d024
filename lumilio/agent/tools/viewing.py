"""Tools that read a ref: its facets, a few of its items, and showing it to the user."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lumilio.agent import library
from lumilio.agent.tools.registry import (
    Args,
    Call,
    NonNegative,
    Outcome,
    Tool,
    register,
)

REF = "A ref id such as r3."
TITLE_MAX = 120


class RefArgs(Args):
    ref: str = Field(description=REF)


def _describe(call: Call, a: RefArgs) -> Outcome:
    ref = call.ref(a.ref)
    out = {"ref": ref.ref_id, "count": ref.count, "facets": ref.facets}
    if ref.truncated:
        out["truncated"] = True
    return Outcome(result=out)


class PeekArgs(Args):
    ref: str = Field(description=REF)
    offset: NonNegative = 0
    limit: int = Field(10, ge=1, le=50)


def _peek(call: Call, a: PeekArgs) -> Outcome:
    ref = call.ref(a.ref)
    items = library.compact_items(call.ctx, call.who,
                                  ref.asset_ids[a.offset:a.offset + a.limit])
    return Outcome(result={"ref": ref.ref_id, "count": ref.count,
                           "offset": a.offset, "items": items})


class ShowArgs(Args):
    ref: str = Field(description=REF)
    title: str | None = Field(None, max_length=TITLE_MAX,
                              description="A short title for the user.")
    widget: Literal["asset_grid", "timeline", "map"] = "asset_grid"


def _show(call: Call, a: ShowArgs) -> Outcome:
    ref = call.ref(a.ref)
    widget = {"ref_id": ref.ref_id, "thread_id": call.thread_id, "widget": a.widget,
              "title": a.title or "", "count": ref.count}
    return Outcome(result={"shown": ref.ref_id, "count": ref.count},
                   ref=ref, widget=widget)


register(Tool("describe", "The facets of a ref: dates, places, people, cameras, "
              "kinds, ratings, liked.", RefArgs, run=_describe))
register(Tool("peek", "A few items of a ref (id, date, place, kind, file name) to "
              "look at, without showing them to the user.", PeekArgs, run=_peek))
register(Tool("show", "Show a ref's assets to the user as a photo grid (or a "
              "timeline or map).", ShowArgs, run=_show))

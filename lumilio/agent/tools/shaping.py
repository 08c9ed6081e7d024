"""Tools that make a new ref out of others: order, head, sample, set operations."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from lumilio.agent import library
from lumilio.agent.tools.registry import Args, NonNegative, Tool, register
from lumilio.auth.principal import Principal
from lumilio.context import Context

REF = "A ref id such as r3."
# Beyond this the size of a photo says nothing more about how good it is.
MEGAPIXELS_CAP = 24.0


class RankArgs(Args):
    ref: str = Field(description=REF)
    by: Literal["best", "newest", "oldest", "rating", "resolution"] = Field(
        "best", description="best: liked and well rated first, then larger photos.")


def _megapixels(row: dict) -> float:
    return min((row["width"] or 0) * (row["height"] or 0) / 1e6, MEGAPIXELS_CAP)


def _rank(ctx: Context, who: Principal, a: RankArgs, inputs: dict) -> list[str]:
    rows = library.rows_in_order(
        ctx, who, inputs["ref"],
        "a.asset_id, a.rating, a.liked, a.width, a.height, a.sort_time")
    keys = {
        "best": lambda r: -(3 * (r["liked"] or 0) + 2 * (r["rating"] or 0)
                            + _megapixels(r) / 8),
        "rating": lambda r: -(r["rating"] or 0),
        "resolution": lambda r: -_megapixels(r),
    }
    if a.by in ("newest", "oldest"):
        # Python's sort is stable: equal times keep the ref's order.
        rows.sort(key=lambda r: r["sort_time"] or "", reverse=a.by == "newest")
    else:
        rows.sort(key=keys[a.by])
    return [r["asset_id"] for r in rows]


class TopArgs(Args):
    ref: str = Field(description=REF)
    n: int = Field(ge=1, le=library.REF_CAP, description="How many to keep.")


def _top(ctx: Context, who: Principal, a: TopArgs, inputs: dict) -> list[str]:
    return inputs["ref"][:a.n]


class SampleArgs(Args):
    ref: str = Field(description=REF)
    n: int = Field(ge=1, le=500, description="How many to pick.")
    spread: Literal["even", "random"] = Field(
        "even", description="even: spread over the ref's order (over time when it "
        "is in date order); random: at random.")
    seed: NonNegative = Field(
        0, description="For random: the same seed picks the same.")


def _sample(ctx: Context, who: Principal, a: SampleArgs, inputs: dict) -> list[str]:
    ids = inputs["ref"]
    if len(ids) <= a.n:
        return list(ids)
    if a.spread == "random":
        picked = sorted(random.Random(a.seed).sample(range(len(ids)), a.n))
    else:
        step = len(ids) / a.n
        picked = [int(i * step + step / 2) for i in range(a.n)]
    return [ids[i] for i in picked]


class CombineArgs(Args):
    refs: list[str] = Field(min_length=2, max_length=10, description="Ref ids.")
    op: Literal["union", "intersect", "difference"] = Field(
        description="union: in any; intersect: in all; difference: in the first "
        "and in none of the others.")


def _combine(ctx: Context, who: Principal, a: CombineArgs, inputs: dict
             ) -> list[str]:
    first, *others = inputs["refs"]
    if a.op == "union":
        return list(dict.fromkeys(i for ids in inputs["refs"] for i in ids))
    rest = [set(ids) for ids in others]
    if a.op == "intersect":
        return [i for i in first if all(i in s for s in rest)]
    return [i for i in first if not any(i in s for s in rest)]


register(Tool("rank", "Order a ref's assets (best first, by date, rating or size). "
              "Returns a new ref.", RankArgs, find=_rank, refs_in=("ref",)))
register(Tool("top", "Keep the first n assets of a ref (rank it first for the best "
              "ones). Returns a new ref.", TopArgs, find=_top, refs_in=("ref",)))
register(Tool("sample", "Pick n assets of a ref, spread evenly or at random. "
              "Returns a new ref.", SampleArgs, find=_sample, refs_in=("ref",)))
register(Tool("combine", "Union, intersection or difference of refs. Returns a new "
              "ref.", CombineArgs, find=_combine, refs_in=("refs",)))

"""The assistant's tools, by what they do:

    finding.py   filter_assets, search_semantic, search_text, search_people
    lookups.py   lookup_people, lookup_albums, inspect
    shaping.py   rank, top, sample, combine
    viewing.py   describe, peek, show
    changes.py   create_album, add_to_album, bulk_like_assets (confirmed by the user)

`registry.py` says what a tool is and runs the model's calls.
"""

from __future__ import annotations

import functools

# Imported in the order the model should read them; each module registers its tools.
from lumilio.agent.tools import finding  # noqa: F401  isort: skip
from lumilio.agent.tools import lookups  # noqa: F401  isort: skip
from lumilio.agent.tools import shaping  # noqa: F401  isort: skip
from lumilio.agent.tools import viewing  # noqa: F401  isort: skip
from lumilio.agent.tools import changes  # noqa: F401  isort: skip
from lumilio.agent.tools.registry import TOOLS, Call, Outcome, replay, run

__all__ = ["TOOLS", "Call", "Outcome", "catalogue", "replay", "run", "specs"]


@functools.cache
def specs() -> list[dict]:
    """Every tool as the chat-completions request lists it (read-only)."""
    return [tool.spec() for tool in TOOLS.values()]


def catalogue() -> list[dict]:
    """`GET /agent/tools`: name, description and the parameters of each tool."""
    return [{"name": t.name, "desc": t.description,
             "extra": {"parameters": t.schema(), "needs_confirmation": t.changes,
                       "returns_ref": t.find is not None}}
            for t in TOOLS.values()]

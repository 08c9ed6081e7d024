"""Tools that change the library. None of them changes anything when called: each
checks what it was asked, then proposes the change for the user to confirm (see
`lumilio.agent.actions`). There is no tool that deletes.
"""

from __future__ import annotations

from pydantic import Field

from lumilio.agent import actions, library
from lumilio.agent.tools.registry import (
    Args,
    Call,
    Id,
    Outcome,
    Tool,
    ToolError,
    register,
)
from lumilio.services import albums
from lumilio.services.repositories import valid_uuid

ASSETS_MAX = 500
REF = "A ref id such as r3: its assets are the ones changed."
IDS = "Asset ids, when there is no ref."


def _targets(call: Call, ref: str | None, asset_ids: list[str] | None,
             required: bool = True) -> list[str]:
    """The assets a change is about, among those the user can see."""
    if ref is not None:
        wanted = call.ref(ref).asset_ids
    else:
        wanted = [valid_uuid(i) for i in asset_ids or []]
    found = library.visible(call.ctx, call.who, wanted)
    if required and not found:
        raise ToolError("No assets to change: give a ref with assets, or asset_ids")
    return found


def _photos(n: int) -> str:
    return f"{n} item{'' if n == 1 else 's'}"


def _propose(call: Call, tool: str, args: dict, summary: str) -> Outcome:
    return Outcome(action=actions.prepare(call.who, call.thread_id, call.call_id, tool,
                                          args, summary))


class CreateAlbumArgs(Args):
    name: str = Field(min_length=1, max_length=albums.MAX_NAME)
    description: str | None = Field(None, max_length=2000)
    ref: str | None = Field(None, description=REF)
    asset_ids: list[str] | None = Field(None, max_length=ASSETS_MAX, description=IDS)


def _create_album(call: Call, a: CreateAlbumArgs) -> Outcome:
    fields = albums.checked_new_album({"album_name": a.name,
                                       "description": a.description})
    ids = _targets(call, a.ref, a.asset_ids, required=False)
    summary = f"Create the album “{fields['album_name']}” with {_photos(len(ids))}"
    return _propose(call, "create_album", {"album": fields, "asset_ids": ids}, summary)


class AddToAlbumArgs(Args):
    album_id: Id = Field(description="From lookup_albums.")
    ref: str | None = Field(None, description=REF)
    asset_ids: list[str] | None = Field(None, max_length=ASSETS_MAX, description=IDS)


def _add_to_album(call: Call, a: AddToAlbumArgs) -> Outcome:
    album = albums.get_album(call.ctx, call.who, a.album_id)
    ids = _targets(call, a.ref, a.asset_ids)
    summary = f"Add {_photos(len(ids))} to the album “{album['album_name']}”"
    return _propose(call, "add_to_album", {"album_id": a.album_id, "asset_ids": ids},
                    summary)


class LikeArgs(Args):
    ref: str | None = Field(None, description=REF)
    asset_ids: list[str] | None = Field(None, max_length=ASSETS_MAX, description=IDS)
    liked: bool = Field(True, description="false removes the like.")


def _bulk_like(call: Call, a: LikeArgs) -> Outcome:
    ids = _targets(call, a.ref, a.asset_ids)
    verb = "Like" if a.liked else "Remove the like from"
    return _propose(call, "bulk_like_assets", {"liked": a.liked, "asset_ids": ids},
                    f"{verb} {_photos(len(ids))}")


register(Tool("create_album", "Propose a new album, empty or with a ref's assets. "
              "The user confirms it first.", CreateAlbumArgs, run=_create_album,
              changes=True))
register(Tool("add_to_album", "Propose adding a ref's assets to an existing album. "
              "The user confirms it first.", AddToAlbumArgs, run=_add_to_album,
              changes=True))
register(Tool("bulk_like_assets", "Propose liking (or unliking) a ref's assets. The "
              "user confirms it first.", LikeArgs, run=_bulk_like, changes=True))

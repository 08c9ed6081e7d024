"""Tools that find assets: the unified filter, the search channels, people.

Each is a `find` function over the services the rest of the API uses, in the
caller's scope; the registry turns what it finds into a ref.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lumilio.agent import library
from lumilio.agent.tools.registry import Args, Id, Tool, ToolError, register
from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import Unavailable
from lumilio.services import albums, locations, people, search, semantic
from lumilio.services.browse import Where

TEXT_MAX = 200
# A date range open at its end: the unified filter reads a lone start day as
# that day only.
OPEN_END = "9999-12-31"
WITHIN = "Only look among the assets of this ref (a ref id such as r2)."
Kind = Literal["PHOTO", "VIDEO", "AUDIO"]


def _within(where: Where, inputs: dict) -> None:
    if "within" in inputs:
        library.restrict(where, inputs["within"])


# -- filter_assets ---------------------------------------------------------------------


class FilterArgs(Args):
    date_from: str | None = Field(None, description="First day, YYYY-MM-DD.")
    date_to: str | None = Field(None, description="Last day, YYYY-MM-DD (included).")
    types: list[Kind] | None = Field(None, description="Kinds of asset to keep.")
    camera_model: str | None = Field(None, max_length=TEXT_MAX,
                                     description="Exact camera model.")
    lens: str | None = Field(None, max_length=TEXT_MAX, description="Exact lens.")
    rating: int | None = Field(None, ge=0, le=5,
                               description="Exactly this star rating (0 = unrated).")
    min_rating: int | None = Field(None, ge=1, le=5,
                                   description="At least this many stars.")
    liked: bool | None = Field(None, description="Liked (favourite) or not.")
    raw: bool | None = Field(None, description="RAW files or not.")
    album_id: Id | None = Field(None, description="In this album (lookup_albums).")
    person_id: Id | None = Field(None, description="Shows this person "
                                 "(lookup_people).")
    place: str | None = Field(None, max_length=TEXT_MAX, description="Taken at a "
                              "place with this name (town, region or country).")
    file_name: str | None = Field(None, max_length=TEXT_MAX,
                                  description="File name contains this text.")
    tag: str | None = Field(None, max_length=TEXT_MAX,
                            description="Has this label (for example 'dog').")
    within: str | None = Field(None, description=WITHIN)
    sort: Literal["newest", "oldest"] = "newest"


def _filter(ctx: Context, who: Principal, a: FilterArgs, inputs: dict) -> list[str]:
    filt: dict = {}
    if a.date_from or a.date_to:
        filt["date"] = {"from": a.date_from, "to": a.date_to or OPEN_END}
    if a.album_id is not None:
        albums.get_album(ctx, who, a.album_id)
    if a.person_id is not None:
        people.get_person(ctx, who, a.person_id)
    for name, value in (("types", a.types), ("camera_model", a.camera_model),
                        ("lens", a.lens), ("rating", a.rating), ("liked", a.liked),
                        ("raw", a.raw), ("album_id", a.album_id),
                        ("person_id", a.person_id), ("tag_name", a.tag)):
        if value is not None:
            filt[name] = value
    if a.file_name:
        filt["filename"] = {"value": a.file_name, "operator": "contains"}

    where = library.scope(who, filt)
    if a.min_rating is not None:
        where.add("COALESCE(a.rating, 0) >= ?", a.min_rating)
    _within(where, inputs)
    if a.place:
        if ctx.config.geocoder == "off":
            raise Unavailable("Place names are turned off on this server")
        library.restrict(where, locations.place_asset_ids(
            ctx, where, a.place, library.REF_CAP + 1))
    order = library.OLDEST_FIRST if a.sort == "oldest" else library.NEWEST_FIRST
    return library.ids_matching(ctx, where, order)


register(Tool(
    "filter_assets",
    "Find assets by exact conditions: dates, kinds, camera, rating, liked, album, "
    "person, place name, file name, label. All conditions must hold. Returns a ref.",
    FilterArgs, find=_filter, refs_in=("within",)))


# -- search_semantic and search_text ---------------------------------------------------


class SearchArgs(Args):
    query: str = Field(min_length=1, max_length=TEXT_MAX,
                       description="What to look for, in a few words.")
    within: str | None = Field(None, description=WITHIN)


def _semantic(ctx: Context, who: Principal, a: SearchArgs, inputs: dict) -> list[str]:
    where = library.scope(who)
    _within(where, inputs)
    hits = semantic.search(ctx, a.query, where.sql(), where.params,
                           limit=library.REF_CAP + 1)
    return [asset_id for asset_id, _ in hits]


def _text(ctx: Context, who: Principal, a: SearchArgs, inputs: dict) -> list[str]:
    where = library.scope(who)
    _within(where, inputs)
    ranked, _, _ = search.channels(ctx, where, a.query)
    return search.fuse(ranked)[0]


register(Tool(
    "search_semantic",
    "Find photos by what they show ('a dog on a beach', 'sunset'), best match "
    "first, with the image-understanding model. Returns a ref.",
    SearchArgs, find=_semantic, refs_in=("within",)))
register(Tool(
    "search_text",
    "The library's search: meaning, text read in photos, place names and file "
    "names together, best match first. Returns a ref.",
    SearchArgs, find=_text, refs_in=("within",)))


# -- search_people ---------------------------------------------------------------------


class PeopleArgs(Args):
    names: list[str] | None = Field(None, max_length=10,
                                    description="Names of people.")
    person_ids: list[Id] | None = Field(None, max_length=10,
                                        description="Ids from lookup_people.")
    match: Literal["any", "all"] = Field(
        "any", description="any: photos of at least one of them; all: together.")
    within: str | None = Field(None, description=WITHIN)


def _groups(ctx: Context, who: Principal, a: PeopleArgs) -> list[list[int]]:
    """The person ids meant, one group per name or id given."""
    groups = [[people.get_person(ctx, who, pid)["person_id"]]
              for pid in a.person_ids or []]
    if a.names:
        known = people.list_people(ctx, who, None, 1000, 0)["people"]
        for name in a.names:
            wanted = name.strip().lower()
            same = [p["person_id"] for p in known
                    if (p.get("name") or "").lower() == wanted]
            like = [p["person_id"] for p in known
                    if wanted and wanted in (p.get("name") or "").lower()]
            if not (same or like):
                raise ToolError(f"No person is named {name!r}; lookup_people lists "
                                "the people")
            groups.append(same or like)
    if not groups:
        raise ToolError("Give names or person_ids")
    return groups


def _people(ctx: Context, who: Principal, a: PeopleArgs, inputs: dict) -> list[str]:
    found: list[set[str]] = []
    for group in _groups(ctx, who, a):
        ids: set[str] = set()
        for person_id in group:
            where = library.scope(who, {"person_id": person_id})
            _within(where, inputs)
            ids.update(library.ids_matching(ctx, where))
        found.append(ids)
    chosen = set.union(*found) if a.match == "any" else set.intersection(*found)
    where = library.scope(who)
    library.restrict(where, sorted(chosen))
    return library.ids_matching(ctx, where)


register(Tool(
    "search_people",
    "Find photos of people by name or id: of any of them, or of all of them "
    "together. Returns a ref.",
    PeopleArgs, find=_people, refs_in=("within",)))

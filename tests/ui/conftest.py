"""Browser fixtures: headless Debian chromium, a real server, a static file server."""

from __future__ import annotations

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "static"
SHARED = Path(os.environ.get("LUMILIO_SHARED") or REPO.parent / "shared")
MEDIA = SHARED / "media"
PASSWORD = "Correct-Horse-9"

# A small library with something of each kind the timeline shows differently: a
# capture offset, a time without zone, GPS, a wide panorama, a video, a WebP and a
# file the pipeline cannot decode.
LIBRARY_FILES = [
    "jpeg/pixel_8.jpg",
    "jpeg/HMD_Nokia_8.3_5G.jpg",
    "heic/Stonehenge.heic",
    "jpeg/gps/DSCN0010.jpg",
    "jpeg/ladybug.jpg",
    "video/with-gps.mov",
    "png-webp-gif/norway.webp",
    "edge/corrupted.heic",
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def ui_browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def ui_page(ui_browser):
    """A fresh profile per test, so no token or cache leaks from one to the next."""
    context = ui_browser.new_context(viewport={"width": 1280, "height": 860},
                                     locale="en-GB", timezone_id="Europe/Berlin")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.script_errors = errors
    yield page
    context.close()


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    """Where tests leave screenshots for a person to look at; never the checkout."""
    folder = Path(os.environ.get("LUMILIO_UI_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def media_dir() -> Path:
    return MEDIA


@pytest.fixture
def small_library(tmp_path) -> Path:
    library = tmp_path / "library"
    library.mkdir()
    for relative in LIBRARY_FILES:
        shutil.copy2(MEDIA / relative, library / Path(relative).name)
    return library


@pytest.fixture
def ui_server(make_server, small_library):
    """`lumilio serve` on a free loopback port over the small library, not yet set up:
    the first account is for the test to create through the UI."""
    return make_server([small_library]).start(timeout=120)


@pytest.fixture
def signed_in(ui_server, ui_page):
    """The page after creating the first account through the UI, with the library
    imported; the server's client holds the same person's token."""
    from playwright.sync_api import expect

    ui_page.goto(ui_server.base)
    form = ui_page.get_by_test_id("first-account")
    expect(form).to_be_visible(timeout=20_000)
    ui_page.fill("#field-username", "alice")
    ui_page.fill("#field-password", PASSWORD)
    ui_page.fill("#field-confirm", PASSWORD)
    form.get_by_role("button", name="Create the first account").click()
    expect(ui_page.get_by_test_id("timeline-grid")).to_be_visible(timeout=20_000)

    ui_server.token = ui_page.evaluate("localStorage.getItem('lumilio.token')")
    assert ui_server.token, "signing up through the UI left no access token"
    ui_server.wait_idle(timeout=300)
    return ui_page


class _StaticHandler(SimpleHTTPRequestHandler):
    """The static folder as it is, plus an empty page to import modules from."""

    def do_GET(self) -> None:
        if self.path == "/blank.html":
            body = b"<!doctype html><title>modules</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="session")
def static_site():
    """The UI's files over plain HTTP on loopback, without any API behind them."""
    handler = functools.partial(_StaticHandler, directory=str(STATIC))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def modules_page(ui_page, static_site):
    """A page on the static site, ready for `import()` of the UI's modules."""
    ui_page.goto(f"{static_site}/blank.html")
    return ui_page

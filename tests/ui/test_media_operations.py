"""Media operations in the browser: a stack opened to its members, web video and
audio playback, and downloading or exporting a selection."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from timeline_grid import SWEEP_GRID, asset_named, listed_items, open_file

pytestmark = pytest.mark.browser

FILES = ["livephoto/train.jpg", "livephoto/train.mov", "video/quicktime-hvc1.mov",
         "audio/issue-337.m4a", "jpeg/ladybug.jpg", "jpeg/gps/DSCN0010.jpg"]


@pytest.fixture
def small_library(tmp_path, media_dir) -> Path:
    """Replaces the shared small library: a Live Photo pair, an HEVC clip that
    needs a web version, ALAC audio that needs an MP3, and two photos."""
    library = tmp_path / "library"
    library.mkdir()
    for relative in FILES:
        shutil.copy2(media_dir / relative, library / Path(relative).name)
    return library


def playable(page, selector: str) -> dict:
    element = page.locator("[data-testid=viewer]:visible").locator(selector)
    expect(element).to_be_visible()
    for _ in range(60):
        if element.evaluate("m => m.readyState >= 1 || m.error !== null"):
            break
        page.wait_for_timeout(500)
    return element.evaluate("m => ({src: m.currentSrc, width: m.videoWidth,"
                            " height: m.videoHeight, duration: m.duration,"
                            " error: m.error && m.error.code})")


def test_stacks_open_to_their_members_and_media_plays_from_web_versions(
        ui_server, signed_in, screenshot_dir):
    page = signed_in
    items = listed_items(ui_server)
    stack = next(i for i in items if i["type"] == "stack")
    assert stack["stack"]["stack_kind"] == "live_photo"

    open_file(page, "train.jpg", items)
    viewer = page.locator("[data-testid=viewer]:visible")
    strip = viewer.get_by_test_id("stack-strip")
    expect(strip).to_contain_text("Live Photo · 2 items")
    members = strip.get_by_test_id("stack-member")
    expect(members).to_have_count(2)
    expect(members.nth(1)).to_contain_text("Motion")

    members.nth(1).click()
    expect(viewer.locator(".viewer-title")).to_have_text("train.mov")
    facts = playable(page, "[data-testid=viewer-video]")
    assert "/video/web" in facts["src"] and facts["error"] is None
    expect(members.nth(1)).to_have_attribute("aria-current", "true")
    page.screenshot(path=str(screenshot_dir / "stack-members.png"))
    viewer.get_by_test_id("viewer-close").click()

    open_file(page, "quicktime-hvc1.mov", items)
    video = playable(page, "[data-testid=viewer-video]")
    # HEVC turned 90 degrees on an iPad: the web version is upright H.264.
    assert "/video/web" in video["src"] and video["error"] is None
    assert (video["width"], video["height"]) == (720, 1280)
    viewer.get_by_test_id("viewer-close").click()

    open_file(page, "issue-337.m4a", items)
    audio = playable(page, "[data-testid=viewer-audio]")
    assert "/audio/web" in audio["src"] and audio["error"] is None
    assert audio["duration"] == pytest.approx(11.3, abs=0.3)
    assert page.script_errors == []


def select_tiles(page, items: list[dict], names: list[str]) -> None:
    page.get_by_test_id("select-button").click()
    for name in names:
        asset = asset_named(items, name)
        page.evaluate(SWEEP_GRID, asset["asset_id"])
        page.locator(f'.tile[data-asset-id="{asset["asset_id"]}"]').click()


def test_a_selection_downloads_as_a_zip_or_exports(ui_server, signed_in,
                                                  tmp_path, screenshot_dir):
    page = signed_in
    items = listed_items(ui_server)
    select_tiles(page, items, ["ladybug.jpg", "train.jpg"])
    expect(page.get_by_test_id("selection-count")).to_have_text("2 items selected")
    expect(page.locator(".tile.is-selected")).to_have_count(2)
    expect(page.locator("[data-testid=viewer]:visible")).to_be_hidden()
    page.screenshot(path=str(screenshot_dir / "selection.png"))

    with page.expect_download() as wait:
        page.get_by_test_id("selection-download").click()
    download = wait.value
    assert download.suggested_filename.startswith("lumilio-assets-")
    target = tmp_path / "selection.zip"
    download.save_as(target)
    # The Live Photo tile stands for both of its files.
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["ladybug.jpg", "train.jpg", "train.mov"]

    page.keyboard.press("Escape")
    expect(page.get_by_test_id("selection-bar")).to_be_hidden()
    expect(page.locator(".tile.is-selected")).to_have_count(0)

    select_tiles(page, items, ["DSCN0010.jpg"])

    page.get_by_test_id("selection-export").click()
    dialog = page.get_by_test_id("export-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#export-format").select_option("png")
    dialog.locator("#export-size").select_option("1024")
    page.screenshot(path=str(screenshot_dir / "export-dialog.png"))
    with page.expect_download() as wait:
        dialog.get_by_role("button", name="Export").click()
    download = wait.value
    assert download.suggested_filename == "DSCN0010.png"
    target = tmp_path / "export.png"
    download.save_as(target)
    with Image.open(io.BytesIO(target.read_bytes())) as image:
        assert image.format == "PNG" and image.size == (640, 480)
        assert not image.getexif().get_ifd(0x8825)  # no location unless asked
    expect(page.locator(".selection-status")).to_have_text("Exported.")
    assert page.script_errors == []


def test_download_names_are_read_from_the_answer(modules_page):
    names = modules_page.evaluate("""async () => {
      const { filenameOf } = await import("/js/transfers.js");
      return [
        filenameOf("attachment; filename=\\"a.zip\\"; "
          + "filename*=UTF-8''%C3%A9t%C3%A9.png"),
        filenameOf('attachment; filename="plain.jpg"'),
        filenameOf("attachment; filename*=UTF-8''%E0%A4%A"),
        filenameOf(null),
      ];
    }""")
    assert names == ["été.png", "plain.jpg", None, None]

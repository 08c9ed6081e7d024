"""Recognition in the browser: searching by words, the text of a photo in the viewer,
people pages, the recognition settings page.

The person is made of the astronaut portrait and three variants the test derives
from it (a crop, a mirror image, a brighter copy): the media has one photo of her.
"""

from __future__ import annotations

import shutil

import pytest
from navigation import open_section
from PIL import Image, ImageEnhance, ImageOps
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ML_ON = {"LUMILIO_ML_SEMANTIC": "true", "LUMILIO_ML_OCR": "true",
         "LUMILIO_ML_FACES": "true"}


@pytest.fixture
def small_library(tmp_path, media_dir):
    library = tmp_path / "library"
    library.mkdir()
    for name in ("chelsea.png", "coffee.png", "page.png", "astronaut.png"):
        shutil.copy2(media_dir / "ml" / name, library / name)
    portrait = Image.open(media_dir / "ml" / "astronaut.png").convert("RGB")
    portrait.crop((60, 0, 452, 420)).save(library / "astronaut-crop.jpg")
    ImageOps.mirror(portrait).save(library / "astronaut-mirror.jpg")
    ImageEnhance.Brightness(portrait).enhance(1.3).save(
        library / "astronaut-bright.jpg")
    return library


@pytest.fixture
def ui_server(make_server, small_library):
    return make_server([small_library], **ML_ON).start(timeout=120)


def test_search_viewer_text_people_and_settings(ui_server, signed_in,
                                                screenshot_dir):
    page = signed_in

    # Words in the top bar find the photo by what it shows.
    page.get_by_test_id("search-box").fill("a cat")
    page.get_by_test_id("search-box").press("Enter")
    results = page.get_by_test_id("search-results")
    expect(results.get_by_test_id("grid-item").first).to_be_visible(timeout=20_000)
    expect(results.locator(".grid-tile").first).to_have_attribute(
        "aria-label", "chelsea.png")
    page.screenshot(path=str(screenshot_dir / "search.png"))

    # The text read in a photo shows in the viewer.
    page.get_by_test_id("search-page-input").fill("segmentation")
    page.get_by_test_id("search-page-input").press("Enter")
    tile = results.locator('.grid-tile[aria-label="page.png"]')
    expect(tile).to_be_visible(timeout=20_000)
    tile.click()
    viewer = page.get_by_test_id("search-results-viewer")
    expect(viewer.get_by_test_id("viewer-ocr")).to_contain_text(
        "Region-based segmentation", timeout=20_000)
    page.screenshot(path=str(screenshot_dir / "viewer-text.png"))
    page.keyboard.press("Escape")

    # People: grouped, opened, named.
    assert ui_server.post("/people/rebuild").json()["clusters_total"] == 1
    page.get_by_test_id("nav-people").click()
    card = page.get_by_test_id("person-card")
    expect(card).to_have_count(1, timeout=20_000)
    expect(card).to_contain_text("4 photos")
    card.locator("a").click()
    expect(page.get_by_test_id("person-assets").get_by_test_id(
        "grid-item")).to_have_count(4, timeout=20_000)
    page.get_by_test_id("person-name-input").fill("Eileen")
    page.get_by_test_id("person-name-input").press("Enter")
    expect(page.get_by_test_id("person-name")).to_have_text("Eileen")
    person = ui_server.get("/people").json()["people"][0]
    assert person["name"] == "Eileen" and person["is_confirmed"] is True
    page.screenshot(path=str(screenshot_dir / "person.png"))

    # The administrator's recognition page: tasks, progress, the model in use.
    open_section(page, "recognition")
    expect(page.get_by_test_id("task-semantic")).to_contain_text("7 of 7 photos",
                                                                  timeout=20_000)
    expect(page.get_by_test_id("recognition-models")).to_contain_text("in use")
    page.get_by_test_id("toggle-ocr").uncheck()
    expect(page.get_by_test_id("toggle-ocr")).not_to_be_checked()
    ml = ui_server.get("/settings/system").json()["ml"]
    assert ml["ocr_enabled"] is False and ml["semantic_enabled"] is True
    page.screenshot(path=str(screenshot_dir / "recognition.png"))
    assert page.script_errors == []

"""The Duplicates review and the offline Map, in the browser, over the small library
with one photo copied under another name."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_review_and_merge_a_copy(ui_server, signed_in, small_library,
                                 screenshot_dir):
    page = signed_in
    shutil.copy2(small_library / "ladybug.jpg", small_library / "ladybug (copy).jpg")
    # The watcher imports the copy once it has settled.
    expect(page.get_by_test_id("library-count")).not_to_have_text(
        page.get_by_test_id("library-count").inner_text(), timeout=30_000)
    ui_server.wait_idle(timeout=300)

    page.goto(f"{ui_server.base}/#/duplicates")
    page.get_by_test_id("find-duplicates").click()
    group = page.get_by_test_id("duplicate-group")
    expect(group).to_have_count(1, timeout=20_000)
    expect(group).to_contain_text("Same file")
    expect(group).to_contain_text("ladybug (copy).jpg")
    expect(page.get_by_test_id("duplicate-summary")).to_contain_text("1 group")
    page.screenshot(path=str(screenshot_dir / "duplicates.png"), full_page=True)

    group.get_by_test_id("merge-group").click()
    expect(group).to_contain_text("1 file moved to the trash")
    expect(page.get_by_test_id("duplicate-summary")).to_contain_text(
        "No duplicates waiting")
    trashed = ui_server.assets(is_deleted=True)
    assert len(trashed) == 1 and trashed[0]["original_filename"].startswith("ladybug")
    assert page.script_errors == []


def test_map_shows_places_offline(ui_server, signed_in, screenshot_dir):
    page = signed_in
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(ui_server.base) else None)

    page.goto(f"{ui_server.base}/#/map")
    # Stonehenge, Arezzo, the Nokia's Helsinki and the ladybug's Ennepetal.
    expect(page.get_by_test_id("places-message")).to_have_text(
        "4 photos in 4 places", timeout=20_000)
    expect(page.locator(".places-country").first).to_be_attached()
    page.screenshot(path=str(screenshot_dir / "map.png"))

    page.get_by_title("Arezzo, Tuscany, Italy").click()
    photos = page.get_by_test_id("place-photos").locator("img")
    expect(photos).to_have_count(1)
    expect(photos.first).to_have_attribute("alt", "DSCN0010.jpg")
    page.screenshot(path=str(screenshot_dir / "map-place.png"))
    assert outside == [] and page.script_errors == []

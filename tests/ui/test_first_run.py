"""A person's first visit: create the first account, browse the timeline, open a
photo and read its metadata, against a real server over a small real library."""

from __future__ import annotations

import re

import pytest
from timeline_grid import listed_items, open_file, sweep_until
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def check_badges(seen: dict, items: list[dict]) -> None:
    for item in items:
        asset = item["asset"]
        tile = seen[asset["asset_id"]]
        if asset["type"] == "VIDEO":
            assert tile["duration"], asset["original_filename"]
        state = (asset.get("processing") or {}).get("state")
        expected = f"tile-{state}" if state in ("failed", "warning") else None
        assert tile["mark"] == expected, asset["original_filename"]


def test_first_account_browses_the_library(ui_server, signed_in, screenshot_dir):
    page = signed_in

    # The import ran in the background; the timeline followed it by itself.
    items = listed_items(ui_server)
    assert items, "the server listed nothing after importing the library"
    wanted = {item["asset"]["asset_id"] for item in items}
    seen = sweep_until(page, wanted)
    assert set(seen) == wanted
    check_badges(seen, items)
    page.wait_for_timeout(1_500)
    page.screenshot(path=str(screenshot_dir / "timeline.png"))

    # Taken one hour ahead of UTC: the wall clock of that place, with the offset.
    open_file(page, "pixel_8.jpg", items)
    viewer = page.locator("[data-testid=viewer]:visible")
    facts = viewer.get_by_test_id("viewer-metadata")
    expect(viewer).to_be_visible()
    expect(facts.locator("[data-field=file] dd")).to_have_text("pixel_8.jpg")
    expect(facts.locator("[data-field=taken] dd")).to_contain_text("15:11:17")
    expect(facts.locator("[data-field=taken] dd")).to_contain_text("UTC+01:00")
    expect(facts.locator("[data-field=camera] dd")).to_contain_text("Pixel 8 Pro")
    expect(facts.locator("[data-field=dimensions] dd")).to_contain_text("3072 × 4080")
    image = viewer.get_by_test_id("viewer-image")
    expect(image).to_have_class(re.compile(r"\bis-loaded\b"), timeout=20_000)
    page.screenshot(path=str(screenshot_dir / "viewer.png"))

    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    # Written without a zone: shown exactly as the camera wrote it, no offset.
    open_file(page, "Stonehenge.heic", items)
    taken = facts.locator("[data-field=taken] dd")
    expect(taken).to_contain_text("15:38:54")
    expect(taken).not_to_contain_text("UTC")
    expect(facts.locator("[data-field=place] dd")).to_have_text(
        "51.17828° N, 1.82664° W")

    # The arrow keys walk the timeline, Esc goes back to it.
    before = facts.locator("[data-field=file] dd").inner_text()
    forward = page.locator("[data-testid=viewer-next]:visible").is_enabled()
    page.keyboard.press("ArrowRight" if forward else "ArrowLeft")
    expect(facts.locator("[data-field=file] dd")).not_to_have_text(before)
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    assert page.script_errors == []


def test_a_video_plays_from_its_original(ui_server, signed_in):
    page = signed_in
    items = listed_items(ui_server)
    sweep_until(page, {item["asset"]["asset_id"] for item in items})

    open_file(page, "with-gps.mov", items)
    video = page.locator("[data-testid=viewer-video]:visible")
    expect(video).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=viewer-video]').readyState >= 2",
        timeout=20_000)
    facts = page.locator("[data-testid=viewer-metadata]:visible")
    expect(facts.locator("[data-field=duration] dd")).to_have_text("0:04")
    expect(facts.locator("[data-field=taken] dd")).to_contain_text("UTC+03:00")

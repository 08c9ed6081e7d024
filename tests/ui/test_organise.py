"""Organising in the browser: the heart and stars in the viewer, albums made from
the viewer and from a selection, reordered and trimmed on the Albums page, the
Favourites and Trash pages, and the Statistics page's charts."""

from __future__ import annotations

import pytest
from navigation import open_section
from playwright.sync_api import expect
from timeline_grid import SWEEP_GRID, asset_named, listed_items, open_file

pytestmark = pytest.mark.browser


def asset(server, asset_id: str) -> dict:
    res = server.get(f"/assets/{asset_id}")
    assert res.status_code == 200, res.text
    return res.json()


def album_order(server, album_id: int) -> list[str]:
    body = server.get(f"/albums/{album_id}/assets").json()
    return [a["original_filename"] for a in body["assets"]]


def test_favourite_stars_and_albums(ui_server, signed_in, screenshot_dir):
    page = signed_in
    items = listed_items(ui_server)
    ladybug = asset_named(items, "ladybug.jpg")["asset_id"]

    # The heart and the stars in the viewer are saved at once.
    open_file(page, "ladybug.jpg", items)
    viewer = page.get_by_test_id("viewer")
    viewer.get_by_test_id("like-button").click()
    expect(viewer.get_by_test_id("like-button")).to_have_attribute("aria-pressed",
                                                                   "true")
    viewer.get_by_test_id("star-4").click()
    expect(viewer.get_by_test_id("star-4")).to_have_attribute("aria-pressed", "true")
    expect(viewer.get_by_test_id("star-5")).to_have_attribute("aria-pressed", "false")
    saved = asset(ui_server, ladybug)
    assert saved["liked"] is True and saved["rating"] == 4

    # A new album from the viewer.
    viewer.get_by_test_id("viewer-add-to-album").click()
    dialog = page.get_by_test_id("album-dialog")
    dialog.locator("#new-album-name").fill("Summer")
    dialog.get_by_role("button", name="Add").click()
    expect(viewer).to_contain_text("Added to Summer.")
    page.screenshot(path=str(screenshot_dir / "viewer-organise.png"))
    viewer.get_by_test_id("viewer-close").click()
    tile = page.locator(f'.tile[data-asset-id="{ladybug}"]')
    expect(tile.get_by_test_id("tile-liked")).to_be_visible()

    # Two more from a selection, into the same album.
    page.get_by_test_id("select-button").click()
    for name in ["pixel_8.jpg", "DSCN0010.jpg"]:
        target = asset_named(items, name)["asset_id"]
        page.evaluate(SWEEP_GRID, target)
        page.locator(f'.tile[data-asset-id="{target}"]').click()
    page.get_by_test_id("selection-album").click()
    dialog = page.get_by_test_id("album-dialog")
    expect(dialog.get_by_label("Summer")).to_be_checked()
    dialog.get_by_role("button", name="Add").click()
    expect(page.locator(".selection-status")).to_have_text("Added to Summer.")
    page.get_by_role("button", name="Done").click()

    album = ui_server.get("/albums").json()["albums"][0]
    assert album["album_name"] == "Summer" and album["asset_count"] == 3
    assert album_order(ui_server, album["album_id"]) == [
        "ladybug.jpg", "pixel_8.jpg", "DSCN0010.jpg"]

    # The Albums page: open it, move the last photo first, take one out.
    page.get_by_test_id("nav-albums").click()
    card = page.get_by_test_id("album-card")
    expect(card).to_contain_text("Summer")
    expect(card).to_contain_text("3 items")
    card.click()
    expect(page.get_by_test_id("album-title")).to_have_text("Summer")
    grid = page.get_by_test_id("album-items")
    expect(grid.get_by_test_id("grid-item")).to_have_count(3)
    page.get_by_role("button", name="Move DSCN0010.jpg earlier").click()
    expect(page.get_by_role("button", name="Move DSCN0010.jpg earlier")).to_be_focused()
    page.get_by_role("button", name="Move DSCN0010.jpg earlier").click()
    expect(grid.get_by_test_id("grid-item").first).to_have_attribute(
        "data-asset-id", asset_named(items, "DSCN0010.jpg")["asset_id"])
    assert album_order(ui_server, album["album_id"]) == [
        "DSCN0010.jpg", "ladybug.jpg", "pixel_8.jpg"]
    page.screenshot(path=str(screenshot_dir / "album.png"))

    page.get_by_role("button", name="Remove pixel_8.jpg from the album").click()
    expect(grid.get_by_test_id("grid-item")).to_have_count(2)
    assert album_order(ui_server, album["album_id"]) == ["DSCN0010.jpg",
                                                          "ladybug.jpg"]

    # Opening a photo of the album shows it in a viewer of the album's own.
    grid.locator(".grid-tile").first.click()
    album_viewer = page.get_by_test_id("album-items-viewer")
    expect(album_viewer.locator(".viewer-title")).to_have_text("DSCN0010.jpg")
    album_viewer.get_by_test_id("viewer-next").click()
    expect(album_viewer.locator(".viewer-title")).to_have_text("ladybug.jpg")
    page.keyboard.press("Escape")
    expect(album_viewer).to_be_hidden()

    # Favourites lists the liked photo.
    open_section(page, "favourites")
    favourites = page.get_by_test_id("favourite-items").get_by_test_id("grid-item")
    expect(favourites).to_have_count(1)
    expect(favourites).to_have_attribute("data-asset-id", ladybug)
    assert page.script_errors == []


def test_trash_restores_and_statistics_draw(ui_server, signed_in, screenshot_dir):
    page = signed_in
    items = listed_items(ui_server)
    norway = asset_named(items, "norway.webp")["asset_id"]
    assert ui_server.request("DELETE", f"/assets/{norway}").status_code == 200

    open_section(page, "trash")
    trash = page.get_by_test_id("trash-items").get_by_test_id("grid-item")
    expect(trash).to_have_count(1)
    expect(trash).to_have_attribute("data-asset-id", norway)
    page.screenshot(path=str(screenshot_dir / "trash.png"))
    page.get_by_test_id("restore-button").click()
    expect(page.get_by_test_id("trash")).to_contain_text("The trash is empty.")
    assert asset(ui_server, norway)["is_deleted"] is False

    open_section(page, "stats")
    years = ui_server.get("/stats/available-years").json()["years"]
    year_select = page.get_by_test_id("stats-year")
    expect(year_select.locator("option")).to_have_count(len(years))
    expect(year_select).to_have_value(str(years[0]))
    heatmap = page.get_by_test_id("stats-heatmap")
    days = heatmap.locator("rect.heat")
    expect(days.first).to_be_attached()
    assert days.count() in (365, 366)
    busy = heatmap.locator("rect.heat:not(.heat-0)")
    expect(busy.first).to_be_attached()
    expect(page.get_by_test_id("stats-hours").locator("rect.chart-bar")).to_have_count(
        24)
    expect(page.get_by_test_id("stats-months").locator("rect.chart-bar").first
           ).to_be_attached()
    expect(page.get_by_test_id("stats-focal").locator("rect.chart-bar").first
           ).to_be_attached()

    # Another year redraws the calendar with that year's days.
    if len(years) > 1:
        year_select.select_option(str(years[-1]))
        expect(heatmap.locator(f'rect[data-date="{years[-1]}-01-01"]')).to_be_attached()
    page.screenshot(path=str(screenshot_dir / "statistics.png"), full_page=True)
    assert page.script_errors == []

"""Bringing more photos in from the browser: a folder registered in place, and an
upload, each ending up on the timeline without a reload."""

from __future__ import annotations

import base64
import shutil

import pytest
from navigation import open_section
from playwright.sync_api import expect
from timeline_grid import asset_named, listed_items, sweep_until

pytestmark = pytest.mark.browser


def test_a_folder_added_in_place_is_scanned_onto_the_timeline(
        ui_server, signed_in, media_dir, tmp_path, screenshot_dir):
    page = signed_in
    folder = tmp_path / "Holidays"
    folder.mkdir()
    shutil.copy2(media_dir / "jpeg/gps/DSCN0021.jpg", folder)
    before = (folder / "DSCN0021.jpg").read_bytes()

    open_section(page, "folders")
    page.fill("#folder-path", str(folder))
    expect(page.locator("#folder-name")).to_have_value("Holidays")
    page.get_by_role("button", name="Add folder").click()

    card = page.locator(".repo", has=page.get_by_text(str(folder), exact=True))
    expect(card.get_by_test_id("scan-status")).to_contain_text("1 new", timeout=60_000)
    expect(page.get_by_test_id("add-folder").locator(".form-error")).to_be_hidden()
    page.screenshot(path=str(screenshot_dir / "folders.png"), full_page=True)

    ui_server.wait_idle(timeout=120)
    assert (folder / "DSCN0021.jpg").read_bytes() == before
    page.get_by_test_id("nav-timeline").click()
    added = asset_named(listed_items(ui_server), "DSCN0021.jpg")
    wanted = {item["asset"]["asset_id"] for item in listed_items(ui_server)}
    assert added["asset_id"] in sweep_until(page, wanted)


def test_an_uploaded_file_appears_on_the_timeline(ui_server, signed_in, media_dir):
    page = signed_in

    page.set_input_files("#upload-input", str(media_dir / "jpeg/Canon_40D.jpg"))
    row = page.get_by_test_id("upload-row")
    expect(row).to_contain_text("Canon_40D.jpg")
    expect(row.locator(".upload-status")).to_have_text(
        "Uploaded, now being processed", timeout=30_000)
    expect(page.get_by_test_id("uploads").locator(".uploads-title")).to_have_text(
        "1 file uploaded")

    ui_server.wait_idle(timeout=120)
    items = listed_items(ui_server)
    added = asset_named(items, "Canon_40D.jpg")
    seen = sweep_until(page, {item["asset"]["asset_id"] for item in items})
    assert added["asset_id"] in seen


def test_a_rejected_upload_says_why(ui_server, signed_in, tmp_path):
    page = signed_in
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")

    page.set_input_files("#upload-input", str(notes))

    status = page.get_by_test_id("upload-row").locator(".upload-status")
    expect(status).to_contain_text("Failed: ", timeout=30_000)
    assert len(status.inner_text()) > len("Failed: ")


DROP_FILE = """async ([name, type, encoded]) => {
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const options = { dataTransfer: transfer, bubbles: true, cancelable: true };
  document.body.dispatchEvent(new DragEvent("dragenter", options));
  const shown = !document.querySelector("#drop-overlay").hidden;
  document.body.dispatchEvent(new DragEvent("drop", options));
  return shown;
}"""


def test_a_file_dropped_on_the_page_is_uploaded(ui_server, signed_in, media_dir):
    page = signed_in
    encoded = base64.b64encode((media_dir / "jpeg/ladybug.jpg").read_bytes()).decode()

    overlay_shown = page.evaluate(DROP_FILE, ["dropped.jpg", "image/jpeg", encoded])

    assert overlay_shown
    expect(page.locator("#drop-overlay")).to_be_hidden()
    row = page.get_by_test_id("upload-row")
    expect(row).to_contain_text("dropped.jpg")
    expect(row.locator(".upload-status")).to_have_text(
        "Uploaded, now being processed", timeout=30_000)

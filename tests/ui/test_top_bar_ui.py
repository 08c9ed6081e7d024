"""The top bar: everyday sections as links, the rest behind "More", on a laptop
and on a phone, and what a plain user is told about the administrators' pages."""

from __future__ import annotations

import pytest
from navigation import open_section
from playwright.sync_api import expect
from serverkit import PASSWORD

pytestmark = pytest.mark.browser

LINKS = ["nav-timeline", "nav-albums", "nav-people", "nav-map", "nav-assistant"]
BAR_PARTS = [*LINKS, "nav-more", "search-box", "select-button", "upload-button"]

# Where each visible child of the bar starts and ends, and how much room the
# search field's placeholder needs against what the field offers.
MEASURE_BAR = """() => {
  const bar = document.querySelector(".topbar");
  const boxes = [...bar.children].map((child) => child.getBoundingClientRect())
    .filter((box) => box.width > 0).sort((a, b) => a.top - b.top);
  // A box that starts below everything so far begins a new row.
  let rows = 0;
  let bottom = -Infinity;
  for (const box of boxes) {
    if (box.top >= bottom - 1) rows += 1;
    bottom = Math.max(bottom, box.bottom);
  }
  const input = document.querySelector("#search-box input");
  const style = getComputedStyle(input);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontSize} ${style.fontFamily}`;
  const room = input.clientWidth - parseFloat(style.paddingLeft)
    - parseFloat(style.paddingRight);
  const nav = document.querySelector(".nav");
  return {
    rows,
    navScrolls: nav.scrollWidth > nav.clientWidth,
    placeholderFits: context.measureText(input.placeholder).width <= room,
  };
}"""


def inside_window(page, test_id: str) -> bool:
    box = page.get_by_test_id(test_id).bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def sign_in(page, base: str, username: str) -> None:
    page.goto(base)
    form = page.get_by_test_id("sign-in")
    expect(form).to_be_visible(timeout=20_000)
    page.fill("#field-username", username)
    page.fill("#field-password", PASSWORD)
    form.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("timeline")).to_be_visible(timeout=20_000)


def test_a_laptop_window_shows_every_part_of_the_bar(signed_in, screenshot_dir):
    page = signed_in

    for test_id in [*BAR_PARTS, "user-name"]:
        expect(page.get_by_test_id(test_id)).to_be_visible()
        assert inside_window(page, test_id), test_id
    sign_out = page.locator("#sign-out").bounding_box()
    assert sign_out["x"] + sign_out["width"] <= 1280
    bar = page.evaluate(MEASURE_BAR)
    page.screenshot(path=str(screenshot_dir / "top-bar-laptop.png"))
    assert bar == {"rows": 1, "navScrolls": False, "placeholderFits": True}
    assert page.script_errors == []


def test_the_more_list_opens_closes_and_names_the_current_section(signed_in):
    page = signed_in
    more = page.get_by_test_id("nav-more")
    cloud = page.get_by_test_id("nav-cloud")

    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(cloud).to_be_hidden()
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(more).to_be_focused()

    # Keyboard only: Enter opens the list, Tab walks into it, Enter chooses.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("nav-favourites")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("favourites")).to_be_visible()
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_test_id("nav-more-current")).to_have_text("Favourites")

    open_section(page, "cloud")
    expect(page.get_by_test_id("cloud")).to_be_visible()
    expect(cloud).to_be_hidden()
    expect(page.get_by_test_id("nav-more-current")).to_have_text("Cloud")
    expect(cloud).to_have_attribute("aria-current", "page")

    page.get_by_test_id("nav-map").click()
    expect(page.get_by_test_id("nav-more-current")).to_be_hidden()
    expect(page.get_by_test_id("nav-map")).to_have_attribute("aria-current", "page")
    assert page.script_errors == []


def test_a_phone_gets_two_rows_and_keeps_the_user_name(signed_in, screenshot_dir):
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "top-bar-phone.png"))

    for test_id in BAR_PARTS:
        assert inside_window(page, test_id), test_id
    bar = page.evaluate(MEASURE_BAR)
    assert bar["rows"] == 2 and not bar["navScrolls"]

    page.get_by_test_id("nav-more").click()
    expect(page.get_by_test_id("nav-more-user")).to_have_text("Signed in as alice")
    assert inside_window(page, "nav-account")
    assert page.script_errors == []


@pytest.fixture
def empty_server(make_server, tmp_path):
    """An administrator with an empty folder and a plain user, bob, so bob's
    timeline shows what to do first."""
    library = tmp_path / "empty"
    library.mkdir()
    server = make_server([library]).start(timeout=120)
    server.sign_up("alice")
    server.register("bob")
    return server


def test_a_plain_user_is_told_what_only_administrators_do(empty_server, ui_page):
    page = ui_page
    sign_in(page, empty_server.base, "bob")

    message = page.get_by_test_id("timeline").get_by_text("Your library is empty")
    expect(message).to_contain_text("ask an administrator to add a folder")
    expect(message).not_to_contain_text("Folders page")

    page.get_by_test_id("nav-more").click()
    expect(page.get_by_test_id("nav-account")).to_be_visible()
    expect(page.get_by_test_id("nav-folders")).to_be_hidden()

    page.goto(empty_server.base + "/#/folders")
    notice = page.get_by_test_id("admin-only")
    expect(notice).to_contain_text("Only an administrator can add or remove")
    expect(page.get_by_test_id("folders")).to_be_hidden()
    notice.get_by_role("link", name="Back to the Timeline").click()
    expect(page.get_by_test_id("timeline")).to_be_visible()
    expect(notice).to_be_hidden()
    assert page.script_errors == []

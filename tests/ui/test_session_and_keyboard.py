"""Staying signed in across a dead access token, signing out, and using the library
with the keyboard alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_dead_access_token_is_renewed_without_asking(ui_server, signed_in):
    page = signed_in
    refresh_before = page.evaluate("localStorage.getItem('lumilio.refreshToken')")

    page.evaluate("localStorage.setItem('lumilio.token', 'no-longer-valid')")
    page.reload()

    expect(page.get_by_test_id("timeline-grid")).to_be_visible(timeout=20_000)
    expect(page.locator(".tile").first).to_be_visible(timeout=20_000)
    assert page.evaluate("localStorage.getItem('lumilio.token')") != "no-longer-valid"
    refresh_after = page.evaluate("localStorage.getItem('lumilio.refreshToken')")
    assert refresh_after and refresh_after != refresh_before
    assert page.script_errors == []


def test_signing_out_leads_back_to_the_sign_in_form(ui_server, signed_in):
    page = signed_in
    refresh = page.evaluate("localStorage.getItem('lumilio.refreshToken')")

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_test_id("sign-in")).to_be_visible(timeout=20_000)
    assert page.evaluate("localStorage.getItem('lumilio.token')") is None
    # The server forgot the refresh token too: it cannot be used again.
    answer = ui_server.post("/auth/refresh", {"refreshToken": refresh}, token=None)
    assert answer.status_code == 401


def test_a_wrong_password_is_explained(ui_server, signed_in):
    page = signed_in
    page.get_by_role("button", name="Sign out").click()
    form = page.get_by_test_id("sign-in")

    page.fill("#field-username", "alice")
    page.fill("#field-password", "Not-The-Password-1")
    form.get_by_role("button", name="Sign in").click()

    error = form.locator(".form-error")
    expect(error).to_be_visible()
    assert error.inner_text().strip()
    expect(page.get_by_test_id("timeline")).to_be_hidden()


def test_the_library_works_from_the_keyboard(ui_server, signed_in):
    page = signed_in
    expect(page.locator(".tile").first).to_be_visible(timeout=20_000)

    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('tile')"):
            break
    else:
        pytest.fail("Tab never reached a tile of the timeline")
    first = page.evaluate("document.activeElement.dataset.assetId")

    page.keyboard.press("Enter")
    viewer = page.locator("[data-testid=viewer]:visible")
    expect(viewer).to_be_visible()
    assert page.evaluate("document.activeElement.closest('.viewer') !== null")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Escape")

    expect(viewer).to_be_hidden()
    focused = page.evaluate("document.activeElement.dataset.assetId ?? null")
    assert focused and focused != first

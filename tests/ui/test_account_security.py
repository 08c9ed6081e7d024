"""The account page in a browser: two-step verification with an authenticator app,
passkeys through Chromium's virtual authenticator, a password change, the MFA step
and passkey sign-in, and the administrator's user list."""

from __future__ import annotations

import time

import pyotp
import pytest
from navigation import open_section
from playwright.sync_api import expect
from serverkit import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Fresh-Battery-77"


@pytest.fixture
def site(make_server, ui_page):
    server = make_server().start(timeout=120)
    server.sign_up("alice")
    server.post("/auth/register/start", {"username": "bob", "password": PASSWORD},
                token=None)
    # Passkeys belong to the relying party "localhost", so the page is opened there.
    return server, f"http://localhost:{server.port}"


def add_virtual_authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})


def sign_in_with_password(page, password: str) -> None:
    form = page.get_by_test_id("sign-in")
    expect(form).to_be_visible(timeout=20_000)
    page.fill("#field-username", "alice")
    page.fill("#field-password", password)
    form.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page) -> None:
    page.click("#sign-out")
    expect(page.get_by_test_id("sign-in")).to_be_visible(timeout=20_000)


def test_account_security_in_the_browser(site, ui_page, screenshot_dir):
    server, base = site
    page = ui_page
    add_virtual_authenticator(page)
    page.goto(base)
    sign_in_with_password(page, PASSWORD)
    expect(page.get_by_test_id("timeline")).to_be_visible(timeout=20_000)

    open_section(page, "account")
    account = page.get_by_test_id("account")
    expect(account).to_be_visible()

    # An authenticator app: the secret and its link are shown, a code turns it on.
    account.get_by_test_id("totp-start").click()
    secret = account.get_by_test_id("totp-secret").inner_text()
    assert account.get_by_test_id("totp-uri").get_attribute("href").startswith(
        "otpauth://totp/")
    enable_step = int(time.time() // 30)
    form = account.get_by_test_id("totp-enable-form")
    form.locator("input[name=code]").fill(pyotp.TOTP(secret).at(enable_step * 30))
    form.get_by_role("button", name="Turn on").click()
    codes = account.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    expect(account.get_by_test_id("totp-on")).to_contain_text("10 recovery codes")

    # A passkey from the virtual authenticator.
    form = account.get_by_test_id("passkey-add-form")
    form.locator("input[name=label]").fill("Test key")
    form.get_by_role("button", name="Add a passkey").click()
    expect(account.get_by_test_id("passkey-row")).to_have_count(1)
    expect(account.get_by_test_id("passkey-row")).to_contain_text("Test key")
    page.screenshot(path=str(screenshot_dir / "account.png"), full_page=True)

    form = account.get_by_test_id("password-form")
    form.locator("input[name=current_password]").fill(PASSWORD)
    form.locator("input[name=new_password]").fill(NEW_PASSWORD)
    form.locator("input[name=confirm]").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(form.locator(".form-status")).to_contain_text("Password changed")

    # Signing in with the passkey needs neither password nor code.
    sign_out(page)
    page.get_by_role("button", name="Use a passkey instead").click()
    passkey_form = page.get_by_test_id("passkey-sign-in")
    passkey_form.locator("#field-username").fill("alice")
    passkey_form.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("user-name")).to_have_text("alice", timeout=20_000)

    # With the password, the authenticator app's code is asked for.
    sign_out(page)
    sign_in_with_password(page, NEW_PASSWORD)
    second = page.get_by_test_id("second-factor")
    expect(second).to_be_visible()
    step = max(int(time.time() // 30), enable_step + 1)
    second.locator("#field-code").fill(pyotp.TOTP(secret).at(step * 30))
    second.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("user-name")).to_have_text("alice", timeout=20_000)

    # The administrator's list, and a reset of another account.
    open_section(page, "users")
    users = page.get_by_test_id("users")
    expect(users.get_by_test_id("user-row")).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    users.locator("[data-username=bob]").get_by_role(
        "button", name="Reset access").click()
    temporary = users.get_by_test_id("temporary-password").locator("code")
    expect(temporary).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "users.png"), full_page=True)
    answer = server.post("/auth/login", {"username": "bob",
                                         "password": temporary.inner_text()},
                         token=None)
    assert answer.status_code == 200
    assert page.script_errors == []

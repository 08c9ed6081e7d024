"""The Cloud page in a browser: connecting an account from the form its provider
describes, binding it to a new folder, watching the import, and what a wrong
password or a non-administrator sees. The cloud services are loopback servers
that speak the real protocols."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cloud_servers import WebDAVServer
from navigation import open_section
from playwright.sync_api import expect
from serverkit import PASSWORD, copy_media

pytestmark = pytest.mark.browser

SECRET = "Open-Sesame-42"
REMOTE = {
    "photos/Canon_40D.jpg": "jpeg/Canon_40D.jpg",
    "photos/Nikon_D70.jpg": "jpeg/Nikon_D70.jpg",
    "photos/trip/Stonehenge.heic": "heic/Stonehenge.heic",
    "photos/empty.jpg": "text:",
}
IMPORTED = {"Canon_40D.jpg", "Nikon_D70.jpg", "Stonehenge.heic"}
HOME_PHOTO = "jpeg/ladybug.jpg"

PROVIDER = {
    "id": "example",
    "title": "Example",
    "status": "enabled",
    "form_fields": [
        {"name": "url", "label": "Server address", "type": "url", "required": True,
         "placeholder": "https://dav.example.org/", "help_text": "Where it lives."},
        {"name": "username", "label": "User name", "type": "text",
         "required": False, "autocomplete": "username"},
        {"name": "password", "label": "Password", "type": "password",
         "required": False},
        {"name": "region", "label": "Region", "type": "select", "required": True,
         "options": [{"value": "com", "label": "Global"},
                     {"value": "cn", "label": "Mainland China"}]},
    ],
}


def module_call(page, module: str, function: str, *args):
    return page.evaluate(
        "async ([path, name, args]) => (await import(path))[name](...args)",
        [f"/js/{module}", function, list(args)])


def test_the_connect_form_is_built_from_the_provider_fields(modules_page):
    form = modules_page.evaluate("""async (fields) => {
      const { buildFields, readFields } = await import("/js/cloud_fields.js");
      const form = document.createElement("form");
      form.append(...buildFields(fields, "t"));
      document.body.append(form);
      form.elements.url.value = "http://127.0.0.1:1/";
      form.elements.region.value = "cn";
      const label = (c) => document.querySelector(`label[for="${c.id}"]`)
        ?.textContent;
      return {
        controls: [...form.elements].map((c) => ({ name: c.name, type: c.type,
          label: label(c), required: c.required, autocomplete: c.autocomplete,
          placeholder: c.placeholder ?? null,
          hint: c.getAttribute("aria-describedby")
            && document.getElementById(c.getAttribute("aria-describedby"))
              .textContent })),
        options: [...form.elements.region.options].map((o) => o.textContent),
        values: readFields(form, fields),
      };
    }""", PROVIDER["form_fields"])

    url, username, password, region = form["controls"]
    assert url == {"name": "url", "type": "url", "label": "Server address",
                   "required": True, "autocomplete": "off",
                   "placeholder": "https://dav.example.org/",
                   "hint": "Where it lives."}
    assert username["label"] == "User name (optional)"
    assert username["autocomplete"] == "username"
    assert password["type"] == "password"
    assert password["autocomplete"] == "current-password"
    assert region["type"] == "select-one" and region["required"] is True
    assert form["options"] == ["Global", "Mainland China"]
    assert form["values"] == {"url": "http://127.0.0.1:1/", "username": "",
                              "password": "", "region": "cn"}


def test_unavailable_providers_are_told_apart(modules_page):
    def available(status):
        return module_call(modules_page, "cloud_wording.js", "providerAvailable",
                           {"id": "s3", "status": status})

    assert available("enabled") is True
    assert available("disabled") is False
    assert module_call(modules_page, "cloud_wording.js", "describeProviderStatus",
                       {"id": "s3", "status": "coming_soon"}) == (
        "Not available on this server (coming soon).")


@pytest.mark.parametrize(("run", "words"), [
    (None, "Nothing imported yet."),
    ({"status": "queued"}, "Waiting to start…"),
    ({"status": "running", "total_seen": 0}, "Looking through the account…"),
    ({"status": "running", "total_seen": 4, "downloaded_count": 2,
      "imported_count": 2, "skipped_count": 1, "failed_count": 0},
     ("Importing… 4 files found so far: 2 new items added, 2 downloaded, "
      "1 skipped (already in the library, or not a photo or video), 0 failed.")),
    ({"status": "completed", "total_seen": 3, "downloaded_count": 3,
      "imported_count": 3, "skipped_count": 0, "failed_count": 0},
     "Import finished: 3 new items added, 3 downloaded, 0 skipped, 0 failed."),
    ({"status": "failed", "error": "The server refused the sign-in.",
      "imported_count": 0},
     ("The import stopped: The server refused the sign-in. So far: 0 new items "
      "added, 0 skipped, 0 failed.")),
    ({"status": "completed", "total_seen": 4, "imported_count": 0,
      "skipped_count": 4, "unsupported_count": 0, "failed_count": 0},
     "Nothing new: all 4 photos and videos were already imported."),
    ({"status": "completed", "total_seen": 4, "imported_count": 0,
      "skipped_count": 4, "unsupported_count": 1, "failed_count": 0},
     ("Nothing new: all 3 photos and videos were already imported; 1 file is not "
      "a photo or video.")),
    ({"status": "completed", "total_seen": 2, "imported_count": 0,
      "skipped_count": 2, "unsupported_count": 2, "failed_count": 0},
     "Nothing new: 2 files are not photos or videos."),
    ({"status": "completed", "total_seen": 4, "imported_count": 0,
      "skipped_count": 4, "failed_count": 0},
     "Nothing new: 4 already in the library or not a photo or video."),
    ({"status": "running", "total_seen": 6, "imported_count": 2,
      "skipped_count": 3, "unsupported_count": 1, "failed_count": 1},
     ("Importing… 6 files found so far: 2 new items added, 2 already imported, "
      "1 file is not a photo or video, 1 failed.")),
], ids=["none", "queued", "listing", "running", "completed", "failed",
        "all-known", "known-and-not-media", "only-not-media", "older-server",
        "running-told-apart"])
def test_import_runs_are_described_in_words(modules_page, run, words):
    assert module_call(modules_page, "cloud_wording.js", "describeRun", run) == words


def test_when_a_run_finished_is_worked_out_at_each_look(modules_page):
    three_hours_ago = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    run = {"status": "completed", "imported_count": 2, "skipped_count": 0,
           "failed_count": 0, "finished_at": three_hours_ago}

    words = module_call(modules_page, "cloud_wording.js", "describeRun", run)
    assert words == "Import finished 3 hours ago: 2 new items added, 0 skipped, 0 failed."


@pytest.mark.parametrize(("credential", "words"), [
    ({"masked_identity": "alice@nas.local",
      "public_config": {"url": "https://nas.local/photos/"}}, "alice@nas.local/photos"),
    ({"masked_identity": "alice@nas.local",
      "public_config": {"url": "https://nas.local/"}}, "alice@nas.local"),
    ({"masked_identity": "AKIA…XYZ",
      "public_config": {"bucket": "family", "prefix": "phone/"}},
     "AKIA…XYZ · family/phone"),
    ({"masked_identity": "bob@icloud.com", "public_config": {"domain": "com"}},
     "bob@icloud.com"),
], ids=["webdav-folder", "webdav-root", "s3", "icloud"])
def test_an_account_is_named_with_the_folder_it_reads(modules_page, credential, words):
    said = module_call(modules_page, "cloud_wording.js", "describeIdentity", credential)
    assert said == words


def test_the_folder_name_example_follows_the_service(modules_page):
    def hint(provider):
        return module_call(modules_page, "cloud_wording.js", "folderNameHint", provider)

    assert hint("webdav") == "Photos from the NAS"
    assert hint("s3") == "Photos from the bucket"
    assert hint("icloud") == "iCloud Photos"


def test_progress_counts_every_file_that_settled(modules_page):
    def progress(run):
        return module_call(modules_page, "cloud_wording.js", "runProgress", run)

    assert progress({"status": "running", "total_seen": 0}) is None
    assert progress({"status": "running", "total_seen": 8, "imported_count": 2,
                     "skipped_count": 1, "failed_count": 1}) == 0.5
    assert progress({"status": "completed", "total_seen": 8}) is None


def test_the_challenge_step_shows_what_the_service_asks(modules_page):
    # The iCloud sign-in needs Apple; the page's own challenge step is shown here
    # with the challenge the server describes for it.
    shown = modules_page.evaluate("""async () => {
      const { ConnectCard } = await import("/js/cloud_connect.js");
      const card = new ConnectCard({ onChange: () => {} });
      document.body.append(card.element);
      const code = { name: "code", label: "Verification code", type: "text",
        required: true, autocomplete: "one-time-code", placeholder: "123456" };
      card.askChallenge({ id: "icloud", title: "iCloud", challenge_fields: [code] },
        { id: "c1", display_name: "Annie" },
        { type: "verification_code", title: "Verification required",
          description: "Enter the six-digit code Apple sent to your devices.",
          fields: [code] });
      const form = card.element.querySelector("[data-testid=cloud-challenge]");
      const input = form.querySelector("input");
      return { title: form.querySelector("h3").textContent,
        description: form.querySelector(".hint").textContent,
        label: form.querySelector(`label[for="${input.id}"]`).textContent,
        autocomplete: input.autocomplete, focused: document.activeElement === input,
        buttons: [...form.querySelectorAll("button")].map((b) => b.textContent) };
    }""")

    assert shown == {"title": "Verification required",
                     "description": "Enter the six-digit code Apple sent to your "
                                    "devices.",
                     "label": "Verification code", "autocomplete": "one-time-code",
                     "focused": True, "buttons": ["Verify", "Cancel"]}


def test_refreshed_lists_keep_the_focus_where_it_was(modules_page):
    result = modules_page.evaluate("""async () => {
      const { h, keepOrder } = await import("/js/dom.js");
      const items = ["a", "b", "c"].map((name) =>
        h("li", { id: name }, h("button", { type: "button", text: name })));
      const list = h("ul", {}, ...items);
      document.body.append(list);
      items[1].querySelector("button").focus();

      keepOrder(list, items);
      const kept = document.activeElement.textContent;
      keepOrder(list, [items[2], items[0], items[1], h("li", { id: "d" })]);
      return { kept, order: [...list.children].map((li) => li.id) };
    }""")

    assert result == {"kept": "b", "order": ["c", "a", "b", "d"]}


@pytest.fixture
def small_library(tmp_path):
    """One photo, which the cloud does not hold: the rest comes by import."""
    return copy_media(tmp_path / "library", [HOME_PHOTO])


@pytest.fixture
def dav(tmp_path):
    with WebDAVServer(tmp_path / "dav", REMOTE, username="alice",
                      password=SECRET) as server:
        yield server


def open_cloud_page(page):
    open_section(page, "cloud")
    expect(page.get_by_test_id("cloud")).to_be_visible()
    page.get_by_test_id("cloud-provider-webdav").click()
    return page.get_by_test_id("cloud-connect-form")


def fill_webdav(form, dav, password: str) -> None:
    form.get_by_label("Name in Lumilio").fill("Home NAS")
    form.get_by_label("Folder address").fill(dav.url + "photos/")
    form.get_by_label("User name").fill(dav.username)
    form.get_by_label("Password").fill(password)


def test_a_webdav_folder_is_connected_bound_and_imported(
        ui_server, signed_in, dav, screenshot_dir):
    page = signed_in
    form = open_cloud_page(page)
    for provider in ("icloud", "s3", "webdav"):
        expect(page.get_by_test_id(f"cloud-provider-{provider}")).to_be_visible()
    expect(form.get_by_label("Password")).to_have_attribute("type", "password")
    expect(form.get_by_label("Password")).to_have_attribute(
        "autocomplete", "current-password")

    fill_webdav(form, dav, SECRET)
    form.get_by_role("button", name="Connect").click()
    expect(page.get_by_test_id("cloud-connect-notice")).to_contain_text(
        "Connected “Home NAS”")
    account = page.get_by_test_id("cloud-account")
    expect(account).to_contain_text("Home NAS")
    # Who signs in, and the folder on the server that is read.
    expect(account.get_by_test_id("cloud-identity")).to_have_text(
        f"alice@127.0.0.1:{dav.url.split(':')[2].strip('/')}/photos")
    expect(account.get_by_test_id("cloud-account-status")).to_have_text("Connected")
    assert SECRET not in page.content()

    # The second photo's download waits at the server, so the page can be seen
    # while the run is under way.
    held = dav.gate.hold("GET", "photos/Nikon_D70.jpg")
    new_import = page.get_by_test_id("cloud-new-import")
    expect(new_import.get_by_label("Account")).to_have_value(
        ui_server.get("/cloud/credentials").json()["credentials"][0]["id"])
    folder_name = new_import.get_by_label("Folder name")
    expect(folder_name).to_have_attribute("placeholder", "Photos from the NAS")
    folder_name.fill("From the NAS")
    new_import.get_by_role("button", name="Create folder and import").click()

    folder = page.get_by_test_id("cloud-import")
    expect(folder).to_contain_text("From the NAS")
    status = folder.get_by_test_id("cloud-run-status")
    assert held.reached.wait(60), "the import never asked for the second photo"
    expect(status).to_contain_text("Importing… 4 files found so far: 1 new item "
                                   "added", timeout=20_000)
    expect(folder.locator("progress")).to_be_visible()
    expect(folder.get_by_role("button", name="Import new photos")).to_be_disabled()
    page.screenshot(path=str(screenshot_dir / "cloud-importing.png"))
    held.release()

    expect(status).to_have_attribute("data-state", "completed", timeout=60_000)
    expect(status).to_contain_text("3 new items added")
    expect(status).to_contain_text("1 failed")
    expect(folder.locator("progress")).to_be_hidden()
    failures = folder.get_by_test_id("cloud-run-failures")
    failures.get_by_text("Which files failed (1)").click()
    expect(failures.get_by_role("listitem")).to_have_text(
        "empty.jpg: the file is empty")
    page.screenshot(path=str(screenshot_dir / "cloud-imported.png"))

    repository_id = folder.get_attribute("data-repository-id")
    ui_server.wait_idle(timeout=120)
    names = {a["original_filename"]
             for a in ui_server.assets(repository_id=repository_id)}
    assert names == IMPORTED

    # A second run finds nothing new.
    folder.get_by_role("button", name="Import new photos").click()
    expect(status).to_contain_text("0 new items added", timeout=60_000)
    expect(status).to_contain_text("3 already imported")

    folder.get_by_role("link", name="See the photos").click()
    expect(page.get_by_test_id("timeline")).to_be_visible()
    expect(page.locator(".tile[data-asset-id]")).to_have_count(4, timeout=30_000)
    assert page.script_errors == []


def test_a_wrong_password_is_refused_and_nothing_is_kept(
        ui_server, signed_in, dav):
    page = signed_in
    form = open_cloud_page(page)

    # A folder that is not there is named as such, with where to look.
    fill_webdav(form, dav, SECRET)
    form.get_by_label("Folder address").fill(dav.url + "no-such-folder/")
    form.get_by_role("button", name="Connect").click()
    expect(form.get_by_role("alert")).to_have_text(
        "No folder at this address. Check the URL, including the path to the "
        "shared folder.")

    fill_webdav(form, dav, "not-the-password")
    form.get_by_role("button", name="Connect").click()

    error = form.get_by_role("alert")
    expect(error).to_have_text("The server did not accept this user name and "
                               "password. Check them and try again.")
    expect(form.get_by_label("Password")).to_be_focused()
    expect(form.get_by_label("Password")).to_have_value("")
    expect(form.get_by_label("Folder address")).to_have_value(dav.url + "photos/")
    assert ui_server.get("/cloud/credentials").json()["credentials"] == []
    expect(page.get_by_test_id("cloud-account")).to_have_count(0)

    # The person types the right one and goes on from the same form.
    form.get_by_label("Password").fill(SECRET)
    form.get_by_role("button", name="Connect").click()
    expect(page.get_by_test_id("cloud-account")).to_contain_text("Connected")
    assert len(ui_server.get("/cloud/credentials").json()["credentials"]) == 1
    assert page.script_errors == []


def test_an_account_is_disconnected_reconnected_and_removed(
        ui_server, signed_in, dav):
    page = signed_in
    created = ui_server.post("/cloud/credentials", {
        "provider": "webdav", "display_name": "Home NAS",
        "inputs": dav.inputs("photos/")}).json()["credential"]
    bound = ui_server.post("/repositories", {
        "name": "From the NAS", "cloud_credential_id": created["id"]}).json()
    ui_server.wait_idle(timeout=120)
    open_section(page, "cloud")
    account = page.get_by_test_id("cloud-account")
    status = account.get_by_test_id("cloud-account-status")
    folder = page.get_by_test_id("cloud-import")
    expect(folder.get_by_test_id("cloud-run-status")).to_contain_text(
        "3 new items added")

    account.get_by_role("button", name="Disconnect Home NAS").click()
    expect(status).to_contain_text("Disconnected")
    expect(folder.get_by_role("button", name="Import new photos")).to_be_disabled()

    # The kept password still works, so nothing has to be typed.
    account.get_by_role("button", name="Reconnect Home NAS").focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Connected")
    # The keyboard stays on the account, and "Connected" is said once.
    expect(account.get_by_role("button", name="Disconnect Home NAS")).to_be_focused()
    expect(account.get_by_text("Connected", exact=False)).to_have_count(1)
    expect(folder.get_by_role("button", name="Import new photos")).to_be_enabled()

    account.get_by_role("button", name="Remove Home NAS").click()
    dialog = page.get_by_test_id("cloud-remove-dialog")
    expect(dialog).to_contain_text("The photos already imported stay")
    dialog.get_by_role("button", name="Cancel").click()
    expect(account).to_be_visible()
    account.get_by_role("button", name="Remove Home NAS").click()
    dialog.get_by_role("button", name="Remove account").click()
    expect(account).to_have_count(0)
    expect(folder).to_contain_text("Its account was removed")
    assert ui_server.get("/cloud/credentials").json()["credentials"] == []
    kept = ui_server.assets(repository_id=bound["repository"]["id"])
    assert {a["original_filename"] for a in kept} == IMPORTED
    assert page.script_errors == []


def test_the_cloud_page_is_not_offered_to_other_users(ui_server, signed_in):
    page = signed_in
    ui_server.register("bob")
    page.click("#sign-out")
    expect(page.get_by_test_id("sign-in")).to_be_visible(timeout=20_000)
    page.fill("#field-username", "bob")
    page.fill("#field-password", PASSWORD)
    page.get_by_test_id("sign-in").get_by_role(
        "button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("timeline")).to_be_visible(timeout=20_000)

    page.get_by_test_id("nav-more").click()
    expect(page.get_by_test_id("nav-account")).to_be_visible()
    expect(page.get_by_test_id("nav-cloud")).to_be_hidden()
    page.goto(ui_server.base + "/#/cloud")
    expect(page.get_by_test_id("admin-only")).to_contain_text(
        "Only an administrator can manage cloud accounts.")
    expect(page.get_by_test_id("cloud")).to_be_hidden()
    token = page.evaluate("localStorage.getItem('lumilio.token')")
    assert ui_server.get("/cloud/providers", token=token).status_code == 403
    assert page.script_errors == []


def test_an_account_whose_password_was_refused_asks_for_it_again(modules_page):
    page = modules_page
    page.evaluate("""async (provider) => {
      const { AccountsList } = await import("/js/cloud_accounts.js");
      const list = new AccountsList({ onChange: () => {} });
      document.body.append(list.element);
      list.show([{ id: "c1", provider: "example", provider_title: "Example",
        display_name: "Home NAS", masked_identity: "alice@nas",
        status: "password_required" }], [provider]);
    }""", PROVIDER)
    account = page.get_by_test_id("cloud-account")
    expect(account.get_by_test_id("cloud-account-status")).to_have_text(
        "Needs the password again")
    expect(account.get_by_role("button", name="Disconnect Home NAS")).to_be_hidden()

    account.get_by_role("button", name="Reconnect Home NAS").click()
    dialog = page.get_by_test_id("cloud-reconnect")
    expect(dialog).to_contain_text("no longer accepts the saved password")
    # Only the secret is asked for; the address and user name are kept.
    expect(dialog.locator("input, select")).to_have_count(1)
    password = dialog.get_by_label("Password")
    expect(password).to_have_attribute("type", "password")
    expect(password).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(account.get_by_role("button", name="Reconnect Home NAS")).to_be_enabled()

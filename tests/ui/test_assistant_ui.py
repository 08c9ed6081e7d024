"""The library assistant in the browser: the administrator's model settings, a chat
whose answers stream in, results as photo grids, confirmations before a change,
the board of pins, and what the page says while no model is set up.

The model is the scripted OpenAI-compatible server of the tests, on loopback; the
photos are real files imported by a real server.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from scripted_llm import ScriptedModel, call_tools, malformed, say, slow, tool
from serverkit import PASSWORD

pytestmark = pytest.mark.browser


def call(page, module: str, function: str, *args):
    return page.evaluate(
        "async ([path, name, args]) => (await import(path))[name](...args)",
        [f"/js/{module}", function, list(args)],
    )


# -- the pure parts, in the browser without a server ----------------------------------


def test_pins_pack_into_rows_of_twelve_columns(modules_page):
    pins = [{"pin_id": "a", "layout": {"w": 6, "h": 4}},
            {"pin_id": "b", "layout": {"w": 6, "h": 2}},
            {"pin_id": "c", "layout": {"w": 12, "h": 3}},
            {"pin_id": "d", "layout": {}}]

    placed = call(modules_page, "pin_board.js", "pack", pins)

    assert placed == [
        {"pin_id": "a", "x": 0, "y": 0, "w": 6, "h": 4},
        {"pin_id": "b", "x": 6, "y": 0, "w": 6, "h": 2},
        {"pin_id": "c", "x": 0, "y": 4, "w": 12, "h": 3},
        {"pin_id": "d", "x": 0, "y": 7, "w": 6, "h": 4},
    ]


def test_a_new_pin_goes_after_the_last_one(modules_page):
    pins = [{"pin_id": "b", "layout": {"x": 0, "y": 4, "w": 6, "h": 4}},
            {"pin_id": "a", "layout": {"x": 0, "y": 0, "w": 12, "h": 4}}]

    assert call(modules_page, "pin_board.js", "nextLayout", pins) == {
        "x": 6, "y": 4, "w": 6, "h": 4}
    assert call(modules_page, "pin_board.js", "nextLayout", []) == {
        "x": 0, "y": 0, "w": 6, "h": 4}


def test_facets_read_as_one_line(modules_page):
    ref = {"ref_id": "r1", "count": 12, "facets": {
        "count": 12, "date_range": {"from": "2019-03-02T10:00:00Z",
                                    "to": "2023-07-14T18:30:00Z"},
        "top_places": [{"name": "Kyoto", "count": 8}, {"name": "Nara", "count": 4}],
        "top_people": [{"name": "Eileen", "count": 3}], "liked_count": 2}}

    line = call(modules_page, "assistant_results.js", "describeFacets", ref)

    assert line == ("12 items · 2 Mar 2019 – 14 Jul 2023 · Places: Kyoto (8),"
                    " Nara (4) · People: Eileen (3) · 2 ♥")


def test_a_change_to_confirm_is_read_from_the_message_action(modules_page):
    message = {"agent_name": "library_assistant", "action": {
        "type": "confirmation_required", "action_id": "a-1", "tool": "create_album",
        "summary": "Create the album “Beach” with 3 items", "count": 3}}

    action = call(modules_page, "assistant_confirm.js", "confirmationOf", message)

    assert action["action_id"] == "a-1"
    assert call(modules_page, "assistant_confirm.js", "describeChange",
                action) == "Create the album “Beach” with 3 items."
    assert call(modules_page, "assistant_confirm.js", "confirmationOf",
                {"agent_name": "library_assistant", "output": "Hello"}) is None


def test_answers_keep_markdown_structure_and_nothing_that_loads(modules_page):
    answer = ("Found **3** photos:\n\n- [Kyoto](https://example.invalid/a)\n"
              "- ![x](https://example.invalid/track.png) <img src=x onerror=alert(1)>"
              "\n\n<script>alert(2)</script>\n\nRun `code`.")

    html = modules_page.evaluate("""async (text) => {
      const { renderMarkdown } = await import('/js/assistant_markdown.js');
      const box = document.createElement('div');
      box.append(renderMarkdown(text));
      return box.innerHTML;
    }""", answer)

    assert html == ("<p>Found <strong>3</strong> photos:</p>\n<ul>\n<li>Kyoto</li>\n"
                    "<li> </li>\n</ul>\n<p>Run <code>code</code>.</p>\n")


# -- against a real server ------------------------------------------------------------

PHOTOS = ["jpeg/pixel_8.jpg", "jpeg/ladybug.jpg", "jpeg/gps/DSCN0010.jpg",
          "jpeg/HMD_Nokia_8.3_5G.jpg"]


@pytest.fixture
def small_library(tmp_path, media_dir):
    library = tmp_path / "library"
    library.mkdir()
    for relative in PHOTOS:
        (library / relative.rsplit("/", 1)[-1]).write_bytes(
            (media_dir / relative).read_bytes())
    return library


def test_without_a_model_the_page_says_how_to_set_one_up(ui_server, signed_in):
    page = signed_in

    page.get_by_test_id("nav-assistant").click()
    setup = page.get_by_test_id("assistant-setup")
    expect(setup).to_contain_text("none is set up yet")
    expect(setup).to_contain_text("Ollama")
    expect(setup).to_contain_text("llama.cpp")
    expect(setup.locator("code").first).to_have_text("ollama serve")
    expect(setup).not_to_contain_text("`")
    expect(page.get_by_test_id("assistant-form")).to_have_count(0)

    # The administrator is taken to the form that sets it up.
    setup.get_by_test_id("assistant-setup-link").click()
    expect(page.get_by_test_id("llm-form")).to_be_visible()
    expect(page.get_by_test_id("llm-key-state")).to_contain_text("No key is stored")

    # A local provider brings its usual address, with its commands as code.
    form = page.get_by_test_id("llm-form")
    form.get_by_label("Provider").select_option("ollama")
    expect(form.get_by_label("Server address (base URL)")).to_have_value(
        "http://127.0.0.1:11434/v1")
    expect(form.locator("#llm-provider-help code").first).to_have_text(
        "ollama serve")
    form.get_by_label("Provider").select_option("deepseek")
    expect(form.get_by_label("Server address (base URL)")).to_have_value("")

    # A configured model that is turned off is explained as such, and the board,
    # whose routes are off too, says why it is empty.
    res = ui_server.request("PATCH", "/settings/system", json={"llm": {
        "provider": "ollama", "base_url": "http://127.0.0.1:9/v1",
        "model_name": "qwen2.5", "agent_enabled": False}})
    assert res.status_code == 200, res.text
    page.get_by_test_id("assistant-tab-chat").click()
    expect(page.get_by_test_id("assistant-setup")).to_contain_text("turned off")
    expect(page.get_by_test_id("assistant-setup-step")).to_contain_text(
        "Turn the assistant on for everyone")
    expect(page.get_by_test_id("assistant-setup-steps")).to_have_count(0)
    page.get_by_test_id("assistant-tab-board").click()
    expect(page.get_by_test_id("board-status")).to_contain_text("turned off")
    assert page.script_errors == []

    # Someone who is not an administrator is told whom to ask, and gets no form.
    res = ui_server.post("/auth/register/start", {"username": "bob",
                                                  "password": PASSWORD}, token=None)
    assert res.status_code == 200, res.text
    other = page.context.browser.new_page()
    other.goto(ui_server.base)
    other.evaluate("""([token, refresh]) => {
      localStorage.setItem('lumilio.token', token);
      localStorage.setItem('lumilio.refreshToken', refresh);
    }""", [res.json()["token"], res.json()["refreshToken"]])
    other.goto(f"{ui_server.base}/#/assistant/settings")
    other.reload()
    setup = other.get_by_test_id("assistant-setup")
    expect(setup).to_contain_text("Ask an administrator")
    expect(setup.get_by_test_id("assistant-setup-link")).to_have_count(0)
    expect(other.get_by_test_id("assistant-tab-settings")).to_have_count(0)
    other.close()


@pytest.fixture
def model():
    with ScriptedModel(model="tiny") as scripted:
        yield scripted


def use_model(server, model: ScriptedModel) -> None:
    res = server.request("PATCH", "/settings/system", json={"llm": {
        "provider": "openai", "base_url": model.base_url, "model_name": model.model,
        "agent_enabled": True}})
    assert res.status_code == 200, res.text


def open_chat(page):
    page.get_by_test_id("nav-assistant").click()
    expect(page.get_by_test_id("assistant-form")).to_be_visible()


def ask(page, question: str) -> None:
    box = page.get_by_test_id("assistant-input")
    box.fill(question)
    box.press("Enter")


def last_turn(page):
    return page.get_by_test_id("assistant-turn").last


def test_the_administrator_sets_up_and_tests_the_model(ui_server, signed_in, model,
                                                       screenshot_dir):
    page = signed_in
    page.get_by_test_id("nav-assistant").click()
    page.get_by_test_id("assistant-setup-link").click()
    form = page.get_by_test_id("llm-form")

    form.get_by_label("Provider").select_option("openai")
    expect(form.get_by_label("Server address (base URL)")).to_have_attribute(
        "placeholder", "https://api.openai.com/v1")
    form.get_by_label("Server address (base URL)").fill(model.base_url)
    form.get_by_label("Model name").fill("huge")
    form.get_by_label("Turn the assistant on for everyone").check()

    # A model the server does not have: the test says so, and why.
    form.get_by_role("button", name="Test connection").click()
    status = page.get_by_test_id("llm-status")
    expect(status).to_contain_text("It did not work")
    expect(status).to_contain_text("huge")

    form.get_by_label("Model name").fill("tiny")
    form.get_by_role("button", name="Test connection").click()
    expect(status).to_have_text("The connection works: tiny answered.")
    checks = [r for r in model.requests if r["path"].endswith("/chat/completions")]
    assert checks[-1]["body"]["model"] == "tiny"

    # Saved, the key written once and never shown again.
    form.get_by_label("API key").fill("sk-local-secret")
    form.get_by_role("button", name="Save").click()
    expect(status).to_have_text("Saved.")
    expect(page.get_by_test_id("llm-key-state")).to_contain_text("A key is stored")
    expect(page.get_by_test_id("llm-api-key")).to_have_value("")
    answer = ui_server.get("/settings/system")
    assert "sk-local-secret" not in answer.text
    assert answer.json()["llm"] == {
        "agent_enabled": True, "provider": "openai", "model_name": "tiny",
        "base_url": model.base_url, "api_key_configured": True}
    page.screenshot(path=str(screenshot_dir / "assistant-settings.png"))

    # With the model on, the chat takes the setup's place.
    page.get_by_test_id("assistant-tab-chat").click()
    expect(page.get_by_test_id("assistant-form")).to_be_visible()
    expect(page.get_by_test_id("assistant-model")).to_contain_text("tiny")
    assert page.script_errors == []


def test_answers_stream_in_and_can_be_stopped(ui_server, signed_in, model):
    page = signed_in
    use_model(ui_server, model)
    open_chat(page)
    answer = "You have four photos, from a ladybug to a phone's view of a street."
    model.add(slow(answer, pieces=15, delay=0.15))

    # Enter sends; Shift+Enter only starts a new line.
    box = page.get_by_test_id("assistant-input")
    box.fill("What is in my library?")
    box.press("Shift+Enter")
    expect(box).to_have_value("What is in my library?\n")
    box.press("Enter")

    # The first words show while the answer is still being written.
    page.wait_for_function("""() => {
      const turn = document.querySelector('[data-testid=assistant-turn]');
      const text = turn?.querySelector('[data-testid=assistant-answer]');
      return turn?.getAttribute('aria-busy') === 'true' && text
        && text.textContent.length > 0;
    }""")
    turn = last_turn(page)
    expect(turn.get_by_test_id("assistant-answer")).to_have_text(answer)
    expect(turn).to_have_attribute("aria-busy", "false")

    # A follow-up carries the conversation so far to the model.
    model.add(say("The ladybug photo is the oldest."))
    ask(page, "Which is the oldest?")
    expect(last_turn(page).get_by_test_id("assistant-answer")).to_have_text(
        "The ladybug photo is the oldest.")
    history = json.dumps(model.chat_requests[-1]["messages"])
    assert "What is in my library?" in history and answer in history

    # Stop ends the run on the server, not only in the page.
    model.add(slow("word " * 100, pieces=100, delay=0.1))
    ask(page, "Tell me a long story.")
    expect(last_turn(page).get_by_test_id("assistant-answer")).to_contain_text("word")
    page.get_by_test_id("assistant-stop").click()
    expect(last_turn(page)).to_contain_text("Stopped.")
    expect(page.get_by_text("Stopped.", exact=True)).to_have_count(1)
    assert model.gone.wait(20), "the model kept being read after Stop"
    expect(page.get_by_test_id("assistant-stop")).to_be_hidden()

    # A new conversation starts without the old one.
    page.get_by_test_id("assistant-new").click()
    expect(page.get_by_test_id("assistant-turn")).to_have_count(0)
    model.add(say("Hello again."))
    ask(page, "Hello?")
    expect(last_turn(page).get_by_test_id("assistant-answer")).to_have_text(
        "Hello again.")
    assert "What is in my library?" not in json.dumps(
        model.chat_requests[-1]["messages"])
    assert page.script_errors == []


def test_results_confirmations_and_the_board(ui_server, signed_in, model,
                                             screenshot_dir):
    page = signed_in
    use_model(ui_server, model)
    names = sorted(p.rsplit("/", 1)[-1] for p in PHOTOS)
    open_chat(page)

    # A filter, then a request to show what it found: the photos as a grid.
    model.add(call_tools(tool("filter_assets", {"types": ["PHOTO"]})),
              call_tools(tool("show", {"ref": "r1", "title": "Your photos"})),
              say("Here are your photos."))
    ask(page, "Show me all my photos")
    turn = page.get_by_test_id("assistant-turn").nth(0)
    expect(turn.get_by_test_id("assistant-answer")).to_have_text(
        "Here are your photos.")
    step = turn.get_by_test_id("tool-step").first
    expect(step.locator("span")).to_have_text("Filtering photos: 4 items")
    expect(step.get_by_role("button", name="Show the photos")).to_be_visible()
    expect(turn.get_by_role("button", name="Show the photos")).to_have_count(1)
    result = turn.get_by_test_id("assistant-result")
    expect(result).to_have_count(1)
    expect(result.locator(".result-title")).to_have_text("Your photos")
    expect(result.get_by_test_id("result-summary")).to_contain_text("4 items")
    expect(result.locator("img.is-loaded")).to_have_count(4)
    shown = sorted(result.locator(".grid-tile").evaluate_all(
        "tiles => tiles.map(t => t.getAttribute('aria-label'))"))
    assert shown == names
    page.screenshot(path=str(screenshot_dir / "assistant-result.png"))

    # A photo opens in the viewer.
    first = result.locator(".grid-tile").first
    title = first.get_attribute("aria-label")
    first.click()
    viewer = page.get_by_test_id("result-items-viewer")
    expect(viewer).to_be_visible()
    expect(viewer.locator(".viewer-title")).to_have_text(title)
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    # Pinned to the board under a title of the person's choice.
    result.get_by_test_id("result-pin").click()
    result.get_by_test_id("pin-title").fill("Everything")
    result.get_by_role("button", name="Pin to board").click()
    expect(result.get_by_test_id("result-pinned")).to_be_visible()
    pins = ui_server.get("/agent/pins").json()
    assert [(p["title"], p["count"], p["mode"]) for p in pins] == [
        ("Everything", 4, "frozen")]

    # A change waits for a confirmation, with the keyboard on Confirm.
    model.add(call_tools(tool("create_album", {"name": "Holiday", "ref": "r1"})))
    ask(page, "Make an album called Holiday of them")
    question = page.get_by_test_id("assistant-confirmation").nth(0)
    expect(question.get_by_test_id("confirmation-text")).to_have_text(
        "Create the album “Holiday” with 4 items.")
    expect(question.get_by_test_id("confirm-change")).to_be_focused()
    assert not album_named(ui_server, "Holiday")
    page.screenshot(path=str(screenshot_dir / "assistant-confirmation.png"))

    # A reload keeps the conversation, and the change can still be confirmed.
    # The browser asks before leaving a page with a question open.
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    page.reload()
    assert asked == ["beforeunload"]
    expect(page.get_by_test_id("user-turn")).to_have_count(2)
    expect(page.get_by_test_id("user-turn").nth(1)).to_have_text(
        "Make an album called Holiday of them")
    turn = page.get_by_test_id("assistant-turn").nth(0)
    expect(turn.get_by_test_id("assistant-answer")).to_have_text(
        "Here are your photos.")
    expect(turn.get_by_test_id("assistant-result").locator("img.is-loaded")
           ).to_have_count(4)
    question = page.get_by_test_id("assistant-confirmation").nth(0)
    expect(question.get_by_test_id("confirmation-text")).to_have_text(
        "Create the album “Holiday” with 4 items.")
    model.add(say("The album Holiday now holds your four photos."))
    question.get_by_test_id("confirm-change").click()
    expect(last_turn(page).get_by_test_id("assistant-answer")).to_have_text(
        "The album Holiday now holds your four photos.")
    expect(question.get_by_test_id("confirm-change")).to_have_count(0)
    expect(question.get_by_test_id("confirmation-outcome")).to_have_text("Confirmed.")
    album = album_named(ui_server, "Holiday")
    assert album and album["asset_count"] == 4
    expect(page.get_by_test_id("step-album-link")).to_have_attribute(
        "href", f"#/albums/{album['album_id']}")

    # Cancelled, nothing changes.
    model.add(call_tools(tool("create_album", {"name": "Not wanted", "ref": "r1"})),
              say("All right, I left everything as it was."))
    ask(page, "Make another album, Not wanted")
    question = page.get_by_test_id("assistant-confirmation").nth(1)
    expect(question.get_by_test_id("confirmation-text")).to_contain_text("Not wanted")
    question.get_by_test_id("cancel-change").click()
    expect(last_turn(page).get_by_test_id("assistant-answer")).to_have_text(
        "All right, I left everything as it was.")
    expect(question.get_by_test_id("confirmation-outcome")).to_have_text(
        "Cancelled: nothing was changed.")
    assert not album_named(ui_server, "Not wanted")

    # A second pin of the same result, made through the API, to rearrange.
    thread_id = result.get_attribute("data-thread-id")
    res = ui_server.post("/agent/pins", {"ref_id": "r1", "thread_id": thread_id,
                                         "title": "Second", "mode": "live"})
    assert res.status_code == 200, res.text

    # The board: both pins with their photos; moved, widened, one removed.
    page.get_by_test_id("assistant-tab-board").click()
    cards = page.get_by_test_id("pin-card")
    expect(cards).to_have_count(2)
    expect(cards.get_by_test_id("pin-title")).to_have_text(["Everything", "Second"])
    expect(cards.nth(0).get_by_test_id("grid-item")).to_have_count(4)
    expect(cards.nth(1).get_by_test_id("grid-item")).to_have_count(4)
    # The count said once, the days written as the chat writes them.
    expect(cards.nth(1).locator(".pin-facts")).to_have_text(
        "4 photos · 22 Oct 2008 – 1 Nov 2023 · Länsisatama, Ennepetal"
        " · live: runs the search again")
    expect(cards.nth(0).locator(".pin-facts")).to_contain_text(
        "frozen: shows these photos")
    expect(cards.nth(0).get_by_test_id("pin-earlier")).to_be_disabled()
    expect(cards.nth(1).get_by_test_id("pin-later")).to_be_disabled()
    expect(cards.nth(0).get_by_test_id("pin-later")).to_be_enabled()

    status = page.get_by_test_id("board-status")
    top = cards.nth(0).bounding_box()["y"]
    cards.nth(0).get_by_test_id("pin-later").click()
    expect(cards.get_by_test_id("pin-title")).to_have_text(["Second", "Everything"])
    expect(status).to_have_text("Saved.")
    # The message takes the place kept for it; the cards stay where they were.
    assert cards.nth(0).bounding_box()["y"] == top
    expect(cards.nth(0).get_by_test_id("pin-earlier")).to_be_disabled()
    expect(cards.nth(1).get_by_test_id("pin-earlier")).to_be_enabled()
    assert board_titles(ui_server) == ["Second", "Everything"]
    cards.nth(0).get_by_test_id("pin-resize").click()
    expect(cards.nth(0).get_by_test_id("pin-resize")).to_have_text("Narrower")
    widths = {p["title"]: p["layout"]["w"] for p in ui_server.get(
        "/agent/pins").json()}
    assert widths == {"Second": 12, "Everything": 6}
    page.screenshot(path=str(screenshot_dir / "assistant-board.png"))

    # Removing asks first; cancelled, the pin stays.
    cards.nth(1).get_by_test_id("pin-remove").click()
    dialog = page.get_by_test_id("pin-remove-dialog")
    expect(dialog).to_contain_text("Everything")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(cards).to_have_count(2)
    cards.nth(1).get_by_test_id("pin-remove").click()
    page.get_by_test_id("pin-remove-dialog").get_by_role(
        "button", name="Remove").click()
    expect(cards).to_have_count(1)
    assert board_titles(ui_server) == ["Second"]
    assert page.script_errors == []


def album_named(server, name: str) -> dict | None:
    albums = server.get("/albums?limit=100").json()["albums"]
    return next((a for a in albums if a["album_name"] == name), None)


def board_titles(server) -> list[str]:
    pins = server.get("/agent/pins").json()
    pins.sort(key=lambda p: (p["layout"]["y"], p["layout"]["x"]))
    return [p["title"] for p in pins]


def test_a_broken_tool_call_reads_as_a_failed_step(ui_server, signed_in, model):
    page = signed_in
    use_model(ui_server, model)
    open_chat(page)
    model.add(malformed("filter_assets"),
              call_tools(tool("filter_assets", {"date_from": "2099-01-01"})),
              say("I found nothing from then."))

    ask(page, "Photos from 2099")
    turn = last_turn(page)
    expect(turn.get_by_test_id("assistant-answer")).to_have_text(
        "I found nothing from then.")
    steps = turn.get_by_test_id("tool-step")
    expect(steps.first).to_have_text("Filtering photos failed: the request from the"
                                     " model was not valid; it may try again")
    expect(turn).not_to_contain_text("JSON")
    # A result of nothing offers neither its photos nor a pin.
    expect(steps.last).to_have_text("Filtering photos: 0 items")
    expect(turn.get_by_role("button", name="Show the photos")).to_have_count(0)
    expect(turn.get_by_test_id("result-summary")).to_contain_text("0 items")
    expect(turn.get_by_test_id("result-pin")).to_be_hidden()
    assert page.script_errors == []

"""The assistant against a scripted model on loopback: streamed answers, tools over
the library, confirmation of changes, a client that leaves, malformed arguments,
and what another user can reach."""

from __future__ import annotations

import time

import pytest

from agentkit import chat, point_at, tool_messages
from scripted_llm import ScriptedModel, call_tools, malformed, say, slow, tool
from two_users import assert_error, start_library

PHOTOS = ["jpeg/Canon_40D.jpg", "jpeg/Nikon_D70.jpg", "jpeg/Panasonic_DMC-FZ30.jpg",
          "jpeg/Canon_EOS_7D.jpg", "jpeg/gps/DSCN0010.jpg"]
SPRING_2008 = {"date_from": "2008-03-01", "date_to": "2008-05-31"}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    library = start_library(tmp_path_factory.mktemp("agent"), PHOTOS)
    yield library
    library.server.stop()


@pytest.fixture(scope="module")
def model(lib):
    with ScriptedModel() as scripted:
        point_at(lib.server, scripted)
        yield scripted


@pytest.fixture(autouse=True)
def script_used_up(request):
    yield
    if "model" in request.fixturenames:
        assert request.getfixturevalue("model").turns == [], "turns left unused"


def names(lib, asset_ids: list[str]) -> list[str]:
    by_id = {a["asset_id"]: n for n, a in lib.by_name.items()}
    by_id[lib.bobs_asset] = "Pentax_K10D.jpg"  # Bob's, which Alice (an admin) sees
    return [by_id.get(i, i) for i in asset_ids]


def ref_names(lib, thread_id: str, ref_id: str, token="default") -> list[str]:
    res = lib.server.get(f"/agent/refs/{ref_id}/assets?thread_id={thread_id}",
                         token=token)
    assert res.status_code == 200, res.text
    return names(lib, [a["asset_id"] for a in res.json()["assets"]])


def test_a_question_that_leads_to_a_filter_a_search_and_a_combine(lib, model):
    model.add(
        call_tools(tool("filter_assets", SPRING_2008), tool("search_text",
                                                            {"query": "canon"}),
                   text="Let me look."),
        call_tools(tool("combine", {"refs": ["r1", "r2"], "op": "intersect"})),
        call_tools(tool("show", {"ref": "r3", "title": "Canon, spring 2008"})),
        say("I found one Canon photo from spring 2008.", pieces=4))
    reply = chat(lib.server, {"query": "my Canon photos from spring 2008"})

    assert reply.status == 200 and reply.ended == "done", reply.frames
    assert reply.text == "Let me look.I found one Canon photo from spring 2008."
    assert len([k for k, _ in reply.frames if k == "message"]) >= 5  # streamed
    thread = reply.thread_id
    assert reply.refs("filter_assets") == ["r1"]
    assert reply.refs("search_text") == ["r2"]
    assert reply.refs("combine") == ["r3"]
    shown = [d for k, d in reply.frames if k == "side_event"
             and d["type"] == "widget_show"]
    assert shown[0]["data"] == {"thread_id": thread, "ref_id": "r3",
                                "widget": "asset_grid", "count": 1,
                                "title": "Canon, spring 2008"}
    assert len(reply.side(status="running")) == 4

    assert ref_names(lib, thread, "r1") == ["Canon_40D.jpg", "Pentax_K10D.jpg",
                                            "Nikon_D70.jpg"]
    assert set(ref_names(lib, thread, "r2")) == {"Canon_40D.jpg", "Canon_EOS_7D.jpg"}
    assert ref_names(lib, thread, "r3") == ["Canon_40D.jpg"]
    ref = lib.server.get(f"/agent/refs/r3?thread_id={thread}").json()
    assert ref["ref_id"] == "r3" and ref["count"] == 1 and ref["op"] == "combine"
    assert ref["facets"]["date_range"] == {"from": "2008-05-30", "to": "2008-05-30"}
    assert ref["facets"]["cameras"] == [{"name": "Canon EOS 40D", "count": 1}]
    assert ref["facets"]["types"] == {"PHOTO": 1}

    # The model was really asked, with the tools, and read the tools' answers.
    first, *_, last = model.chat_requests[-4:]
    assert first["stream"] is True
    assert {t["function"]["name"] for t in first["tools"]} >= {
        "filter_assets", "search_text", "combine", "show", "create_album"}
    answers = tool_messages(last)
    combined = next(a for a in answers if a["tool_call_id"].endswith("combine"))
    assert combined["content"]["ok"] is True
    assert combined["content"]["result"]["ref"] == "r3"
    assert combined["content"]["result"]["sample"][0]["file_name"] == "Canon_40D.jpg"


def test_the_conversation_goes_on_in_its_thread(lib, model):
    model.add(say("First."), say("Second."))
    first = chat(lib.server, {"query": "hello"})
    second = chat(lib.server, {"query": "and again", "thread_id": first.thread_id})
    assert (first.ended, second.ended) == ("done", "done")
    assert second.thread_id == first.thread_id
    roles = [(m["role"], m.get("content")) for m in
             model.chat_requests[-1]["messages"]]
    assert roles[0][0] == "system"
    assert roles[1:] == [("user", "hello"), ("assistant", "First."),
                         ("user", "and again")]


def test_an_album_is_made_only_after_confirmation(lib, model):
    server = lib.server
    before = server.get("/albums").json()["total"]
    model.add(call_tools(tool("filter_assets", {"date_from": "2008-01-01",
                                                "date_to": "2008-12-31"})),
              call_tools(tool("create_album", {"name": "Year 2008", "ref": "r1",
                                               "description": "All of 2008"})))
    asked = chat(server, {"query": "put my 2008 photos in an album"})

    assert asked.ended == "done", asked.frames
    [action] = asked.actions
    assert action["type"] == "confirmation_required"
    assert action["tool"] == "create_album"
    assert action["album_name"] == "Year 2008" and action["count"] == 5
    assert action["album_description"] == "All of 2008"
    assert action["thread_id"] == asked.thread_id
    assert asked.side("create_album", "awaiting_confirmation")
    assert server.get("/albums").json()["total"] == before  # nothing yet

    model.add(say("Your album is ready."))
    resumed = chat(server, {"thread_id": asked.thread_id,
                            "targets": {action["action_id"]: True}},
                   path="/agent/chat/resume")
    assert resumed.ended == "done", resumed.frames
    assert resumed.text == "Your album is ready."
    [done] = resumed.side("create_album", "succeeded")
    album_id = done["data"]["album_id"]
    assert done["data"]["added"] == 5
    members = server.get(f"/albums/{album_id}/assets").json()["assets"]
    assert names(lib, [a["asset_id"] for a in members]) == [
        "DSCN0010.jpg", "Panasonic_DMC-FZ30.jpg", "Canon_40D.jpg", "Pentax_K10D.jpg",
        "Nikon_D70.jpg"]
    outcome = next(a for a in tool_messages(model.chat_requests[-1])
               if a["tool_call_id"].endswith("create_album"))["content"]
    assert outcome["result"]["status"] == "done"

    # Answered once: a second answer finds nothing waiting.
    again = chat(server, {"thread_id": asked.thread_id,
                          "targets": {action["action_id"]: True}},
                 path="/agent/chat/resume")
    assert again.status == 400
    assert server.get("/albums").json()["total"] == before + 1


def test_a_declined_or_ignored_change_changes_nothing(lib, model):
    server = lib.server
    canon = lib.id("Canon_40D.jpg")
    model.add(call_tools(tool("bulk_like_assets", {"asset_ids": [canon]})),
              say("Alright, nothing changed."))
    asked = chat(server, {"query": "like the canon photo"})
    [action] = asked.actions
    assert action["summary"] == "Like 1 item" and action["liked"] is True
    declined = chat(server, {"thread_id": asked.thread_id,
                             "targets": {action["action_id"]: {"approved": False}}},
                    path="/agent/chat/resume")
    assert declined.ended == "done" and declined.side("bulk_like_assets", "declined")
    assert server.get(f"/assets/{canon}").json()["liked"] is False

    # A new message instead of an answer: the change is dropped, and the model is
    # told so before it reads the message.
    model.add(call_tools(tool("bulk_like_assets", {"asset_ids": [canon]})),
              say("Sure, something else then."))
    asked = chat(server, {"query": "like it", "thread_id": asked.thread_id})
    [action] = asked.actions
    moved_on = chat(server, {"query": "never mind", "thread_id": asked.thread_id})
    assert moved_on.ended == "done"
    messages = model.chat_requests[-1]["messages"]
    assert messages[-1] == {"role": "user", "content": "never mind"}
    assert tool_messages(model.chat_requests[-1])[-1]["content"]["result"][
        "status"] == "dismissed"
    assert server.get(f"/assets/{canon}").json()["liked"] is False
    late = chat(server, {"thread_id": asked.thread_id,
                         "targets": {action["action_id"]: True}},
                path="/agent/chat/resume")
    assert late.status == 400


def test_a_client_that_leaves_cancels_the_run(lib, model):
    import httpx

    server = lib.server
    model.add(slow("a long answer " * 20, pieces=60, delay=0.2))
    with httpx.stream("POST", server.base + "/api/v1/agent/chat",
                      json={"query": "tell me a long story"},
                      headers={"Authorization": f"Bearer {server.token}"},
                      timeout=60) as res:
        thread = res.headers["x-thread-id"]
        for line in res.iter_lines():
            if line.startswith("data:") and "output" in line:
                break  # the answer has started: leave
    assert model.gone.wait(30), "the model kept streaming to a cancelled run"

    # Nothing of the cut answer was kept, and the thread is free again.
    model.add(say("Short one."))
    deadline = time.monotonic() + 30
    reply = chat(server, {"query": "shorter please", "thread_id": thread})
    while reply.status == 409 and time.monotonic() < deadline:
        time.sleep(0.2)
        reply = chat(server, {"query": "shorter please", "thread_id": thread})
    assert reply.ended == "done", reply
    kept = [(m["role"], m["content"]) for m in model.chat_requests[-1]["messages"][1:]]
    assert kept == [("user", "tell me a long story"), ("user", "shorter please")]


def test_malformed_tool_arguments_go_back_to_the_model(lib, model):
    model.add(malformed("filter_assets", '{"date_from": "2019-'),
              call_tools(tool("filter_assets", {"rating": "five stars"})),
              call_tools(tool("no_such_tool", {})),
              say("Sorry, I could not search."))
    reply = chat(lib.server, {"query": "photos from 2019"})

    assert reply.ended == "done", reply.frames
    failed = reply.side(status="failed")
    assert len(failed) == 3
    assert "not valid JSON" in failed[0]["execution"]["error"]
    assert "rating" in failed[1]["execution"]["error"]
    assert "no tool named 'no_such_tool'" in failed[2]["execution"]["error"]
    answers = tool_messages(model.chat_requests[-1])[-3:]
    assert [a["content"]["ok"] for a in answers] == [False, False, False]
    # The broken call goes back to the model as valid JSON, with the error beside it.
    calls = [m for m in model.chat_requests[-1]["messages"] if m.get("tool_calls")]
    assert calls[-3]["tool_calls"][0]["function"]["arguments"] == "{}"


def test_bad_chat_requests_are_refused(lib, model):
    server = lib.server
    assert_error(server.post("/agent/chat", {}), 400)
    assert_error(server.post("/agent/chat", {"query": "  "}), 400)
    assert_error(server.post("/agent/chat", {"query": "x", "thread_id": "a b"}), 400)
    assert_error(server.post("/agent/chat", {"query": "x", "context": "all"}), 400)
    assert_error(server.post("/agent/chat/resume", {"thread_id": "t"}), 404)
    assert_error(server.post("/agent/chat", {"query": "x"}, token=None), 401)


def test_what_another_user_reaches(lib, model):
    server, bob = lib.server, lib.bob
    model.add(call_tools(tool("filter_assets", {})), say("All of them."))
    mine = chat(server, {"query": "everything"})
    pin = server.post("/agent/pins", {"ref_id": "r1", "thread_id": mine.thread_id})
    assert pin.status_code == 200, pin.text
    pin_id = pin.json()["pin_id"]
    thread = mine.thread_id

    assert_error(server.get(f"/agent/refs/r1?thread_id={thread}", token=bob), 404)
    assert_error(server.get(f"/agent/refs/r1/assets?thread_id={thread}",
                            token=bob), 404)
    assert_error(server.post("/agent/pins", {"ref_id": "r1", "thread_id": thread},
                             token=bob), 404)
    assert server.get("/agent/pins", token=bob).json() == []
    assert_error(server.get(f"/agent/pins/{pin_id}/assets", token=bob), 404)
    assert_error(server.request("DELETE", f"/agent/pins/{pin_id}", token=bob), 404)
    assert_error(server.request("PATCH", "/agent/pins/layout", token=bob, json={
        "layouts": [{"pin_id": pin_id, "x": 5}]}), 404)
    assert chat(server, {"thread_id": thread, "targets": {"x": True}}, token=bob,
                path="/agent/chat/resume").status == 404
    assert server.get(f"/agent/pins/{pin_id}/assets").status_code == 200
    # Thread ids are the clients' choice and each user's own: Alice's id in Bob's
    # hands starts a conversation of his, which holds nothing of hers.
    model.add(say("Hi Bob."))
    his_own = chat(server, {"query": "hi", "thread_id": thread}, token=bob)
    assert his_own.ended == "done" and his_own.thread_id == thread
    assert [m["role"] for m in model.chat_requests[-1]["messages"]] == [
        "system", "user"]

    # Bob's assistant finds Bob's photo and nothing of Alice's.
    model.add(call_tools(tool("filter_assets", {})), say("One."))
    his = chat(server, {"query": "everything"}, token=bob)
    found = server.get(f"/agent/refs/r1/assets?thread_id={his.thread_id}", token=bob)
    assert [a["asset_id"] for a in found.json()["assets"]] == [lib.bobs_asset]


def test_pins_frozen_and_live(lib, model):
    server = lib.server
    canon, nikon = lib.id("Canon_40D.jpg"), lib.id("Nikon_D70.jpg")
    model.add(call_tools(tool("filter_assets", {"liked": True})), say("Liked ones."))
    thread = chat(server, {"query": "my favourites"}).thread_id
    assert server.request("PUT", f"/assets/{canon}/like",
                          json={"liked": True}).status_code == 200

    frozen = server.post("/agent/pins", {"ref_id": "r1", "thread_id": thread,
                                         "title": "Favourites then"}).json()
    live = server.post("/agent/pins", {"ref_id": "r1", "thread_id": thread,
                                       "mode": "live", "widget": "asset_grid",
                                       "layout": {"x": 4, "y": 0, "w": 2, "h": 3}}
                       ).json()
    assert frozen["mode"] == "frozen" and frozen["title"] == "Favourites then"
    assert frozen["count"] == 0 and frozen["layout"]["w"] == 4
    assert live["mode"] == "live" and live["layout"] == {"x": 4, "y": 0, "w": 2, "h": 3}

    def shown(pin):
        res = server.get(f"/agent/pins/{pin['pin_id']}/assets?limit=10")
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["pagination"] == {"limit": 10, "offset": 0}
        return [a["asset_id"] for a in body["assets"]]

    assert shown(frozen) == []
    assert shown(live) == [canon]  # the plan ran again
    server.request("PUT", f"/assets/{nikon}/like", json={"liked": True})
    assert set(shown(live)) == {canon, nikon}
    listed = {p["pin_id"]: p for p in server.get("/agent/pins").json()}
    assert listed[live["pin_id"]]["count"] == 2

    moved = server.request("PATCH", "/agent/pins/layout", json={"layouts": [
        {"pin_id": frozen["pin_id"], "x": 1, "y": 2, "w": 3, "h": 4}]})
    assert moved.status_code == 200 and moved.json()["message"]
    listed = {p["pin_id"]: p for p in server.get("/agent/pins").json()}
    assert listed[frozen["pin_id"]]["layout"] == {"x": 1, "y": 2, "w": 3, "h": 4}
    assert_error(server.request("PATCH", "/agent/pins/layout", json={"layouts": [
        {"pin_id": frozen["pin_id"], "w": 0}]}), 400)
    assert_error(server.post("/agent/pins", {"ref_id": "r9", "thread_id": thread}),
                 404)
    assert_error(server.post("/agent/pins", {"ref_id": "r1", "thread_id": thread,
                                             "mode": "sometimes"}), 400)

    assert server.request("DELETE", f"/agent/pins/{frozen['pin_id']}").status_code \
        == 200
    assert_error(server.get(f"/agent/pins/{frozen['pin_id']}/assets"), 404)
    for asset_id in (canon, nikon):
        server.request("PUT", f"/assets/{asset_id}/like", json={"liked": False})

"""Attacks on the assistant and on cloud import, through real servers on loopback:
hostile requests, a hostile or broken model, another user's ids, odd WebDAV
listings, and accounts changed while their import runs.
"""

from __future__ import annotations

import html
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import httpx
import pytest
from cheroot import wsgi

from agentkit import Reply, chat, point_at, read_frames, tool_messages
from cloud_servers import WebDAVServer
from scripted_llm import ScriptedModel, call_tools, say, slow, tool
from serverkit import MEDIA, free_port
from two_users import assert_error, start_library

from lumilio import outbound
from lumilio.agent import completions, llm, runs, threads, tools
from lumilio.agent.tools import registry
from lumilio.auth.principal import Principal
from lumilio.cloud import providers
from lumilio.cloud.providers.base import InvalidInput
from lumilio.config import load
from lumilio.errors import BadRequest
from lumilio.server import build_context
from lumilio.timeutil import now_iso

PHOTOS = ["jpeg/Canon_40D.jpg", "jpeg/Nikon_D70.jpg"]
SECRET = "Open-Sesame-42"


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    library = start_library(tmp_path_factory.mktemp("attacks"), PHOTOS)
    yield library
    library.server.stop()


@pytest.fixture
def model(lib):
    with ScriptedModel() as scripted:
        point_at(lib.server, scripted)
        yield scripted
    assert scripted.turns == [], "turns left unused"


def raw_post(server, path: str, body: bytes, token: str | None = "default",
             method: str = "POST") -> httpx.Response:
    """A request whose body is sent byte for byte (JSON a client library would
    refuse to write, such as a lone surrogate escape)."""
    return server.request(method, path, token=token, content=body,
                          headers={"content-type": "application/json"})


def raw_chat(server, body: bytes, token: str) -> Reply:
    with httpx.stream("POST", server.base + "/api/v1/agent/chat", content=body,
                      headers={"Authorization": f"Bearer {token}",
                               "content-type": "application/json"},
                      timeout=120) as res:
        if res.status_code != 200:
            res.read()
            return Reply(res.status_code, error_body=res.json())
        return Reply(200, read_frames(res.iter_lines()), res.headers["x-thread-id"])


# -- a model server that streams whatever bytes it is given ----------------------------


class RawModel:
    """Answers each chat completion with the next body, byte for byte: a stream,
    or an error when the body is a (status, JSON object) pair."""

    def __init__(self, bodies: list[bytes | tuple[int, dict]]):
        self.bodies = list(bodies)
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                body = owner.bodies.pop(0) if owner.bodies else b"data: [DONE]\n\n"
                status, kind = 200, "text/event-stream"
                if isinstance(body, tuple):
                    status, kind = body[0], "application/json"
                    body = json.dumps(body[1]).encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def point_raw(server, raw: RawModel) -> None:
    res = server.request("PATCH", "/settings/system", json={"llm": {
        "provider": "ollama", "base_url": raw.base_url, "model_name": "tiny",
        "agent_enabled": True}})
    assert res.status_code == 200, res.text


def frame(delta: dict, finish: str | None = None) -> bytes:
    chunk = {"id": "raw", "object": "chat.completion.chunk", "created": 0,
             "model": "tiny", "choices": [{"index": 0, "delta": delta,
                                           "finish_reason": finish}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def answer(text: str) -> bytes:
    return frame({"content": text}) + frame({}, "stop") + b"data: [DONE]\n\n"


# -- the assistant's API ---------------------------------------------------------------


BAD_AGENT_REQUESTS = [
    ("POST", "/agent/chat", b"{not json"),
    ("POST", "/agent/chat", b"[1, 2]"),
    ("POST", "/agent/chat", b'{"query": 5}'),
    ("POST", "/agent/chat", b'{"query": "' + b"x" * 5000 + b'"}'),
    ("POST", "/agent/chat", b'{"query": "x", "thread_id": "../../etc"}'),
    ("POST", "/agent/chat", b'{"query": "x", "context": [{"asset_ids": {"a": 1}}]}'),
    ("POST", "/agent/chat", b'{"query": "x", "mentions": [{"label": 3}]}'),
    ("POST", "/agent/chat", b"[" * 50000 + b"]" * 50000),
    ("POST", "/agent/chat/resume", b""),
    ("POST", "/agent/chat/resume", b'{"thread_id": 7, "targets": {}}'),
    ("GET", "/agent/refs/r1", b""),
    ("GET", "/agent/pins?limit=-1", b""),
    ("GET", "/agent/pins?offset=99999999999999999999999", b""),
    ("GET", "/agent/pins/x/assets?limit=abc", b""),
    ("POST", "/agent/pins", b'{"ref_id": 3, "thread_id": "t"}'),
    ("POST", "/agent/pins", b'{"ref_id": "r1", "thread_id": "t", "layout": "big"}'),
    ("POST", "/agent/pins",
     b'{"ref_id": "r1", "thread_id": "t", "layout": {"x": 1e400}}'),
    ("POST", "/agent/pins", b'{"ref_id": "r1", "thread_id": "t", "mode": ["live"]}'),
    ("POST", "/agent/pins", b'{"ref_id": "r1", "thread_id": "t", "title": "a\\nb"}'),
    ("PATCH", "/agent/pins/layout", b'{"layouts": {"pin_id": "p"}}'),
    ("PATCH", "/agent/pins/layout", b'{"layouts": [{"pin_id": "p", "x": NaN}]}'),
    ("PATCH", "/agent/pins/layout",
     b'{"layouts": [{"pin_id": "p", "w": 100000000000000000000000}]}'),
    ("PATCH", "/settings/system", b'{"llm": {"base_url": "file:///etc/passwd"}}'),
    ("PATCH", "/settings/system", b'{"llm": {"agent_enabled": "yes"}}'),
    ("POST", "/settings/system/validate-llm", b'{"provider": "skynet"}'),
]


@pytest.mark.parametrize("method, path, body", BAD_AGENT_REQUESTS,
                         ids=[f"{m} {p} {b[:30]!r}" for m, p, b in BAD_AGENT_REQUESTS])
def test_hostile_agent_requests_are_clean_client_errors(lib, model, method, path,
                                                        body):
    res = raw_post(lib.server, path, body, method=method)
    assert 400 <= res.status_code < 500, res.text
    assert set(res.json()) == {"code", "message", "error"}
    assert res.json()["code"] == res.status_code


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/agent/chat", b'{"query": "hello \\ud800 there"}'),
    ("PATCH", "/settings/system", b'{"llm": {"model_name": "tiny\\ud800"}}'),
], ids=["chat query", "model name"])
def test_a_lone_surrogate_is_a_client_error(lib, model, method, path, body):
    assert_error(raw_post(lib.server, path, body, method=method), 400)


def test_a_model_name_that_fails_leaves_the_settings_readable(server):
    raw_post(server, "/settings/system", b'{"llm": {"model_name": "m\\ud800"}}',
             method="PATCH")
    assert server.get("/capabilities", token=None).status_code == 200
    assert server.get("/settings/system").status_code == 200


def test_a_lone_surrogate_in_a_mention_does_not_break_the_conversation(lib, model):
    model.add(say("First."), say("Second."))
    first = raw_chat(lib.server, b'{"query": "hi", "mentions": [{"type": "album",'
                     b' "label": "trip \\ud800"}]}', lib.server.token)
    later = chat(lib.server, {"query": "and now?", "thread_id": first.thread_id})
    model.turns.clear()  # what is left when the defect is there
    assert later.ended == "done", later.frames


def test_another_users_threads_refs_and_actions_stay_out_of_reach(lib, model):
    server, bob = lib.server, lib.bob
    canon = lib.id("Canon_40D.jpg")
    model.add(call_tools(tool("filter_assets", {})),
              call_tools(tool("bulk_like_assets", {"ref": "r1"})))
    alices = chat(server, {"query": "like everything"})
    [action] = alices.actions
    thread = alices.thread_id

    # Bob cannot answer, read or pin anything of Alice's conversation.
    resumed = chat(server, {"thread_id": thread,
                            "targets": {action["action_id"]: True}},
                   token=bob, path="/agent/chat/resume")
    assert resumed.status == 404
    assert_error(server.get(f"/agent/refs/r1?thread_id={thread}", token=bob), 404)
    # Nor with Alice's action id in a conversation of his own.
    model.add(call_tools(tool("bulk_like_assets", {"asset_ids": [lib.bobs_asset]})))
    his = chat(server, {"query": "like mine"}, token=bob)
    assert len(his.actions) == 1
    foreign = chat(server, {"thread_id": his.thread_id,
                            "targets": {action["action_id"]: True}},
                   token=bob, path="/agent/chat/resume")
    assert foreign.status == 400
    assert server.get(f"/assets/{canon}").json()["liked"] is False

    # A ref belongs to its conversation: r1 of one thread is not r1 of another.
    model.add(say("Hello."))
    other = chat(server, {"query": "hello"})
    assert_error(server.get(f"/agent/refs/r1?thread_id={other.thread_id}"), 404)
    assert_error(server.post("/agent/pins", {"ref_id": "r1",
                                             "thread_id": other.thread_id}), 404)

    # Alice declines; nothing was liked on the way.
    model.add(say("Fine."))
    declined = chat(server, {"thread_id": thread,
                             "targets": {action["action_id"]: False}},
                    path="/agent/chat/resume")
    assert declined.ended == "done", declined.frames
    assert server.get(f"/assets/{canon}").json()["liked"] is False


def test_hostile_tool_calls_change_nothing_and_show_the_model_nothing_of_others(
        lib, model):
    server, bob = lib.server, lib.bob
    canon = lib.id("Canon_40D.jpg")
    album = server.post("/albums", {"album_name": "Alice private trip"}).json()
    server.post(f"/albums/{album['album_id']}/assets/{canon}", {})
    hostile = [
        tool("filter_assets", {"album_id": album["album_id"]}),
        tool("filter_assets", {"file_name": "'; DROP TABLE assets; --"}),
        tool("inspect", {"asset_id": canon}),
        tool("peek", {"ref": "r1", "offset": 10**12}),
        tool("add_to_album", {"album_id": album["album_id"],
                              "asset_ids": [lib.bobs_asset]}),
        tool("bulk_like_assets", {"asset_ids": [canon]}),
        tool("create_album", {"name": "Mine now", "asset_ids": [canon]}),
        tool("lookup_albums", {}),
        tool("delete_assets", {"ref": "r1"}),
        tool("show", {"ref": "r1; DROP TABLE agent_refs"}),
    ]
    model.add(call_tools(*hostile), say("Done."))
    reply = chat(server, {"query": "take Alice's photos",
                          "context": [{"type": "selection", "asset_ids": [canon]}]},
                 token=bob)

    assert reply.ended == "done", reply.frames
    [proposed] = reply.actions
    assert proposed["tool"] == "create_album" and proposed["count"] == 0
    worked = [d["tool"]["name"] for d in reply.side(status="succeeded")]
    assert worked == ["filter_assets", "peek", "lookup_albums"]
    # Declined, the conversation goes on and the model reads every tool's answer.
    declined = chat(server, {"thread_id": reply.thread_id,
                             "targets": {proposed["action_id"]: False}},
                    token=bob, path="/agent/chat/resume")
    assert declined.ended == "done", declined.frames
    assert len(tool_messages(model.chat_requests[-1])) == len(hostile)
    # The ids the model itself wrote come back in its own messages; everything
    # else it reads (tool answers, the attached selection) holds nothing of Alice's.
    sent = json.dumps([m for r in model.chat_requests for m in r["messages"]
                       if m["role"] != "assistant"])
    for alices in (canon, lib.id("Nikon_D70.jpg"), "Canon_40D", "Nikon_D70",
                   "Alice private trip"):
        assert alices not in sent, alices

    members = server.get(f"/albums/{album['album_id']}/assets").json()["assets"]
    assert [a["asset_id"] for a in members] == [canon]
    assert server.get(f"/assets/{canon}").json()["liked"] is False
    assert len(server.assets()) == len(PHOTOS) + 1  # nothing deleted


def test_huge_ids_from_the_model_are_argument_errors(tmp_path):
    ctx = build_context(load({"data_dir": tmp_path / "data"}, environ={}))
    try:
        stamp = now_iso()
        user_id = ctx.catalog.write(lambda conn: (conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at,"
            " updated_at) VALUES ('kim', 'x', 'user', ?, ?)", (stamp, stamp)),
            conn.last_insert_rowid())[1])
        who = Principal(user_id, "kim", "user")
        thread = threads.open_thread(ctx, who, None, "test")["thread_id"]
        call = registry.Call(ctx, who, thread, "call_1")
        assert tools.run(call, "filter_assets", "{}").ref.ref_id == "r1"
        huge, past = 10**30, 2**63  # past: one more than SQLite's largest integer
        for name, arguments, where in (
                ("filter_assets", {"album_id": huge}, "album_id"),
                ("filter_assets", {"person_id": past}, "person_id"),
                ("filter_assets", {"album_id": 0}, "album_id"),
                ("add_to_album", {"album_id": -huge, "asset_ids": []}, "album_id"),
                ("search_people", {"person_ids": [1, huge]}, "person_ids.1"),
                ("peek", {"ref": "r1", "offset": past}, "offset"),
                ("peek", {"ref": "r1", "offset": -1}, "offset"),
                ("sample", {"ref": "r1", "n": 2, "seed": -huge}, "seed"),
                ("lookup_albums", {"limit": huge}, "limit")):
            outcome = tools.run(call, name, json.dumps(arguments))
            assert outcome.error, (name, arguments, outcome)
            assert outcome.error.startswith("The arguments do not fit the tool: "
                                            + where), outcome.error
        # SQLite's largest integer is an id like any other: one that names nothing.
        outcome = tools.run(call, "filter_assets", json.dumps({"album_id": past - 1}))
        assert outcome.error == "Album not found", outcome
    finally:
        ctx.catalog.close()


def raw_frame(payload: object) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


GARBAGE = {
    "frames that are not JSON": b"data: {not json}\n\n",
    "bytes that are not UTF-8": b"\xff\xfe not text\n\n",
    "a frame that is a list": raw_frame([1, 2]),
    "choices that are text": raw_frame({"choices": "abc"}),
    "a delta that is text": raw_frame({"choices": [{"index": 0, "delta": "hi"}]}),
    "content that is a number": frame({"content": 5}),
    "a lone surrogate in the content": frame({"content": "a\ud800b"}),
    "a tool call whose index is a word": frame({"tool_calls": [
        {"index": "first", "function": {"name": "peek", "arguments": "{}"}}]}),
    "a finish reason that is a list": frame({}, ["stop"]),
}


def log_since(server, start: int) -> str:
    return server.log_path.read_bytes()[start:].decode(errors="replace")


def test_a_model_that_streams_garbage_is_told_apart(lib, model):
    start = lib.server.log_path.stat().st_size
    with RawModel(list(GARBAGE.values())) as raw:
        point_raw(lib.server, raw)
        try:
            replies = {what: chat(lib.server, {"query": "hi"}) for what in GARBAGE}
        finally:
            point_at(lib.server, model)

    for what, reply in replies.items():
        assert reply.ended == "error", (what, reply.frames)
        error = reply.frames[-1][1]["error"]
        assert error.startswith(f"The answer of the model server at "
                                f"{raw.base_url.removesuffix('/v1')} could not be "
                                "read"), (what, error)
    # One line each for the person running the server, and no traceback.
    logged = log_since(lib.server, start)
    assert logged.count("could not be read") == len(GARBAGE), logged
    assert "Traceback" not in logged and "unexpectedly" not in logged


def test_a_model_that_ignores_the_turn_limit_is_cut(make_server):
    server = make_server(LUMILIO_AGENT_COMPLETION_TOKENS="64").start()
    server.sign_up()
    bound = 64 * completions.CHARS_PER_TOKEN_MAX
    flood = frame({"tool_calls": [
        {"index": n, "id": f"call_{n}", "function": {"name": "lookup_albums",
                                                     "arguments": "{}"}}
        for n in range(10_000)]}) + frame({}, "tool_calls") + b"data: [DONE]\n\n"
    with RawModel([answer("blah " * 60_000), answer("Short."),
                   frame({"reasoning_content": "hmm " * 60_000}), flood]) as raw:
        point_raw(server, raw)
        reply = chat(server, {"query": "say a lot"})
        later = chat(server, {"query": "and now?", "thread_id": reply.thread_id})
        thinking = chat(server, {"query": "think a lot"})
        calling = chat(server, {"query": "call a lot"})

    assert reply.ended == "error", reply.frames[-1]
    error = reply.frames[-1][1]["error"]
    assert error == "The answer was cut at the limit of 64 tokens"
    assert 0 < len(reply.text) <= bound
    # What is kept, and sent to the model again, is what the user saw.
    assert later.ended == "done" and later.text == "Short."
    kept = [m["content"] for m in raw.requests[1]["messages"]
            if m["role"] == "assistant"]
    assert kept == [reply.text]
    # Reasoning and tool calls count as much as the answer.
    shown = "".join(d.get("reasoning", "") for k, d in thinking.frames
                    if k == "message")
    assert thinking.ended == "error" and len(shown) <= bound
    assert calling.ended == "error", calling.frames[-1]
    assert calling.side() == []  # calls cut in the middle: none of them ran
    assert len(raw.requests) == 4


@pytest.mark.parametrize("usage", [-10**9, 0, "110", None],
                         ids=["negative", "zero", "text", "null"])
def test_a_model_that_under_reports_its_usage_still_meets_the_budget(make_server,
                                                                     usage):
    server = make_server(LUMILIO_AGENT_RUN_TOKENS="100").start()
    server.sign_up()
    step = (frame({"tool_calls": [{"index": 0, "id": "c1", "function": {
                "name": "lookup_albums", "arguments": "{}"}}]})
            + frame({}, "tool_calls")
            + raw_frame({"choices": [], "usage": {"total_tokens": usage}})
            + b"data: [DONE]\n\n")
    with RawModel([step, step, step, answer("Done.")]) as raw:
        point_raw(server, raw)
        reply = chat(server, {"query": "loop"})
    # The system prompt alone is more than 100 tokens: the first step spends the
    # budget whatever the server says it used.
    assert reply.ended == "error", reply.frames
    assert "budget of 100 tokens" in reply.frames[-1][1]["error"]
    assert len(raw.requests) == 1


def test_a_step_runs_a_bounded_number_of_tool_calls(lib, model):
    asked = 3 * runs.TOOL_CALLS_MAX
    model.add(call_tools(*[tool("lookup_albums", {})] * asked), say("Done."))
    reply = chat(lib.server, {"query": "look everywhere"})

    assert reply.ended == "done", reply.frames
    assert len(reply.side("lookup_albums", "succeeded")) == runs.TOOL_CALLS_MAX
    answers = tool_messages(model.chat_requests[-1])
    assert len(answers) == asked  # every call is answered, as the protocol wants
    refused = [a for a in answers if "Not run" in json.dumps(a["content"])]
    assert len(refused) == asked - runs.TOOL_CALLS_MAX
    assert answers[-1] in refused


# -- what a failing model server tells whom --------------------------------------------


def test_a_model_server_that_cannot_be_used_is_named_to_admins_only(lib, model):
    server = lib.server
    closed = f"http://127.0.0.1:{free_port()}"
    start = server.log_path.stat().st_size
    res = server.request("PATCH", "/settings/system",
                         json={"llm": {"base_url": closed + "/v1"}})
    assert res.status_code == 200, res.text
    try:
        admins = chat(server, {"query": "hi"})
        users = chat(server, {"query": "hi"}, token=lib.bob)
    finally:
        point_at(server, model)

    assert admins.ended == users.ended == "error"
    assert admins.frames[-1][1]["error"].startswith(
        f"Could not connect to the model server at {closed}. ")
    assert users.frames[-1][1] == {"error": llm.FOR_USERS}
    assert "127.0.0.1" not in json.dumps(users.frames)
    logged = log_since(server, start)
    assert logged.count(f"Could not connect to the model server at {closed}") == 2
    assert "Traceback" not in logged


def test_no_message_or_log_shows_the_credentials_of_a_model_url(caplog):
    secrets = ("Hunter2-x", "me-myself", "sk-do-not-show")
    # The server echoes the key it refused, as some hosted services do.
    refusal = (401, {"error": {"message": f"Incorrect API key: {secrets[2]}"}})
    closed = f"127.0.0.1:{free_port()}"
    said = []
    with RawModel([refusal]) as raw, caplog.at_level(logging.INFO, "lumilio"):
        listening = raw.base_url.removeprefix("http://").removesuffix("/v1")
        for where in (listening, closed):
            settings = llm.ModelSettings(
                "ollama", "tiny", f"http://{secrets[1]}:{secrets[0]}@{where}/v1",
                secrets[2])
            with pytest.raises(BadRequest) as refused:
                llm.check(settings, 5)
            said.append(refused.value)

    assert said[0].message == "The model server refused the API key (401)"
    assert said[0].detail == "Incorrect API key: ***"
    assert said[1].message.startswith(f"Could not connect to the model server at "
                                      f"http://{closed}. ")
    assert said[1].detail == "Connection refused"
    assert f"http://{listening}" in caplog.text and f"http://{closed}" in caplog.text
    everything = " ".join(f"{e.message} {e.detail}" for e in said) + caplog.text
    for secret in secrets:
        assert secret not in everything


def test_a_thread_id_tells_nothing_of_other_users(lib, model):
    server, bob = lib.server, lib.bob
    model.add(say("Hello Alice."))
    alices = chat(server, {"query": "alices plans", "thread_id": "kept-by-alice"})
    assert alices.ended == "done"

    # Alice's id in Bob's hands is a new conversation of his, as an unused id is.
    model.add(say("Hello Bob."), say("Hello again, Bob."))
    taken = chat(server, {"query": "bobs question", "thread_id": "kept-by-alice"},
                 token=bob)
    unused = chat(server, {"query": "bobs question", "thread_id": "used-by-none"},
                  token=bob)
    for reply, thread in ((taken, "kept-by-alice"), (unused, "used-by-none")):
        assert reply.ended == "done" and reply.thread_id == thread
        assert reply.frames[-1][1] == {"thread_id": thread}
    first, second = model.chat_requests[-2:]
    assert first["messages"][1:] == second["messages"][1:]
    assert "alices plans" not in json.dumps(first)

    # Whatever else Bob asks of an id of Alice's answers as for an unused one.
    model.add(say("Hello."))
    assert chat(server, {"query": "x", "thread_id": "alice-only"}).ended == "done"
    for path in ("/agent/refs/r1?thread_id={}", "/agent/refs/r1/assets?thread_id={}"):
        assert (server.get(path.format("alice-only"), token=bob).json()
                == server.get(path.format("never-seen"), token=bob).json())
    resumed = [chat(server, {"thread_id": t, "targets": {"a": True}}, token=bob,
                    path="/agent/chat/resume") for t in ("alice-only", "never-seen")]
    assert resumed[0].status == resumed[1].status == 404
    assert resumed[0].error_body == resumed[1].error_body

    # Alice's conversation went on untouched by Bob's of the same id.
    model.add(say("Still here."))
    again = chat(server, {"query": "and?", "thread_id": "kept-by-alice"})
    assert again.ended == "done"
    sent = json.dumps(model.chat_requests[-1]["messages"])
    assert "alices plans" in sent and "bobs question" not in sent


def test_a_busy_thread_of_another_user_does_not_show(lib, model):
    server = lib.server
    model.add(slow("Taking my time. " * 10, pieces=100, delay=0.2), say("Hi Bob."))
    with httpx.stream("POST", server.base + "/api/v1/agent/chat",
                      json={"query": "slowly", "thread_id": "one-at-a-time"},
                      headers={"Authorization": f"Bearer {server.token}"},
                      timeout=120) as alices:
        lines = alices.iter_lines()
        # Once the first words arrive, Alice's run is under way.
        assert any(line.startswith("event: message") for line in lines)
        busy = chat(server, {"query": "hi", "thread_id": "one-at-a-time"})
        bobs = chat(server, {"query": "hi", "thread_id": "one-at-a-time"},
                    token=lib.bob)
    assert busy.status == 409
    assert bobs.ended == "done" and bobs.text == "Hi Bob."
    assert model.gone.wait(60)


def test_a_model_url_with_a_password_is_refused(lib, model):
    # A base URL with a user name and password would be shown in the settings,
    # written to the log and sent to every user in the chat's error messages.
    with_password = model.base_url.replace("http://", "http://me:Hunter2-x@")
    for method, path, body in (
            ("PATCH", "/settings/system", {"llm": {"base_url": with_password}}),
            ("POST", "/settings/system/validate-llm", {
                "provider": "ollama", "model_name": "tiny",
                "base_url": with_password})):
        error = assert_error(lib.server.request(method, path, json=body), 400)
        assert "API key field" in error["error"], error
        assert "Hunter2-x" not in json.dumps(error)
    settings = lib.server.get("/settings/system").json()
    assert settings["llm"]["base_url"] == model.base_url
    assert model.chat_requests == []


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/v1", "http://0xa9fea9fe/v1", "http://2852039166/v1",
    "http://[::ffff:169.254.169.254]/v1", "http://[fe80::1]:8080/v1",
])
def test_a_model_url_at_a_link_local_address_is_refused(server, url):
    # Checked in-process first: validate-llm below must never get as far as a
    # request, so the test stops here should the check let the address through.
    with pytest.raises(outbound.Refused):
        outbound.check_url(url, "base URL")

    res = server.request("PATCH", "/settings/system", json={"llm": {
        "agent_enabled": False, "base_url": url}})
    assert "link-local" in assert_error(res, 400)["error"]
    res = server.post("/settings/system/validate-llm", {
        "provider": "ollama", "model_name": "tiny", "base_url": url})
    assert "link-local" in assert_error(res, 400)["error"]
    assert "base_url" not in server.get("/settings/system").json()["llm"]


def test_a_model_server_on_this_machine_or_the_lan_is_allowed(server):
    # Only stored, never used: the assistant stays off on this server.
    for url in ("http://127.0.0.1:11434/v1", "http://localhost:8080/v1",
                "http://192.168.1.20:8080/v1", "http://[::1]:8080/v1",
                "https://llm.home.arpa/v1"):
        res = server.request("PATCH", "/settings/system", json={"llm": {
            "agent_enabled": False, "base_url": url}})
        assert res.status_code == 200, res.text
        assert res.json()["llm"]["base_url"] == url


# -- cloud import ----------------------------------------------------------------------


def multistatus(entries: list[tuple[str, str, int | None]]) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:">']
    for number, (href, kind, size) in enumerate(entries):
        kind_xml = ("<d:resourcetype><d:collection/></d:resourcetype>"
                    if kind == "dir" else "<d:resourcetype/>")
        size_xml = ("" if size is None
                    else f"<d:getcontentlength>{size}</d:getcontentlength>")
        parts.append(
            f"<d:response><d:href>{html.escape(href)}</d:href><d:propstat><d:prop>"
            f"{kind_xml}{size_xml}<d:getetag>\"v{number}\"</d:getetag></d:prop>"
            "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>")
    parts.append("</d:multistatus>")
    return "".join(parts).encode()


class CraftedDAV:
    """A WebDAV server that answers PROPFIND with the listings it is given (hrefs as
    written), GET with the bytes given, and the redirects given; it records every
    request."""

    def __init__(self, listings: dict, files: dict | None = None,
                 redirects: dict | None = None):
        self.listings = listings
        self.files = files or {}
        self.redirects = redirects or {}
        self.seen: list[tuple[str, str]] = []
        self._server = wsgi.Server(("127.0.0.1", 0), self._app)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.bind_addr[1]}/"

    def _app(self, environ: dict, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.seen.append((method, path))
        folder = path.rstrip("/") + "/"
        if path in self.redirects or folder in self.redirects:
            target = self.redirects.get(path) or self.redirects[folder]
            start_response("307 Temporary Redirect", [("Location", target),
                                                      ("Content-Length", "0")])
            return [b""]
        if method == "PROPFIND" and folder in self.listings:
            body = multistatus(self.listings[folder])
            start_response("207 Multi-Status", [("Content-Type", "application/xml"),
                                                ("Content-Length", str(len(body)))])
            return [body]
        if method == "GET" and path in self.files:
            body = self.files[path]
            start_response("200 OK", [("Content-Length", str(len(body)))])
            return [body]
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]

    def __enter__(self) -> Self:
        self._server.prepare()
        threading.Thread(target=self._server.serve, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()


def import_run(server, credential_id: str, name: str) -> tuple[dict, dict]:
    made = server.post("/repositories", {"name": name,
                                         "cloud_credential_id": credential_id})
    assert made.status_code == 200, made.text
    assert "cloud_import_run_id" in made.json(), made.json()
    return made.json()["repository"], made.json()


def test_cloud_routes_answer_only_admins(server):
    bob = server.register("bob")
    some = "00000000-0000-4000-8000-000000000000"
    for method, path in (("GET", "/cloud/providers"), ("GET", "/cloud/credentials"),
                         ("POST", "/cloud/credentials"),
                         ("DELETE", f"/cloud/credentials/{some}"),
                         ("POST", f"/cloud/credentials/{some}/auth-challenge"),
                         ("POST", f"/cloud/credentials/{some}/disconnect"),
                         ("POST", f"/cloud/credentials/{some}/reconnect"),
                         ("GET", f"/cloud/import-runs/{some}"), ("POST", "/cloud/sync"),
                         ("GET", f"/repositories/{some}/cloud"),
                         ("POST", f"/repositories/{some}/cloud/import"),
                         ("POST", "/repositories")):
        res = server.request(method, path, token=bob, json={
            "name": "Mine", "cloud_credential_id": some, "provider": "webdav",
            "inputs": {"url": "http://127.0.0.1:9/"}})
        assert assert_error(res, 403)["message"] == "Admin access required", path
    assert_error(server.get("/cloud/import-runs/not-a-uuid"), 400)
    assert_error(server.get("/repositories/not-a-uuid/cloud"), 400)


def test_an_odd_webdav_listing_writes_only_inside_the_repository(server, tmp_path):
    canon = (MEDIA / "jpeg/Canon_40D.jpg").read_bytes()
    nikon = (MEDIA / "jpeg/Nikon_D70.jpg").read_bytes()
    kodak = (MEDIA / "jpeg/Kodak_CX7530.jpg").read_bytes()
    long_name = "L" * 300 + ".jpg"
    with CraftedDAV({"/": [("/", "dir", None), ("/elsewhere.jpg", "file", 9)]},
                    {"/elsewhere.jpg": canon}) as elsewhere:
        listing = [
            ("/photos/", "dir", None),
            ("/photos/..%2F..%2F..%2Fescape.jpg", "file", len(canon)),
            ("/photos/..%5C..%5Cwindows.jpg", "file", len(nikon)),
            ("/photos/" + long_name, "file", len(kodak)),
            ("/photos/empty.jpg", "file", 0),
            ("/photos/grows.jpg", "file", 10),
            ("/photos/notes.txt", "file", 5),
            (elsewhere.url + "elsewhere.jpg", "file", len(canon)),
            ("/photos/loop/", "dir", None),
        ]
        loop = [("/photos/loop/", "dir", None), ("/photos/loop/../../", "dir", None)]
        files = {"/photos/..%2F..%2F..%2Fescape.jpg": canon, "/escape.jpg": canon,
                 "/photos/..%5C..%5Cwindows.jpg": nikon, "/photos/" + long_name: kodak,
                 "/photos/empty.jpg": b"", "/photos/grows.jpg": canon,
                 "/photos/notes.txt": b"notes"}
        with CraftedDAV({"/photos/": listing, "/photos/loop/": loop}, files) as dav:
            res = server.post("/cloud/credentials", {"provider": "webdav", "inputs": {
                "url": dav.url + "photos/", "username": "alice", "password": SECRET,
                "unexpected": "ignored"}})
            assert res.status_code == 200, res.text
            repository, made = import_run(server, res.json()["credential"]["id"],
                                          "Crafted")
            server.wait_idle()
        assert elsewhere.seen == []

    run = server.get(f"/cloud/import-runs/{made['cloud_import_run_id']}").json()
    assert run["status"] == "completed", run
    errors = {e["name"]: e["error"] for e in run["item_errors"]}
    assert errors["empty.jpg"] == "the file is empty"
    assert "announced 10" in errors["grows.jpg"]
    # Listed outside the folder, or on another server: counted, never fetched.
    for name in ("escape.jpg", "windows.jpg", "elsewhere.jpg"):
        assert errors[name].endswith("it is not imported"), errors

    inbox = Path(repository["path"]).resolve() / "inbox"
    written = [p.resolve() for p in tmp_path.rglob("*") if p.is_file()
               and p.name.startswith(("escape", "windows", "elsewhere", "LLLL"))]
    assert written and all(inbox in p.parents for p in written), written
    data = Path(server.data_dir)
    for asset in server.assets(repository_id=repository["id"]):
        assert asset["storage_path"].startswith("inbox/"), asset["storage_path"]
        assert "/" not in asset["original_filename"]
        assert "\\" not in asset["original_filename"]
        assert len(asset["original_filename"].encode()) <= 255
    for path in data.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET.encode() not in server.log_path.read_bytes()


def test_a_webdav_listing_is_not_redirected_to_another_server(server):
    # A redirect would let the server choose where the password goes next; none
    # is followed, not even one on the same server.
    with CraftedDAV({"/photos/": [("/photos/", "dir", None)]}) as other:
        with CraftedDAV({"/moved/": [("/moved/", "dir", None)]},
                        redirects={"/photos/": other.url + "photos/",
                                   "/here/": "/moved/"}) as dav:
            for folder in ("photos/", "here/"):
                res = server.post("/cloud/credentials", {
                    "provider": "webdav", "inputs": {
                        "url": dav.url + folder, "username": "alice",
                        "password": SECRET}})
                error = assert_error(res, 400)["error"]
                assert "redirects are not followed" in error, error
            assert ("PROPFIND", "/moved/") not in dav.seen
        assert other.seen == []
    assert server.get("/cloud/credentials").json() == {"credentials": []}


def test_a_webdav_download_is_not_redirected(server):
    canon = (MEDIA / "jpeg/Canon_40D.jpg").read_bytes()
    with CraftedDAV({"/": [("/", "dir", None)]}, {"/a.jpg": canon}) as other:
        listing = [("/photos/", "dir", None), ("/photos/a.jpg", "file", len(canon)),
                   ("/photos/b.jpg", "file", len(canon))]
        with CraftedDAV({"/photos/": listing}, {"/photos/b.jpg": canon},
                        redirects={"/photos/a.jpg": other.url + "a.jpg"}) as dav:
            res = server.post("/cloud/credentials", {"provider": "webdav", "inputs": {
                "url": dav.url + "photos/", "username": "alice", "password": SECRET}})
            assert res.status_code == 200, res.text
            repository, made = import_run(server, res.json()["credential"]["id"],
                                          "Redirected")
            server.wait_idle()
        assert other.seen == []

    run = server.get(f"/cloud/import-runs/{made['cloud_import_run_id']}").json()
    assert run["status"] == "completed", run
    assert (run["imported_count"], run["failed_count"]) == (1, 1), run
    [error] = run["item_errors"]
    assert error["name"] == "a.jpg" and "redirects are not followed" in error["error"]
    assert [a["original_filename"] for a in
            server.assets(repository_id=repository["id"])] == ["b.jpg"]


def test_an_import_stays_inside_its_folder_on_the_server(server):
    # Entries a listing places outside the folder are reported, and never fetched
    # with the account's password; an absolute href inside it is imported under
    # its own name.
    canon = (MEDIA / "jpeg/Canon_40D.jpg").read_bytes()
    nikon = (MEDIA / "jpeg/Nikon_D70.jpg").read_bytes()
    with CraftedDAV({}) as dav:
        same = dav.url.rstrip("/")
        port = same.rsplit(":", 1)[1]
        outside = ["/photos/../private.jpg", "/photos/..%2Fprivate.jpg",
                   "/photos/sub/..%2F..%2Fprivate.jpg", same + "/private.jpg",
                   f"http://localhost:{port}/photos/elsewhere.jpg",
                   "//localhost/photos/elsewhere.jpg", "/photosX/next-door.jpg"]
        dav.listings["/photos/"] = [
            ("/photos/", "dir", None), *[(h, "file", len(canon)) for h in outside],
            (same + "/photos/absolute.jpg", "file", len(nikon)),
            ("/photos/sub/./../inside.jpg", "file", len(canon))]
        dav.files.update({"/private.jpg": canon, "/photosX/next-door.jpg": canon,
                          "/photos/absolute.jpg": nikon, "/photos/inside.jpg": canon})
        res = server.post("/cloud/credentials", {"provider": "webdav", "inputs": {
            "url": dav.url + "photos/", "username": "alice", "password": SECRET}})
        assert res.status_code == 200, res.text
        repository, made = import_run(server, res.json()["credential"]["id"],
                                      "Confined")
        server.wait_idle()

    fetched = sorted(path for method, path in dav.seen if method == "GET")
    assert fetched == ["/photos/absolute.jpg", "/photos/inside.jpg"], dav.seen
    run = server.get(f"/cloud/import-runs/{made['cloud_import_run_id']}").json()
    assert run["status"] == "completed", run
    assert (run["imported_count"], run["failed_count"]) == (2, len(outside)), run
    refused = {e["remote_id"]: e["error"] for e in run["item_errors"]}
    assert sorted(refused) == sorted(outside)
    for href, error in refused.items():
        where = "another server" if "localhost" in href else "outside the imported"
        assert where in error and "not imported" in error, (href, error)
    names = sorted(a["original_filename"]
                   for a in server.assets(repository_id=repository["id"]))
    assert names == ["absolute.jpg", "inside.jpg"]


@pytest.mark.parametrize("url", [
    "http://2852039166/",               # the address as one decimal number
    "http://0xa9fea9fe/",               # ... in hexadecimal
    "http://169.254.43518/",            # ... with its last two parts joined
    "http://169.16689662/",             # ... with its last three parts joined
    "http://0251.0376.0251.0376/",      # ... in octal
    "http://[::ffff:169.254.169.254]/",  # ... mapped into IPv6
    "http://[::ffff:a9fe:a9fe]/",       # ... mapped, in hexadecimal
    "http://[64:ff9b::a9fe:a9fe]/",     # ... through NAT64
    "http://[fe80::1]/",                # IPv6 link-local
    "http://[fd00:ec2::254]/",          # a metadata address outside link-local
])
def test_every_spelling_of_a_link_local_address_is_refused(url):
    # Checked without any request: normalise raises before a connection is made.
    for name, field in (("webdav", "url"), ("s3", "endpoint")):
        with pytest.raises(InvalidInput):
            providers.get(name).normalise({field: url, "bucket": "photos"})


CLOUD_FILES = {"photos/a.jpg": "jpeg/Canon_40D.jpg",
               "photos/b.jpg": "jpeg/Nikon_D70.jpg",
               "photos/c.jpg": "jpeg/Kodak_CX7530.jpg",
               "photos/d.jpg": "jpeg/Olympus_C8080WZ.jpg"}


@pytest.fixture
def dav(tmp_path):
    with WebDAVServer(tmp_path / "dav", CLOUD_FILES, username="alice",
                      password=SECRET) as running:
        yield running


def connect(server, dav) -> str:
    res = server.post("/cloud/credentials", {"provider": "webdav",
                                             "inputs": dav.inputs("photos/")})
    assert res.status_code == 200, res.text
    return res.json()["credential"]["id"]


def test_removing_an_account_during_its_import_ends_the_run_cleanly(server, dav):
    credential_id = connect(server, dav)
    held = dav.gate.hold("GET", "photos/b.jpg")
    repository, made = import_run(server, credential_id, "Removed")
    assert held.reached.wait(120), "the import never asked for the second photo"
    res = server.request("DELETE", f"/cloud/credentials/{credential_id}")
    assert res.status_code == 200, res.text
    held.release()
    server.wait_idle()

    run = server.get(f"/cloud/import-runs/{made['cloud_import_run_id']}").json()
    assert run["status"] == "failed"
    assert "removed" in run["error"], run["error"]
    assert (run["imported_count"], run["failed_count"]) == (1, 0), run
    assert "credential_id" not in run
    assert dav.gate.count("GET", "photos/c.jpg") == 0
    # The photo imported before stays; the one downloaded meanwhile is dropped.
    assert [a["original_filename"] for a in
            server.assets(repository_id=repository["id"])] == ["a.jpg"]
    staging = Path(repository["path"]) / ".lumilio" / "staging"
    assert [p for p in staging.rglob("*") if p.is_file()] == []
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "ConstraintError" not in log


def test_disconnecting_an_account_stops_its_running_import(server, dav):
    credential_id = connect(server, dav)
    held = dav.gate.hold("GET", "photos/b.jpg")
    repository, made = import_run(server, credential_id, "Disconnected")
    assert held.reached.wait(120), "the import never asked for the second photo"
    res = server.post(f"/cloud/credentials/{credential_id}/disconnect", {})
    assert res.status_code == 200, res.text
    held.release()
    server.wait_idle()

    assert dav.gate.count("GET", "photos/c.jpg") == 0
    assert dav.gate.count("GET", "photos/d.jpg") == 0
    run = server.get(f"/cloud/import-runs/{made['cloud_import_run_id']}").json()
    assert run["status"] == "failed", run
    assert "disconnected" in run["error"], run["error"]
    assert run["imported_count"] == 1, run
    staging = Path(repository["path"]) / ".lumilio" / "staging"
    assert [p for p in staging.rglob("*") if p.is_file()] == []

    # Reconnected, the next import goes on from there: a.jpg is not fetched again.
    res = server.post(f"/cloud/credentials/{credential_id}/reconnect", {})
    assert res.json()["auth_status"] == "connected", res.text
    res = server.post(f"/repositories/{repository['id']}/cloud/import", {})
    assert res.status_code == 200, res.text
    server.wait_idle()
    again = server.get(f"/cloud/import-runs/{res.json()['run']['id']}").json()
    assert again["status"] == "completed", again
    assert (again["skipped_count"], again["imported_count"]) == (1, 3), again
    assert dav.gate.count("GET", "photos/a.jpg") == 1
    names = sorted(a["original_filename"]
                   for a in server.assets(repository_id=repository["id"]))
    assert names == ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]


def test_repository_creation_checks_its_account(server, dav):
    credential_id = connect(server, dav)
    for body, expected in (
            ({"role": "primary", "cloud_credential_id": credential_id}, "primary"),
            ({"cloud_credential_id": 5}, "must be a string"),
            ({"cloud_credential_id": "not-a-uuid"}, "UUID"),
            ({"cloud_credential_id": "00000000-0000-4000-8000-000000000000"},
             "names no account")):
        res = server.post("/repositories", {"name": "Checked", **body})
        text = json.dumps(assert_error(res, 400))
        assert expected in text, text
    assert not (Path(server.data_dir) / "library" / "checked").exists()

    server.post(f"/cloud/credentials/{credential_id}/disconnect", {})
    made = server.post("/repositories", {"name": "Paused",
                                         "cloud_credential_id": credential_id})
    assert made.status_code == 200, made.text
    assert "disconnected" in made.json()["cloud_import_error"]
    assert dav.gate.count("GET", "photos/a.jpg") == 0

"""The assistant's parts on a real catalog, without a server: tool schemas and
argument checks, plans run again, the conversation window, facets."""

from __future__ import annotations

import json

import pytest

from lumilio.agent import facets, refs, threads, tools
from lumilio.agent.tools import registry, shaping
from lumilio.auth.principal import Principal
from lumilio.config import load
from lumilio.server import build_context
from lumilio.timeutil import now_iso


@pytest.fixture
def ctx(tmp_path):
    context = build_context(load({"data_dir": tmp_path / "data"}, environ={}))
    yield context
    context.catalog.close()


@pytest.fixture
def who(ctx):
    stamp = now_iso()
    user_id = ctx.catalog.write(lambda conn: (conn.execute(
        "INSERT INTO users (username, password_hash, role, created_at, updated_at)"
        " VALUES ('kim', 'x', 'user', ?, ?)", (stamp, stamp)),
        conn.last_insert_rowid())[1])
    return Principal(user_id, "kim", "user")


def test_tool_schemas_are_plain_json_schema():
    specs = {s["function"]["name"]: s["function"] for s in tools.specs()}
    assert len(specs) == 17
    show = specs["show"]["parameters"]
    assert set(show["properties"]) == {"ref", "title", "widget"}  # 'title' kept
    assert show["required"] == ["ref"]
    text = json.dumps(specs)
    assert '"anyOf"' not in text and '"type": "null"' not in text
    assert all(spec["description"] for spec in specs.values())


def test_bad_calls_are_answers_not_failures(ctx, who):
    thread = threads.open_thread(ctx, who, None, "test")["thread_id"]
    call = registry.Call(ctx, who, thread, "call_1")
    cases = {
        ("filter_assets", '{"date_from": '): "not valid JSON",
        ("filter_assets", "[1, 2]"): "one JSON object",
        ("filter_assets", '{"types": ["FILM"]}'): "types.0",
        ("filter_assets", '{"date_from": "last spring"}'): "not a date",
        ("combine", '{"refs": ["r1"], "op": "union"}'): "refs",
        ("top", '{"ref": "r7", "n": 3}'): "no ref 'r7'",
        ("inspect", '{"asset_id": "nope"}'): "not a UUID",
        ("erase_everything", "{}"): "no tool named",
    }
    for (name, arguments), expected in cases.items():
        outcome = tools.run(call, name, arguments)
        assert outcome.error and expected in outcome.error, (name, outcome)


def test_plans_run_again_and_snapshots_do_not(ctx, who):
    thread = threads.open_thread(ctx, who, None, "test")["thread_id"]
    call = registry.Call(ctx, who, thread, "c")
    first = tools.run(call, "filter_assets", '{"liked": true}')
    second = tools.run(call, "filter_assets", '{"rating": 0}')
    both = tools.run(call, "combine", '{"refs": ["r1", "r2"], "op": "union"}')
    assert (first.ref.ref_id, second.ref.ref_id, both.ref.ref_id) == ("r1", "r2", "r3")
    plan = both.ref.plan
    assert plan["op"] == "combine"
    assert [p["op"] for p in plan["inputs"]["refs"]] == ["filter_assets"] * 2
    assert tools.replay(ctx, who, plan) == []

    chosen = refs.save(ctx, who, thread, "context", None, [])
    top = tools.run(call, "top", json.dumps({"ref": chosen.ref_id, "n": 1}))
    assert top.ref.plan is None  # made from a selection: it cannot be found again
    assert refs.load(ctx, who, thread, "r3").op == "combine"
    with pytest.raises(Exception, match="Ref not found"):
        refs.load(ctx, Principal(who.user_id + 1, "other", "user"), thread, "r3")


def test_the_model_reads_a_window_that_starts_with_the_user(ctx, who):
    thread = threads.open_thread(ctx, who, None, "test")["thread_id"]
    turns = []
    for n in range(40):
        turns += [{"role": "user", "content": f"q{n}"},
                  {"role": "assistant", "content": None, "tool_calls": [
                      {"id": f"c{n}", "type": "function",
                       "function": {"name": "peek", "arguments": "{}"}}]},
                  {"role": "tool", "tool_call_id": f"c{n}", "content": "{}"}]
    threads.append(ctx, who, thread, turns)
    window = threads.history(ctx, who, thread)
    assert len(window) <= threads.HISTORY_MAX
    assert window[0]["role"] == "user" and window[-1]["content"] == "{}"
    assert window[0]["content"] == f"q{40 - threads.HISTORY_MAX // 3}"


def test_facets_count_by_month_or_by_year():
    months = facets._histogram(["2024-01-03", "2024-01-20", "2024-03-01"])
    assert months == [{"bucket": "2024-01", "count": 2},
                      {"bucket": "2024-03", "count": 1}]
    years = facets._histogram(["2010-05-01", "2015-02-02", "2015-09-09"])
    assert years == [{"bucket": "2010", "count": 1}, {"bucket": "2015", "count": 2}]
    line = facets.summary({"count": 2, "types": {"PHOTO": 2},
                           "date_range": {"from": "2024-01-03", "to": "2024-03-01"},
                           "top_places": [{"name": "Kyoto", "count": 2}]})
    assert line == "2 photos · 2024-01-03 – 2024-03-01 · Kyoto"


def test_an_even_sample_spreads_over_the_set():
    ids = [f"a{i}" for i in range(100)]
    args = shaping.SampleArgs(ref="r1", n=4)
    assert shaping._sample(None, None, args, {"ref": ids}) == ["a12", "a37", "a62",
                                                              "a87"]
    picked = shaping._sample(None, None, shaping.SampleArgs(
        ref="r1", n=5, spread="random", seed=7), {"ref": ids})
    assert picked == shaping._sample(None, None, shaping.SampleArgs(
        ref="r1", n=5, spread="random", seed=7), {"ref": ids})
    assert picked == sorted(picked, key=ids.index) and len(set(picked)) == 5


def _drive(body, on_chunk=lambda chunk: None, leave_after: bytes | None = None
           ) -> list[bytes]:
    """Run an EventStream as the server would; the client leaves once a chunk
    holding `leave_after` has gone out."""
    import asyncio

    from lumilio.agent.stream import EventStream

    chunks: list[bytes] = []

    async def main() -> None:
        left = asyncio.Event()

        async def send(message: dict) -> None:
            if message["type"] != "http.response.body":
                return
            chunks.append(message["body"])
            on_chunk(message["body"])
            if leave_after and leave_after in message["body"]:
                left.set()

        async def receive() -> dict:
            await left.wait()
            return {"type": "http.disconnect"}

        await EventStream(body, 1, "thread-1")({"type": "http"}, receive, send)

    asyncio.run(main())
    return chunks


def test_the_stream_beats_while_the_run_is_quiet(monkeypatch):
    import asyncio

    from lumilio.agent import stream

    monkeypatch.setattr(stream, "HEARTBEAT_S", 0.01)
    beats = asyncio.Event()

    async def body(emit) -> None:
        emit("message", {"output": "thinking"})
        await beats.wait()
        emit("done", {})

    def heard(chunk: bytes) -> None:
        if chunk.startswith(b"event: heartbeat"):
            beats.set()

    sent = b"".join(_drive(body, heard))
    assert sent.index(b"event: message") < sent.index(b"event: heartbeat") \
        < sent.index(b"event: done")
    assert b'"timestamp": ' in sent


def test_a_client_that_leaves_cancels_the_run_at_once():
    import asyncio

    ended = []

    async def body(emit) -> None:
        emit("message", {"output": "a long"})
        try:
            await asyncio.Event().wait()  # a model that is still writing
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise

    chunks = _drive(body, leave_after=b"event: message")
    assert ended == ["cancelled"]
    assert chunks[-1] != b""  # no closing chunk: nobody is there to read it

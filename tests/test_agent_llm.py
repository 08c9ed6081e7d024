"""The assistant's switch, its model settings and their check, and the bounds of a
run: a model that never answers, too many steps, too many tokens, too long."""

from __future__ import annotations

import pytest

from agentkit import chat, point_at
from scripted_llm import ScriptedModel, call_tools, hang, say, slow, tool
from serverkit import free_port
from two_users import assert_error


def test_the_agent_routes_follow_the_switch(server):
    for method, path in (("POST", "/agent/chat"), ("GET", "/agent/tools"),
                         ("GET", "/agent/pins"), ("GET", "/agent/refs/r1?thread_id=t")):
        res = server.request(method, path, json={"query": "hi"})
        assert assert_error(res, 404)["message"] == "Agent is disabled"
        assert_error(server.request(method, path, token=None, json={}), 401)

    server.request("PATCH", "/settings/system", json={"llm": {"agent_enabled": True}})
    listed = server.get("/agent/tools").json()
    assert len(listed) == 17 and all(t["name"] and t["desc"] for t in listed)
    by_name = {t["name"]: t for t in listed}
    assert by_name["create_album"]["extra"]["needs_confirmation"] is True
    assert by_name["filter_assets"]["extra"]["returns_ref"] is True
    assert not any("delete" in name or "remove" in name for name in by_name)
    assert server.get("/agent/pins").json() == []

    # Without a model the chat says what is missing and how to set it up.
    body = assert_error(server.post("/agent/chat", {"query": "hi"}), 503)
    assert body["message"] == "No language model is set up for the assistant"
    assert "base_url" in body["error"] and "/v1" in body["error"]
    assert_error(server.post("/agent/chat/resume", {"thread_id": "t",
                                                    "targets": {"a": True}}), 503)
    caps = server.get("/capabilities", token=None).json()["llm"]
    assert caps == {"agent_enabled": True, "configured": False}


def test_validate_llm_says_what_failed(server):
    validate = "/settings/system/validate-llm"
    with ScriptedModel(api_key="sk-local-test") as model:
        body = assert_error(server.post(validate, {"provider": "openai",
                                                   "model_name": "tiny"}), 400)
        assert "base_url" in body["error"] and "every provider" in body["error"]

        closed = f"http://127.0.0.1:{free_port()}/v1"
        res = server.post(validate, {"provider": "ollama", "model_name": "tiny",
                                     "base_url": closed})
        assert assert_error(res, 400)["message"].startswith("Could not connect")

        settings = {"provider": "ollama", "model_name": "tiny",
                    "base_url": model.base_url}
        res = assert_error(server.post(validate, {**settings, "api_key": "wrong"}), 400)
        assert "API key (401)" in res["message"]
        res = assert_error(server.post(validate, {**settings, "model_name": "huge",
                                                  "api_key": "sk-local-test"}), 400)
        assert "'huge'" in res["message"]
        res = server.post(validate, {**settings, "api_key": "sk-local-test"}).json()
        assert res == {"valid": True}

        # The stored settings, key included, are what an empty body checks.
        point_at(server, model, api_key="sk-local-test")
        assert server.post(validate, {}).json() == {"valid": True}
        asked = model.requests[-1]
        assert asked["headers"]["authorization"] == "Bearer sk-local-test"
        assert asked["body"]["max_tokens"] == 1 and not asked["body"].get("stream")
        assert "sk-local-test" not in server.get("/settings/system").text
        caps = server.get("/capabilities", token=None).json()["llm"]
        assert caps["configured"] is True


@pytest.fixture
def strict(make_server):
    srv = make_server(LUMILIO_AGENT_MODEL_TIMEOUT="2", LUMILIO_AGENT_MAX_STEPS="2"
                      ).start()
    srv.sign_up()
    return srv


def test_a_model_that_never_answers_ends_the_run(strict):
    with ScriptedModel([hang(), say("Back again.")]) as model:
        point_at(strict, model)
        reply = chat(strict, {"query": "hello?"})
        assert reply.ended == "error", reply.frames
        error = reply.frames[-1][1]["error"]
        assert "did not answer within 2 seconds" in error

        again = chat(strict, {"query": "still there?", "thread_id": reply.thread_id})
        assert again.ended == "done" and again.text == "Back again."


def test_a_run_stops_after_its_steps(strict):
    with ScriptedModel([call_tools(tool("filter_assets", {})),
                        call_tools(tool("filter_assets", {"liked": True}))]) as model:
        point_at(strict, model)
        reply = chat(strict, {"query": "loop"})
        assert reply.ended == "error"
        assert "after 2 steps" in reply.frames[-1][1]["error"]
        assert len(reply.side("filter_assets", "succeeded")) == 2


def test_a_run_stops_at_its_token_budget_and_its_time(make_server):
    srv = make_server(LUMILIO_AGENT_RUN_TOKENS="100", LUMILIO_AGENT_RUN_SECONDS="2"
                      ).start()
    srv.sign_up()
    # The scripted model reports 110 tokens a turn.
    with ScriptedModel([call_tools(tool("filter_assets", {})),
                        slow("and so on " * 30, pieces=60, delay=0.2)]) as model:
        point_at(srv, model)
        reply = chat(srv, {"query": "many tokens"})
        assert reply.ended == "error"
        assert "budget of 100 tokens" in reply.frames[-1][1]["error"]

        reply = chat(srv, {"query": "a slow answer"})
        assert reply.ended == "error"
        assert "longer than 2 seconds" in reply.frames[-1][1]["error"]
        assert reply.text.startswith("and so on")
        assert model.gone.wait(30)

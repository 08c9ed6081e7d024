"""Helpers of the assistant's tests: a chat over Server-Sent Events, read to its end,
and a server pointed at a scripted model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

from scripted_llm import ScriptedModel
from serverkit import Server


@dataclass
class Reply:
    status: int
    frames: list[tuple[str, dict]] = field(default_factory=list)
    thread_id: str | None = None
    error_body: dict | None = None  # the JSON error when the stream never started

    @property
    def text(self) -> str:
        return "".join(d.get("output", "") for k, d in self.frames if k == "message")

    @property
    def ended(self) -> str | None:
        return self.frames[-1][0] if self.frames else None

    @property
    def actions(self) -> list[dict]:
        return [d["action"] for k, d in self.frames if k == "message" and "action" in d]

    def side(self, tool: str | None = None, status: str | None = None) -> list[dict]:
        return [d for k, d in self.frames if k == "side_event"
                and (tool is None or d["tool"]["name"] == tool)
                and (status is None or d["execution"]["status"] == status)]

    def refs(self, tool: str) -> list[str]:
        return [d["data"]["ref_id"] for d in self.side(tool, "succeeded")
                if "ref_id" in d["data"]]


def read_frames(lines) -> list[tuple[str, dict]]:
    frames, kind = [], None
    for line in lines:
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:") and kind:
            frames.append((kind, json.loads(line[5:])))
            if kind in ("done", "error"):
                break
            kind = None
    return frames


def chat(server: Server, body: dict, token: str | None = "default",
         path: str = "/agent/chat") -> Reply:
    token = server.token if token == "default" else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.stream("POST", server.base + "/api/v1" + path, json=body,
                      headers=headers, timeout=120) as res:
        if res.status_code != 200:
            res.read()
            return Reply(res.status_code, error_body=res.json())
        assert res.headers["content-type"].startswith("text/event-stream")
        assert res.headers["cache-control"] == "no-cache"
        return Reply(200, read_frames(res.iter_lines()), res.headers["x-thread-id"])


def point_at(server: Server, model: ScriptedModel, **extra) -> None:
    """Switch the assistant on and point it at the scripted model."""
    res = server.request("PATCH", "/settings/system", json={"llm": {
        "provider": "ollama", "base_url": model.base_url, "model_name": model.model,
        "agent_enabled": True, **extra}})
    assert res.status_code == 200, res.text


def tool_messages(request: dict) -> list[dict]:
    """The tool answers of a model request, their content read as JSON."""
    return [{**m, "content": json.loads(m["content"])} for m in request["messages"]
            if m["role"] == "tool"]

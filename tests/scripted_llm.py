"""A scripted language model on loopback that speaks the OpenAI-compatible protocol.

Tests start one, point the assistant's settings at `base_url`, and say in advance
what the model answers to each streamed chat completion, in order:

    from scripted_llm import ScriptedModel, say, call_tools, tool

    with ScriptedModel([call_tools(tool("filter_assets", {"date_from": "2008-01-01"})),
                        say("Here are your photos.")]) as model:
        ...  # PATCH /settings/system {"llm": {"base_url": model.base_url, ...}}
        model.chat_requests   # the JSON body of every chat completion received
        model.gone.wait(10)   # set when a client went away in the middle of a stream

Turns:
    say(text, pieces=3)            text, split over several `delta.content` chunks
    call_tools(*calls, text="")    tool calls (each split over several chunks)
    tool(name, arguments)          one call of call_tools; arguments a dict or str
    malformed(name, raw)           a call whose arguments are not JSON
    slow(text, pieces, delay)      text that dribbles, `delay` seconds a chunk
    hang()                         read the request and never answer
    fail(status, message)          an HTTP error in the OpenAI error shape

Streams end with `finish_reason`, a usage chunk when the request asked for one, and
`data: [DONE]`. Non-streamed completions (such as the settings check) answer "OK"
and use no turn; `GET /v1/models` lists the model. With `api_key` set, requests
with another key get 401; a request for another model than `model` gets 404. A
streamed request after the last turn gets a 500 that says the script ran out.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Turn:
    kind: str  # text, tools, hang, fail
    text: str = ""
    pieces: int = 3
    delay: float = 0.0
    calls: list[dict] = field(default_factory=list)
    status: int = 200


def say(text: str, pieces: int = 3) -> Turn:
    return Turn("text", text=text, pieces=pieces)


def slow(text: str, pieces: int = 50, delay: float = 0.2) -> Turn:
    return Turn("text", text=text, pieces=pieces, delay=delay)


def tool(name: str, arguments: dict | str) -> dict:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"name": name, "arguments": raw}


def malformed(name: str, raw: str = '{"date_from": "2019-') -> Turn:
    return call_tools(tool(name, raw))


def call_tools(*calls: dict, text: str = "") -> Turn:
    return Turn("tools", text=text, calls=list(calls))


def hang() -> Turn:
    return Turn("hang")


def fail(status: int, message: str) -> Turn:
    return Turn("fail", text=message, status=status)


def _split(text: str, pieces: int) -> list[str]:
    if not text:
        return []
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i:i + size] for i in range(0, len(text), size)]


class ScriptedModel:
    def __init__(self, turns: list[Turn] = (), model: str = "tiny",
                 api_key: str | None = None):
        self.turns = list(turns)
        self.model = model
        self.api_key = api_key
        # {"method", "path", "body", "headers" (names in lower case)}, in order
        self.requests: list[dict] = []
        self.gone = threading.Event()   # a client left in the middle of a stream
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def chat_requests(self) -> list[dict]:
        return [r["body"] for r in self.requests
                if r["path"].endswith("/chat/completions")]

    def add(self, *turns: Turn) -> None:
        with self._lock:
            self.turns.extend(turns)

    def start(self) -> ScriptedModel:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self) -> Turn | None:
        with self._lock:
            return self.turns.pop(0) if self.turns else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                model.requests.append({"method": "GET", "path": self.path,
                                       "body": None, "headers": self._headers()})
                if self._refused():
                    return
                self._json(200, {"object": "list", "data": [
                    {"id": model.model, "object": "model", "owned_by": "tests"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                model.requests.append({"method": "POST", "path": self.path,
                                       "body": body, "headers": self._headers()})
                if self._refused():
                    return
                if body.get("model") != model.model:
                    self._error(404, f"The model `{body.get('model')}` does not exist",
                                "model_not_found")
                    return
                if not body.get("stream"):
                    self._json(200, _whole("OK", model.model))
                    return
                turn = model._next()
                if turn is None:
                    self._error(500, "the scripted model has no more turns")
                elif turn.kind == "hang":
                    model._stopping.wait()
                elif turn.kind == "fail":
                    self._error(turn.status, turn.text)
                else:
                    self._stream(turn, body)

            def _headers(self) -> dict:
                return {k.lower(): v for k, v in self.headers.items()}

            def _refused(self) -> bool:
                given = self.headers.get("Authorization", "")
                if model.api_key and given != f"Bearer {model.api_key}":
                    self._error(401, "Incorrect API key provided", "invalid_api_key")
                    return True
                return False

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, message: str, code: str | None = None
                       ) -> None:
                self._json(status, {"error": {"message": message, "code": code,
                                              "type": "invalid_request_error"}})

            def _stream(self, turn: Turn, body: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    for chunk in _chunks(turn, model.model, body):
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        if turn.delay:
                            time.sleep(turn.delay)
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    model.gone.set()

        return Handler


def _chunk(model: str, delta: dict, finish: str | None = None) -> dict:
    return {"id": "chatcmpl-scripted", "object": "chat.completion.chunk",
            "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _chunks(turn: Turn, model: str, body: dict) -> list[dict]:
    out = [_chunk(model, {"role": "assistant", "content": ""})]
    out += [_chunk(model, {"content": piece}) for piece in _split(turn.text,
                                                                   turn.pieces)]
    for index, call in enumerate(turn.calls):
        out.append(_chunk(model, {"tool_calls": [{
            "index": index, "id": f"call_{index}_{call['name']}", "type": "function",
            "function": {"name": call["name"], "arguments": ""}}]}))
        out += [_chunk(model, {"tool_calls": [{"index": index, "function": {
            "arguments": piece}}]}) for piece in _split(call["arguments"], 3)]
    out.append(_chunk(model, {}, "tool_calls" if turn.calls else "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        out.append({"id": "chatcmpl-scripted", "object": "chat.completion.chunk",
                    "created": 0, "model": model, "choices": [],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 10,
                              "total_tokens": 110}})
    return out


def _whole(text: str, model: str) -> dict:
    return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": 0,
            "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant",
                                                     "content": text}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}

"""One streamed chat completion, read piece by piece and within its bounds.

What a model server streams is checked as it arrives. Frames that do not decode,
fields of the wrong shape and text that is not text (a lone surrogate) raise
`Unreadable`, which ends the turn with a message rather than a failure of the run.

A reply is bounded by what arrives, not only by what was asked: a server may ignore
the token limit of the request, so the characters of the reply are counted (text,
reasoning and tool calls alike) and the stream is cut once they pass what that many
tokens could hold. The tokens a turn used are the server's count when it gives a
believable one, else an estimate from the characters read and written.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel

from lumilio.agent.llm import ModelSettings, Unreadable

if TYPE_CHECKING:
    import openai

# About four characters a token, for the estimate when the server gives no count.
CHARS_PER_TOKEN = 4
# Tokens rarely hold more than eight characters on average: past that many a token,
# a reply has gone beyond its limit whatever the tokenizer.
CHARS_PER_TOKEN_MAX = 8
# What a tool call costs beyond its name and arguments (its id, type and framing);
# it also bounds how many calls one reply can hold.
CALL_CHARS = 32
# No model's window holds more; a count beyond it is not believed.
USAGE_MAX = 10_000_000

Delta = Callable[[str, str], None]


@dataclass
class ToolCall:
    id: str
    name: str = ""
    arguments: str = ""


@dataclass
class Completion:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    tokens: int = 0  # as the server counted them, else an estimate

    def message(self) -> dict:
        """The assistant message as it goes back into the conversation."""
        # With tool calls and no text the content is null, as the protocol has it;
        # an empty answer stays an empty string, which every server accepts.
        out: dict = {"role": "assistant",
                     "content": self.text or (None if self.tool_calls else "")}
        if self.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": _json_or_empty(c.arguments)}}
                for c in self.tool_calls]
        return out


def _json_or_empty(arguments: str) -> str:
    # Malformed arguments are answered by the tool's error; some servers refuse a
    # conversation whose earlier tool call has arguments that are not JSON.
    try:
        json.loads(arguments or "{}")
    except ValueError:
        return "{}"
    return arguments or "{}"


async def complete(client: openai.AsyncOpenAI, settings: ModelSettings,
                   messages: list[dict], tools: list[dict], max_tokens: int,
                   on_delta: Delta) -> Completion:
    """One streamed completion; text and reasoning deltas go to `on_delta(kind, text)`
    as they arrive, tool calls are assembled from their pieces. Raises `Unreadable`
    for an answer that is not the protocol, and lets the client library's and the
    network's errors through."""
    import openai

    stream = await client.chat.completions.create(
        model=settings.model_name, messages=messages, tools=tools or openai.NOT_GIVEN,
        stream=True, stream_options={"include_usage": True},
        **{settings.token_limit_name: max_tokens})
    reader = _Reader(max_tokens * CHARS_PER_TOKEN_MAX, on_delta)
    try:
        async for chunk in _decoded(stream):
            reader.take(chunk)
            if reader.cut:
                break
    finally:
        await stream.close()
    return reader.completion(messages)


async def _decoded(stream: openai.AsyncStream) -> AsyncIterator[object]:
    """The chunks of a stream; a frame that is not JSON, or bytes that are not
    UTF-8, make the answer unreadable."""
    chunks = aiter(stream)
    while True:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except ValueError as exc:  # JSON, and UTF-8, decoding errors are ValueErrors
            raise Unreadable(f"a frame does not decode: {exc}") from None
        yield chunk


# -- reading the pieces ----------------------------------------------------------------


def _field(obj: object, name: str) -> object:
    """A field of a streamed object. The client library leaves what does not fit
    the protocol as the server wrote it, so anything may be found here."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    if isinstance(obj, BaseModel):
        return getattr(obj, name, None)
    raise Unreadable(f"found {type(obj).__name__} where an object belongs")


def _text(obj: object, name: str) -> str:
    value = _field(obj, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Unreadable(f"{name} is {type(value).__name__}, not text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Unreadable(f"{name} holds a lone surrogate, which is not text") from None
    return value


def _list(obj: object, name: str) -> list:
    value = _field(obj, name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Unreadable(f"{name} is {type(value).__name__}, not a list")
    return value


def _reasoning(delta: object) -> str:
    # Reasoning models send their thinking beside the answer, under one of two
    # names depending on the server; other shapes of it are left unread.
    for name in ("reasoning_content", "reasoning"):
        if isinstance(_field(delta, name), str):
            return _text(delta, name)
    return ""


def _counted(reported: object, estimate: int, floor: int) -> int:
    """The tokens of a turn: the server's count when it is believable, else the
    estimate. A count that is not a number, is below what visibly arrived, or is
    beyond any model's window is not believed."""
    if (isinstance(reported, int) and not isinstance(reported, bool)
            and floor <= reported <= USAGE_MAX):
        return reported
    return estimate


class _Reader:
    """Builds a completion out of chunks, counting the characters that arrive."""

    def __init__(self, max_chars: int, on_delta: Delta):
        self.max_chars = max_chars
        self.on_delta = on_delta
        self.done = Completion()
        self.calls: dict[int, ToolCall] = {}
        self.arrived = 0
        self.reported: object = None
        self.cut = False

    def take(self, chunk: object) -> None:
        usage = _field(chunk, "usage")
        if usage is not None:
            self.reported = _field(usage, "total_tokens")
        for choice in _list(chunk, "choices"):
            self._choice(choice)
            if self.cut:
                return

    def _fit(self, text: str) -> str:
        """What of `text` fits within the reply's bound; past it the reply is cut."""
        room = max(0, self.max_chars - self.arrived)
        if len(text) > room:
            self.cut = True
            text = text[:room]
        self.arrived += len(text)
        return text

    def _choice(self, choice: object) -> None:
        delta = _field(choice, "delta")
        content = self._fit(_text(delta, "content"))
        if content:
            self.done.text += content
            self.on_delta("output", content)
        thinking = self._fit(_reasoning(delta))
        if thinking:
            self.on_delta("reasoning", thinking)
        for piece in _list(delta, "tool_calls"):
            if self.cut:
                break
            self._piece(piece)
        if self.cut:
            return

        finish = _field(choice, "finish_reason")
        if finish is not None and not isinstance(finish, str):
            raise Unreadable("finish_reason is not text")
        if finish:
            self.done.finish_reason = finish

    def _piece(self, piece: object) -> None:
        """A piece of a tool call: its first piece opens it, the next ones add to
        its name and arguments."""
        index = _field(piece, "index")
        if index is None:
            index = len(self.calls)
        if not isinstance(index, int) or isinstance(index, bool):
            raise Unreadable("a tool call's index is not a number")
        call = self.calls.get(index)
        if call is None:
            self.arrived += CALL_CHARS
            if self.arrived > self.max_chars:
                self.cut = True
            call = self.calls[index] = ToolCall(id="")
        call.id = self._fit(_text(piece, "id")) or call.id
        function = _field(piece, "function")
        # Most servers name the function in the first piece only; a few repeat it
        # in every piece.
        name = self._fit(_text(function, "name"))
        if name and name != call.name:
            call.name += name
        call.arguments += self._fit(_text(function, "arguments"))

    def completion(self, messages: list[dict]) -> Completion:
        done = self.done
        if self.cut:
            # Cut here as the server should have cut it. A call cut in the middle
            # has its arguments cut too: none of the calls runs.
            done.finish_reason = "length"
        else:
            done.tool_calls = [self.calls[i] for i in sorted(self.calls)]
            for number, call in enumerate(done.tool_calls):
                call.id = call.id or f"call_{number}"
        estimate = (len(json.dumps(messages)) + self.arrived) // CHARS_PER_TOKEN
        done.tokens = _counted(self.reported, estimate,
                               self.arrived // CHARS_PER_TOKEN_MAX)
        return done

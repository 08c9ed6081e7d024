"""One run of the assistant: model turns and tool calls until an answer, a change to
confirm, or a bound.

What a run emits, as the reference's frames:

    message     {agent_name, output | reasoning}: the answer as it is written;
                {agent_name, action}: a change waiting for the user's confirmation
    side_event  {type: tool_execution | widget_show, timestamp, tool, execution,
                 data}: a tool starting and ending (data names the ref it made);
                a ref to show
    error       {error}: the run ended early (the stream ends after it); when the
                model server failed, the cause for an administrator, and for
                other users only that it could not be used
    done        {thread_id}: the run ended normally

A model step is stored when it is complete: the assistant's message with the
answers of its tools and the changes it proposed, in one transaction. A run cut
short (a client that went away, a bound) leaves the conversation as it was after
its last complete step. Refs are written as their tools finish, so that a client
can read one as soon as it hears of it.

A step runs at most `TOOL_CALLS_MAX` tool calls. The model's further calls in the
same step are not run: each is answered as refused, so that the conversation stays
whole (every call has its answer) and the model may ask again in its next step.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import anyio
from starlette.concurrency import run_in_threadpool as call

from lumilio.agent import actions, completions, llm, prompt, refs, threads, tools
from lumilio.agent.completions import Completion
from lumilio.agent.llm import LLMError, ModelSettings, Unreadable
from lumilio.agent.prompt import clean
from lumilio.agent.stream import Emit, now_ms
from lumilio.auth.principal import Principal
from lumilio.config import Config
from lumilio.context import Context

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

AGENT_NAME = "library_assistant"
LABEL_MAX = 100
TOOL_CALLS_MAX = 16
REFUSED_CALL = (f"Not run: at most {TOOL_CALLS_MAX} tool calls are run in one step. "
                "Call it again in your next step if you still need it.")
# The side event status of a change the user answered.
RESUMED_STATUS = {"done": "succeeded", "failed": "failed", "declined": "declined"}


@dataclass(frozen=True)
class Bounds:
    max_steps: int
    run_seconds: float
    model_timeout: float
    completion_tokens: int
    run_tokens: int

    @classmethod
    def from_config(cls, config: Config) -> Bounds:
        return cls(max(1, config.agent_max_steps), max(1, config.agent_run_seconds),
                   max(1, config.agent_model_timeout),
                   max(16, config.agent_completion_tokens),
                   max(16, config.agent_run_tokens))


class RunEnded(Exception):
    """The run stops early; the message tells the user why."""


class Run:
    def __init__(self, ctx: Context, who: Principal, thread_id: str,
                 settings: ModelSettings, emit: Emit):
        self.ctx = ctx
        self.who = who
        self.thread_id = thread_id
        self.settings = settings
        self.bounds = Bounds.from_config(ctx.config)
        self.emit = emit
        self.tokens = 0
        self.steps = 0

    # -- the two ways in ------------------------------------------------------------

    async def chat(self, query: str, context: list[dict], mentions: list[dict]) -> None:
        await call(self._begin, query, context, mentions)
        await self._finish(self._converse())

    async def resume(self, answers: dict[str, bool]) -> None:
        async def work() -> None:
            decided = await call(actions.decide, self.ctx, self.who, self.thread_id,
                                 answers)
            for item in decided:
                self._tool_event(item["tool"], item["tool_call_id"],
                                 RESUMED_STATUS[item["status"]], 0,
                                 data={"action_id": item["action_id"],
                                       **item["outcome"]})
            if not await call(actions.pending, self.ctx, self.who, self.thread_id):
                await self._converse()

        await self._finish(work())

    def _begin(self, query: str, context: list[dict], mentions: list[dict]) -> None:
        """The user's message, with what the app attached, and what it leaves
        unconfirmed; written together."""
        attached: list[dict] = []
        for item in context:
            ref = refs.save(self.ctx, self.who, self.thread_id, "context", None,
                            item.get("asset_ids") or [])
            attached.append({"ref": ref.ref_id, "count": ref.count,
                             "type": clean(item.get("type"), LABEL_MAX),
                             "label": clean(item.get("label"), LABEL_MAX)})
        for item in mentions:
            attached.append({"mention": {k: clean(item.get(k), LABEL_MAX)
                                         for k in ("type", "id", "label")}})
        message = prompt.user_message(query, attached)

        def store(conn) -> None:
            actions.dismiss_in(conn, self.who, self.thread_id)
            threads.append_in(conn, self.who, self.thread_id, [message])

        self.ctx.catalog.write(store)

    async def _finish(self, work) -> None:
        """Run to the end; an early end is an error frame, a normal one `done`."""
        started = time.monotonic()
        try:
            await work
        except RunEnded as exc:
            self._end(str(exc), started)
            self.emit("error", {"error": str(exc)})
            return
        except LLMError as exc:
            precise = exc.message + (f" ({exc.detail})" if exc.detail else "")
            self._end(precise, started, logging.WARNING)
            # The model server's address and what it said are for administrators.
            told = precise if self.who.is_admin else llm.FOR_USERS
            self.emit("error", {"error": told})
            return
        self._end("done", started)
        self.emit("done", {"thread_id": self.thread_id})

    def _end(self, how: str, started: float, level: int = logging.INFO) -> None:
        log.log(level, "agent run for %s in thread %s: %d step(s), %d tokens, %.1f s:"
                " %s", self.who.username, self.thread_id, self.steps, self.tokens,
                time.monotonic() - started, how)

    # -- the conversation -------------------------------------------------------------

    async def _converse(self) -> None:
        bounds = self.bounds
        client = llm.async_client(self.settings, bounds.model_timeout)
        try:
            async with asyncio.timeout(bounds.run_seconds):
                await self._steps(client)
        except TimeoutError:
            raise RunEnded(f"The assistant stopped: answering took longer than "
                           f"{bounds.run_seconds:g} seconds") from None
        finally:
            with anyio.CancelScope(shield=True):
                await client.close()

    async def _steps(self, client: openai.AsyncOpenAI) -> None:
        # Here rather than at the top: an idle server does not load openai (llm.py).
        import httpx
        import openai

        bounds = self.bounds
        specs = tools.specs()
        for _ in range(bounds.max_steps):
            if self.tokens >= bounds.run_tokens:
                raise RunEnded(f"The assistant stopped: it used its budget of "
                               f"{bounds.run_tokens} tokens for this message")
            history = await call(threads.history, self.ctx, self.who, self.thread_id)
            messages = [prompt.system_message(self.who.username, date.today()),
                        *history]
            self.steps += 1
            try:
                completion = await completions.complete(
                    client, self.settings, messages, specs, bounds.completion_tokens,
                    self._delta)
            except (openai.OpenAIError, httpx.HTTPError, Unreadable) as exc:
                raise llm.explain(exc, self.settings, bounds.model_timeout) from None
            self.tokens += completion.tokens

            if not completion.tool_calls:
                await call(threads.append, self.ctx, self.who, self.thread_id,
                           [completion.message()])
                if completion.finish_reason == "length":
                    raise RunEnded(f"The answer was cut at the limit of "
                                   f"{bounds.completion_tokens} tokens")
                return
            answers, waiting = await self._use_tools(completion)
            await call(actions.record_step, self.ctx, self.who, self.thread_id,
                       [completion.message(), *answers], waiting)
            if waiting:
                for action in waiting:
                    self.emit("message", {"agent_name": AGENT_NAME,
                                          "action": actions.dto(action)})
                return
        raise RunEnded(f"The assistant stopped after {bounds.max_steps} steps without "
                       "finishing; try a narrower request")

    def _delta(self, kind: str, text: str) -> None:
        self.emit("message", {"agent_name": AGENT_NAME, kind: text})

    async def _use_tools(self, completion: Completion
                         ) -> tuple[list[dict], list[dict]]:
        """Run the step's tool calls in order: their answers for the model, and the
        changes that wait for the user."""
        answers: list[dict] = []
        waiting: list[dict] = []
        for request in completion.tool_calls[:TOOL_CALLS_MAX]:
            started = time.monotonic()
            self._tool_event(request.name, request.id, "running", 0)
            outcome = await call(
                tools.run, tools.Call(self.ctx, self.who, self.thread_id, request.id),
                request.name, request.arguments)
            took = int((time.monotonic() - started) * 1000)

            if outcome.action is not None:
                waiting.append(outcome.action)
                self._tool_event(request.name, request.id, "awaiting_confirmation",
                                 took, data={"action_id": outcome.action["action_id"]})
                continue
            if outcome.error is not None:
                log.info("agent tool %s: %s", request.name, outcome.error)
                content = prompt.tool_error(outcome.error)
                self._tool_event(request.name, request.id, "failed", took,
                                 error=outcome.error)
            else:
                content = prompt.tool_result(outcome.result or {})
                data = {}
                if outcome.ref is not None:
                    data = {"ref_id": outcome.ref.ref_id, "count": outcome.ref.count}
                self._tool_event(request.name, request.id, "succeeded", took,
                                 data=data)
            answers.append({"role": "tool", "tool_call_id": request.id,
                            "content": content})
            if outcome.widget is not None:
                self._side("widget_show", request.name, request.id, "succeeded", 0,
                           data=outcome.widget)
        answers += self._refused(completion.tool_calls[TOOL_CALLS_MAX:])
        return answers, waiting

    def _refused(self, requests: list[completions.ToolCall]) -> list[dict]:
        """The answers to the calls past a step's limit, none of them run."""
        if requests:
            log.info("agent run for %s in thread %s: %d tool call(s) past the %d of "
                     "a step refused", self.who.username, self.thread_id,
                     len(requests), TOOL_CALLS_MAX)
        return [{"role": "tool", "tool_call_id": request.id,
                 "content": prompt.tool_error(REFUSED_CALL)} for request in requests]

    def _tool_event(self, name: str, call_id: str, status: str, took: int,
                    data: dict | None = None, error: str | None = None) -> None:
        self._side("tool_execution", name, call_id, status, took, data, error)

    def _side(self, kind: str, name: str, call_id: str, status: str, took: int,
              data: dict | None = None, error: str | None = None) -> None:
        tool = tools.TOOLS.get(name)
        execution: dict = {"status": status, "duration_ms": took}
        if error:
            execution["error"] = error
        self.emit("side_event", {
            "type": kind, "timestamp": now_ms(),
            "tool": {"name": name, "call_id": call_id,
                     "needs_confirmation": bool(tool and tool.changes)},
            "execution": execution,
            "data": {"thread_id": self.thread_id, **(data or {})},
        })

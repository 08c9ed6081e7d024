import { describeError } from "./api.js";
import { confirmationOf } from "./assistant_confirm.js";
import { isAbort, isDisabled, streamAgent } from "./assistant_stream.js";
import { AssistantTurn } from "./assistant_turn.js";
import { h } from "./dom.js";

// The conversation with the assistant: the questions, the answers streaming in,
// and the form to ask. Every question of a conversation carries the same thread
// id, so follow-ups keep their context; "New conversation" starts another. Stop
// aborts the request, and with it the run on the server.
export class AssistantChat {
  constructor({ shell, onDisabled, onPin }) {
    this.shell = shell;
    this.onDisabled = onDisabled;
    this.onPin = onPin;
    this.threadId = null;
    this.controller = null;
    this.turns = [];
    // Changes waiting for the person's answer, by action id.
    this.questions = new Map();

    this.transcript = h("div", { class: "transcript", role: "log",
      "aria-live": "polite", "aria-label": "Conversation",
      "data-testid": "assistant-transcript" },
    h("p", { class: "transcript-empty", text: "Ask about your photos: “photos"
      + " from Kyoto in 2023”, “my best-rated pictures of the dog”, “make an"
      + " album of last summer’s beach photos”." }));
    this.status = h("p", { class: "chat-status", role: "status",
      "data-testid": "assistant-status" });
    this.element = h("div", { class: "chat" }, this.transcript, this.status,
      this.buildForm());
  }

  buildForm() {
    this.input = h("textarea", { id: "assistant-question", name: "query", rows: "2",
      required: true, "data-testid": "assistant-input",
      "aria-describedby": "assistant-keys",
      onkeydown: (event) => this.onKey(event) });
    this.sendButton = h("button", { type: "submit", class: "primary", text: "Send",
      "data-testid": "assistant-send" });
    this.stopButton = h("button", { type: "button", text: "Stop", hidden: true,
      "data-testid": "assistant-stop", onclick: () => this.stop() });
    const form = h("form", { class: "chat-form", "data-testid": "assistant-form",
      onsubmit: (event) => {
        event.preventDefault();
        this.ask();
      } },
    h("label", { for: "assistant-question", class: "chat-label",
      text: "Ask the assistant" }),
    this.input,
    h("div", { class: "chat-actions" },
      h("span", { id: "assistant-keys", class: "hint",
        text: "Enter sends; Shift+Enter starts a new line." }),
      h("button", { type: "button", class: "quiet", text: "New conversation",
        "data-testid": "assistant-new", onclick: () => this.newConversation() }),
      this.stopButton, this.sendButton));
    return form;
  }

  onKey(event) {
    // While an input method composes a word, Enter belongs to it.
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    this.ask();
  }

  focus() {
    this.input.focus();
  }

  get running() {
    return this.controller !== null;
  }

  ask() {
    const query = this.input.value.trim();
    if (!query || this.running) return;

    this.dismissQuestions();
    this.input.value = "";
    this.transcript.querySelector(".transcript-empty")?.remove();
    this.transcript.append(h("article", { class: "turn turn-user",
      "aria-label": "Your question", "data-testid": "user-turn" },
    h("p", { text: query })));
    this.threadId ??= newThreadId();
    return this.run("/agent/chat", { query, thread_id: this.threadId });
  }

  // Answering a confirmation continues the run in a new answer. A request the
  // server refused decided nothing, so the question stays open.
  async answer(actionId, approved) {
    if (this.running || !this.threadId) return false;

    const outcome = await this.run("/agent/chat/resume", {
      thread_id: this.threadId, targets: { [actionId]: { approved } } });
    if (outcome !== "done" && outcome !== "stopped") return false;
    this.questions.delete(actionId);
    this.sayWhereWeAre(outcome);
    return true;
  }

  // A new question leaves earlier changes unanswered; the server drops them.
  dismissQuestions() {
    for (const question of this.questions.values()) question.dismiss();
    this.questions.clear();
  }

  async run(path, body) {
    const turn = new AssistantTurn({ threadId: () => this.threadId,
      shell: this.shell, onPin: this.onPin });
    this.turns.push(turn);
    this.transcript.append(turn.element);
    this.scrollToEnd();
    this.controller = new AbortController();
    this.setRunning(true);

    let outcome = "done";
    let ended = false;
    try {
      await streamAgent(path, body, { signal: this.controller.signal,
        onEvent: (type, data) => {
          ended ||= type === "done" || type === "error";
          this.handle(turn, type, data);
        } });
      // The server always ends with `done` or `error`; without either, the
      // connection broke half-way.
      if (!ended) {
        turn.fail("The connection closed before the answer was complete.");
        outcome = "failed";
      }
    } catch (error) {
      outcome = isAbort(error) ? "stopped" : this.failed(turn, error);
    } finally {
      this.controller = null;
      this.setRunning(false);
    }
    turn.finish(outcome);
    this.sayWhereWeAre(outcome);
    return outcome;
  }

  sayWhereWeAre(outcome) {
    this.status.textContent = this.questions.size ? "Waiting for your answer."
      : outcome === "stopped" ? "Stopped." : "";
  }

  handle(turn, type, data) {
    const follow = this.nearBottom();
    this.apply(turn, type, data);
    if (follow) this.scrollToEnd();
  }

  apply(turn, type, data) {
    if (typeof data?.thread_id === "string" && data.thread_id) {
      this.threadId = data.thread_id;
    }

    if (type === "message") {
      turn.addReasoning(data.reasoning);
      turn.addOutput(data.output);
      if (data.error) turn.fail(data.error);
      const action = confirmationOf(data);
      if (action) {
        this.questions.set(action.action_id, turn.ask(action,
          (approved) => this.answer(action.action_id, approved)));
      }
    } else if (type === "side_event") {
      turn.toolEvent(data);
    } else if (type === "heartbeat") {
      this.status.textContent = "Still working…";
    } else if (type === "error") {
      turn.fail(typeof data === "string" ? data : data.error ?? "The run failed.");
    }
  }

  failed(turn, error) {
    if (isDisabled(error)) {
      turn.element.remove();
      this.onDisabled();
      return "disabled";
    }
    turn.fail(`The assistant could not answer. ${describeError(error)}`);
    return "failed";
  }

  // The answer is followed as it grows, unless the person scrolled up to read.
  nearBottom() {
    const box = this.scroller();
    return !box || box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  }

  scrollToEnd() {
    const box = this.scroller();
    if (box) box.scrollTop = box.scrollHeight;
  }

  scroller() {
    return this.element.closest(".view-page");
  }

  setRunning(running) {
    const stopHadFocus = this.stopButton === document.activeElement;
    this.sendButton.disabled = running;
    this.stopButton.hidden = !running;
    this.status.textContent = running ? "The assistant is answering…" : "";
    if (stopHadFocus) this.input.focus();
  }

  stop() {
    this.controller?.abort();
  }

  newConversation() {
    this.stop();
    for (const turn of this.turns) turn.dispose();
    this.turns = [];
    this.threadId = null;
    this.questions.clear();
    this.transcript.replaceChildren();
    this.status.textContent = "A new conversation.";
    this.input.focus();
  }
}

// The conversation is named by the browser, so its results can be fetched and
// pinned even while its first answer is still streaming. randomUUID exists only
// on secure pages; a page on a plain-http address gets the same bits another way.
export function newThreadId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

import { describeError } from "./api.js";
import { confirmationOf } from "./assistant_confirm.js";
import { isAbort, isDisabled, streamAgent } from "./assistant_stream.js";
import { AssistantTurn } from "./assistant_turn.js";
import { h } from "./dom.js";

// The conversation is kept in the tab's session storage, so a reload shows it
// again, with a change still waiting for an answer that can still be given: the
// server keeps pending changes per thread, but has no way to read a thread back.
const STORE_KEY = "lumilio.assistant.conversation";

// The conversation with the assistant: the questions, the answers streaming in,
// and the form to ask. Every question of a conversation carries the same thread
// id, so follow-ups keep their context; "New conversation" starts another. Stop
// aborts the request, and with it the run on the server.
export class AssistantChat {
  constructor({ shell, onDisabled, onPin, owner = "" }) {
    this.shell = shell;
    this.owner = owner;
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
    // Questions asked in this page, with the answer turn that followed each, in
    // the order shown: what is saved to be shown again after a reload.
    this.record = [];
    this.restore();
    window.addEventListener("beforeunload", (event) => this.warnBeforeLeaving(event));
  }

  // Leaving while an answer streams stops it; leaving a change unanswered is
  // easy to regret. The browser asks in its own words.
  warnBeforeLeaving(event) {
    if (!this.running && !this.questions.size) return;
    event.preventDefault();
    event.returnValue = "";
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
    this.showQuestion(query);
    this.record.push({ user: query });
    this.threadId ??= newThreadId();
    this.save();
    return this.run("/agent/chat", { query, thread_id: this.threadId });
  }

  showQuestion(query) {
    this.transcript.querySelector(".transcript-empty")?.remove();
    this.transcript.append(h("article", { class: "turn turn-user",
      "aria-label": "Your question", "data-testid": "user-turn" },
    h("p", { text: query })));
  }

  // Answering a confirmation continues the run in a new answer. A request the
  // server refused decided nothing, so the question stays open.
  async answer(actionId, approved) {
    if (this.running || !this.threadId) return false;

    const outcome = await this.run("/agent/chat/resume", {
      thread_id: this.threadId, targets: { [actionId]: { approved } } });
    if (outcome !== "done" && outcome !== "stopped") return false;
    this.questions.delete(actionId);
    this.settle(actionId);
    this.sayWhereWeAre(outcome);
    return true;
  }

  // A new question leaves earlier changes unanswered; the server drops them.
  dismissQuestions() {
    for (const question of this.questions.values()) question.dismiss();
    for (const actionId of this.questions.keys()) this.settle(actionId);
    this.questions.clear();
  }

  // A change answered (or left) is no longer asked again after a reload.
  settle(actionId) {
    for (const turn of this.turns) turn.settle(actionId);
    this.save();
  }

  async run(path, body) {
    const turn = this.addTurn();
    this.record.push({ turn: turn.saved });
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
    this.save();
    this.sayWhereWeAre(outcome);
    return outcome;
  }

  addTurn() {
    const turn = new AssistantTurn({ threadId: () => this.threadId,
      shell: this.shell, onPin: this.onPin,
      onResult: () => this.showLatest(turn) });
    this.turns.push(turn);
    this.transcript.append(turn.element);
    return turn;
  }

  // Photos arriving in the latest answer push its text down; the end of the
  // answer is brought back into view.
  showLatest(turn) {
    if (turn === this.turns[this.turns.length - 1]) this.scrollToEnd();
  }

  save() {
    const saved = { owner: this.owner, threadId: this.threadId,
      record: this.record };
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(saved));
    } catch {
      // Storage full or refused: the conversation only lasts as long as the page.
    }
  }

  restore() {
    let saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(STORE_KEY) ?? "null");
    } catch {
      return;
    }
    if (!saved?.threadId || saved.owner !== this.owner) return;

    this.threadId = saved.threadId;
    for (const entry of saved.record ?? []) this.restoreEntry(entry);
    this.record = saved.record ?? [];
    this.sayWhereWeAre("done");
  }

  restoreEntry(entry) {
    if (typeof entry.user === "string") {
      this.showQuestion(entry.user);
      return;
    }
    const turn = this.addTurn();
    turn.restore(entry.turn ?? {});
    entry.turn = turn.saved;
    const action = turn.saved.action;
    if (action && turn.saved.pending) this.askAbout(turn, action, { focus: false });
  }

  askAbout(turn, action, { focus = true } = {}) {
    this.questions.set(action.action_id, turn.ask(action,
      (approved) => this.answer(action.action_id, approved), { focus }));
  }

  sayWhereWeAre(outcome) {
    // A stopped answer says so itself; saying it here too would read it twice.
    this.status.textContent = this.questions.size ? "Waiting for your answer." : "";
  }

  handle(turn, type, data) {
    const follow = this.nearBottom();
    this.apply(turn, type, data);
    if (follow) this.scrollToEnd();
    if (type !== "heartbeat") this.save();
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
      if (action) this.askAbout(turn, action);
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
      this.record = this.record.filter((entry) => entry.turn !== turn.saved);
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
    this.record = [];
    sessionStorage.removeItem(STORE_KEY);
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

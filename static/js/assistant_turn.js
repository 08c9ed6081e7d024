import { ResultCard } from "./assistant_results.js";
import { confirmationCard } from "./assistant_confirm.js";
import { renderMarkdown } from "./assistant_markdown.js";
import { h } from "./dom.js";
import { plural } from "./format.js";

// What each tool is doing, in the words of the step list under an answer.
const TOOL_WORDS = {
  filter_assets: "Filtering photos",
  search_semantic: "Searching by meaning",
  search_text: "Searching the text in photos",
  search_people: "Looking for people",
  lookup_people: "Looking up people",
  lookup_albums: "Looking up albums",
  rank: "Ranking",
  top: "Picking the best",
  sample: "Sampling",
  combine: "Combining results",
  describe: "Summarising",
  inspect: "Looking closer",
  peek: "Peeking at photos",
  show: "Showing photos",
  create_album: "Creating an album",
  add_to_album: "Adding to an album",
  bulk_like_assets: "Marking favourites",
};
const STATUS_WORDS = { running: "…", succeeded: "done", failed: "failed",
  awaiting_confirmation: "waits for your confirmation", declined: "cancelled",
  cancelled: "stopped" };

// One answer of the assistant as it streams in: text in paragraphs between the
// steps it takes, the photos it found, and questions for the person. The answer is
// marked busy while it streams, so a screen reader reads it once it is complete
// rather than word by word.
export class AssistantTurn {
  // threadId() answers the conversation's id when a result needs it.
  constructor({ threadId, shell, onPin, onResult = () => {} }) {
    this.threadId = threadId;
    this.shell = shell;
    this.onPin = onPin;
    this.onResult = onResult;
    // What is kept to show the answer again after a reload: its text, the
    // results it showed, errors, and the change it asked about.
    this.saved = { answer: [], refs: [], errors: [], action: null, pending: false };
    // One "Show the photos" per result, on the first step that made it.
    this.refButtons = new Set();
    this.text = null;
    this.source = "";
    this.reasoning = null;
    this.steps = new Map();
    this.stepKeys = new Map();
    this.stepsList = null;
    this.cards = new Map();
    this.lastRef = null;

    this.body = h("div", { class: "turn-body" });
    this.element = h("article", { class: "turn turn-assistant", "aria-busy": "true",
      "aria-label": "Answer", "data-testid": "assistant-turn" }, this.body);
  }

  // The paragraph being written is drawn again from all its text at each delta:
  // Markdown can only be read whole (a "**" opened may close later).
  addOutput(delta) {
    if (!delta) return;
    if (!this.text) {
      this.text = this.add(h("div", { class: "answer-text",
        "data-testid": "assistant-answer" }));
      this.source = "";
      this.saved.answer.push("");
    }
    this.source += delta;
    this.saved.answer[this.saved.answer.length - 1] = this.source;
    this.text.replaceChildren(renderMarkdown(this.source));
  }

  addReasoning(delta) {
    if (!delta) return;
    if (!this.reasoning) {
      this.reasoning = h("div", { class: "reasoning-text" });
      this.add(h("details", { class: "reasoning" },
        h("summary", { text: "How the assistant thought about it" }), this.reasoning));
    }
    this.reasoning.append(delta);
  }

  // A tool's progress: one line per call, updated as its status changes. A request
  // to show a result puts its photos in the answer.
  toolEvent(event) {
    const refId = event.data?.ref_id ?? null;
    const title = event.data?.title ?? "";
    if (event.type === "widget_show") {
      // TODO: the "timeline" and "map" widgets are drawn as the same photo grid
      // for now; neither a day-grouped view nor a map of a ref's items exists yet.
      if (refId) this.showResult(refId, title);
      return;
    }

    const name = event.tool?.name ?? "tool";
    const status = event.execution?.status ?? "running";
    const id = this.stepKey(event.tool?.call_id ?? `${name}:${this.steps.size}`,
      status);
    if (refId) this.lastRef = { refId, title };

    let step = this.steps.get(id);
    if (!step) {
      step = { element: h("li", { class: "tool-step", "data-testid": "tool-step",
        dataset: { tool: name } }) };
      this.steps.set(id, step);
      this.stepList().append(step.element);
    }
    step.event = event;
    this.drawStep(step, status);
  }

  // Some model servers number their calls anew at each step, so a call id can
  // come back for another call: a call that starts again after it ended is a
  // new step.
  stepKey(callId, status) {
    const key = this.stepKeys.get(callId) ?? callId;
    const known = this.steps.get(key);
    if (!known || status !== "running" || known.element.dataset.status === "running") {
      return key;
    }
    const fresh = `${callId}#${this.steps.size}`;
    this.stepKeys.set(callId, fresh);
    return fresh;
  }

  drawStep(step, status) {
    const { event } = step;
    const name = event.tool?.name ?? "tool";
    const refId = event.data?.ref_id;
    step.element.dataset.status = status;
    const link = this.stepLink(step, () => this.showResult(refId,
      event.data?.title ?? ""));
    step.element.replaceChildren(h("span", { text: stepText(name, status, event) }),
      ...(link ? [link] : []));
  }

  stepList() {
    // Steps after some text get a list of their own, below that text.
    if (!this.stepsList || this.body.lastElementChild !== this.stepsList) {
      this.stepsList = this.add(h("ul", { class: "tool-steps",
        "aria-label": "Steps" }));
    }
    return this.stepsList;
  }

  showResult(refId, title) {
    const known = this.cards.get(refId);
    if (known) {
      known.setTitle(title);
      const kept = this.saved.refs.find((ref) => ref.refId === refId);
      if (kept && title) kept.title = title;
      return known;
    }

    const card = new ResultCard({ refId, threadId: this.threadId(), title,
      shell: this.shell, onPin: this.onPin, onLoaded: () => this.onResult() });
    this.cards.set(refId, card);
    this.saved.refs.push({ refId, title });
    this.add(card.element);
    card.load();
    return card;
  }

  ask(action, onAnswer, { focus = true } = {}) {
    const card = confirmationCard(action, { onAnswer });
    this.add(card.element);
    this.saved.action = action;
    this.saved.pending = true;
    // The person's next move is to answer; a keyboard user lands on it.
    if (focus) card.focus();
    return card;
  }

  settle(actionId) {
    if (this.saved.action?.action_id === actionId) this.saved.pending = false;
  }

  // Draws a saved answer again, as it was when the page was left.
  restore(saved) {
    // Text blocks come back first: where the steps stood between them is not
    // kept, only what was said and shown.
    for (const block of saved.answer ?? []) {
      this.text = null;
      this.addOutput(String(block));
    }
    for (const ref of saved.refs ?? []) {
      if (typeof ref?.refId === "string") this.showResult(ref.refId, ref.title);
    }
    for (const message of saved.errors ?? []) this.fail(String(message));
    this.saved.action = saved.action ?? null;
    this.saved.pending = Boolean(saved.action && saved.pending);
    this.element.setAttribute("aria-busy", "false");
  }

  fail(message) {
    this.saved.errors.push(message);
    this.add(h("p", { class: "turn-error is-error", role: "alert",
      "data-testid": "assistant-error", text: message }));
  }

  // The run is over, however it ended. A run that found photos without asking for
  // them to be shown still shows the last set it made.
  finish(outcome) {
    this.element.setAttribute("aria-busy", "false");
    if (outcome === "stopped") {
      this.add(h("p", { class: "turn-note", text: "Stopped." }));
    }
    if (outcome === "done" && !this.cards.size && this.lastRef) {
      this.showResult(this.lastRef.refId, this.lastRef.title);
    }
    // A step still running when the answer ended was cut short with it.
    for (const step of this.steps.values()) {
      if (step.element.dataset.status === "running") this.drawStep(step, "cancelled");
    }
  }

  // Where a finished step leads: the photos it found (once per result, and only
  // when there are any), or the album it made.
  stepLink(step, showPhotos) {
    const data = step.event.data ?? {};
    const refId = data.ref_id;
    if (refId && data.count !== 0
        && (step.refId === refId || !this.refButtons.has(refId))) {
      this.refButtons.add(refId);
      step.refId = refId;
      return h("button", { type: "button", class: "link", text: "Show the photos",
        "data-testid": "step-show", onclick: showPhotos });
    }
    if (data.album_id && data.status === "done") {
      return h("a", { href: `#/albums/${encodeURIComponent(data.album_id)}`,
        "data-testid": "step-album-link",
        text: `Open the album${data.album_name ? ` “${data.album_name}”` : ""}` });
    }
    return null;
  }

  // A new block ends the paragraph being written: text after it starts anew.
  add(block) {
    if (!block.classList.contains("answer-text")) this.text = null;
    this.body.append(block);
    return block;
  }

  dispose() {
    for (const card of this.cards.values()) card.dispose();
  }
}

// A tool's error is written for the model, to make it call again better; the
// person is told in their own terms what went wrong.
const MODEL_MISTAKES = [/^The arguments /, /^There is no tool named /];
const MODEL_MISTAKE_WORDS = "the request from the model was not valid; it may try"
  + " again";

function stepText(name, status, event) {
  const words = TOOL_WORDS[name] || name || "A step";
  const data = event.data ?? {};
  const detail = failureDetail(event.execution?.error
    ?? (status === "failed" ? data.message : ""));
  if (status === "succeeded" && Number.isInteger(data.count)) {
    return `${words}: ${plural(data.count, "item")}`;
  }
  const text = `${words} ${STATUS_WORDS[status] ?? status}`;
  return detail ? `${text}: ${detail}` : text;
}

function failureDetail(error) {
  if (!error) return "";
  const text = String(error);
  if (MODEL_MISTAKES.some((pattern) => pattern.test(text))) return MODEL_MISTAKE_WORDS;
  return text;
}

import { call, describeError } from "./api.js";
import { AssistantChat } from "./assistant_chat.js";
import { withCode } from "./assistant_markdown.js";
import { clear, h } from "./dom.js";
import { LlmSettingsForm } from "./llm_settings.js";
import { PinBoard } from "./pin_board.js";
import { isAdmin } from "./session.js";

// The assistant's page, in three parts with addresses of their own: the chat
// (#/assistant), the board of pinned results (#/assistant/board) and, for
// administrators, the language model settings (#/assistant/settings). The chat
// and the board live as long as the page, so a conversation survives a look at
// the board.
export class AssistantPage {
  constructor(root, { shell, user }) {
    this.root = root;
    this.user = user;
    this.board = new PinBoard({ shell });
    this.chat = new AssistantChat({ shell, owner: user?.user_id ?? user?.username,
      onDisabled: () => this.showSetup({ agent_enabled: false }),
      onPin: (request) => this.board.add(request) });
    this.settings = isAdmin(user) ? new LlmSettingsForm() : null;
  }

  async show() {
    this.root.hidden = false;
    const part = this.part();
    this.content = h("div", { class: "assistant-content" });
    clear(this.root).append(h("div", { class: "page page-wide assistant-page" },
      h("header", { class: "page-header" }, h("h1", { text: "Assistant" }),
        this.tabs(part)),
      this.content));

    if (part === "board") await this.showBoard();
    else if (part === "settings") await this.showSettings();
    else await this.showChat();
  }

  hide() {
    this.root.hidden = true;
    this.board.hide();
  }

  part() {
    const part = window.location.hash.replace(/^#\/?/, "").split("/")[1] ?? "";
    if (part === "settings" && !this.settings) return "chat";
    return ["board", "settings"].includes(part) ? part : "chat";
  }

  tabs(current) {
    const parts = [["chat", "#/assistant", "Chat"],
      ["board", "#/assistant/board", "Board"]];
    if (this.settings) {
      parts.push(["settings", "#/assistant/settings", "Model settings"]);
    }
    return h("nav", { class: "assistant-tabs", "aria-label": "Assistant" },
      parts.map(([part, href, label]) => h("a", { href, text: label,
        "data-testid": `assistant-tab-${part}`,
        "aria-current": part === current ? "page" : null })));
  }

  async showChat() {
    let llm;
    try {
      llm = (await call("GET", "/capabilities")).llm ?? {};
    } catch (error) {
      this.content.append(h("p", { class: "page-message is-error",
        text: `The assistant's state could not be read. ${describeError(error)}` }));
      return;
    }
    if (!llm.agent_enabled || !llm.configured) {
      this.showSetup(llm);
      return;
    }

    this.content.replaceChildren(h("p", { class: "page-lead", "data-testid":
      "assistant-model", text: `Answers come from ${llm.model_name ?? "the model"}`
      + `${llm.provider ? ` (${llm.provider})` : ""}. It only reads your library,`
      + " and asks before it changes anything." }), this.chat.element);
    this.chat.focus();
  }

  // Without a model the assistant explains how to get one; the rest of Lumilio
  // never needs it.
  showSetup(llm) {
    const admin = Boolean(this.settings);
    const onlyOff = llm.configured && !llm.agent_enabled;
    const state = onlyOff
      ? "A language model is set up, but the assistant is turned off."
      : "The assistant needs a language model, and none is set up yet.";
    this.content.replaceChildren(h("section", { class: "card assistant-setup",
      "data-testid": "assistant-setup" },
    h("h2", { text: "The assistant is not available" }),
    h("p", { text: `${state} Everything else in Lumilio works without it.` }),
    // With a model set up, only switching the assistant on is left to do.
    onlyOff ? h("p", { "data-testid": "assistant-setup-step",
      text: "An administrator ticks “Turn the assistant on for everyone” in the"
        + " assistant's model settings and saves." }) : setupSteps(),
    admin ? h("p", {}, h("a", { href: "#/assistant/settings",
      "data-testid": "assistant-setup-link", text: "Open the model settings" }))
      : h("p", { class: "hint", text: "Ask an administrator to set it up." })));
  }

  async showBoard() {
    this.content.replaceChildren(h("p", { class: "page-lead", text: "Results you"
      + " pinned from the assistant. A live pin runs its search again each time"
      + " the board opens; a frozen one shows the photos it was pinned with." }),
    this.board.element);
    await this.board.show();
  }

  async showSettings() {
    this.content.replaceChildren(this.settings.element);
    await this.settings.show();
  }
}

function setupSteps() {
  return h("ol", { "data-testid": "assistant-setup-steps" },
    h("li", {}, ...withCode("Run a model server on this computer or your network."
      + " With Ollama: `ollama serve`, then `ollama pull qwen2.5`. With llama.cpp:"
      + " `llama-server -m <model>.gguf --jinja --port 8080`.")),
    h("li", { text: "An administrator enters the server's address and the"
      + " model's name in the assistant's model settings, tests the connection"
      + " and turns the assistant on." }));
}

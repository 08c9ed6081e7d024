import { ApiError, call, describeError } from "./api.js";
import { withCode } from "./assistant_markdown.js";
import { h } from "./dom.js";

// The providers the server accepts, and what to type for each. The addresses of
// hosted services are only shown as examples: nothing is filled in for the
// administrator, so the product never talks to a service nobody chose. A server
// that usually runs on this computer has its usual address filled in.
const PROVIDERS = [
  { value: "ollama", label: "Ollama (on this computer or your network)",
    example: "http://127.0.0.1:11434/v1", local: "http://127.0.0.1:11434/v1",
    help: "No key needed. Run `ollama serve`, then `ollama pull` a model that can"
      + " call tools (for example qwen2.5) and give its name below." },
  { value: "openai", label: "OpenAI or an OpenAI-compatible server (llama.cpp, …)",
    example: "https://api.openai.com/v1, or http://127.0.0.1:8080/v1 for llama.cpp",
    help: "For llama.cpp, start `llama-server` with a model and `--jinja`, and use"
      + " its address; a key is only needed if the server asks for one." },
  { value: "deepseek", label: "DeepSeek", example: "https://api.deepseek.com/v1",
    help: "Needs an API key from DeepSeek." },
  { value: "ark", label: "Volcengine Ark",
    example: "https://ark.cn-beijing.volces.com/api/v3",
    help: "Needs an API key from Volcengine Ark." },
];

// The administrator's settings for the assistant's language model: which server,
// which model, the key (written, never shown), whether the assistant is on, and a
// test that asks the model for an answer with what is in the form.
export class LlmSettingsForm {
  constructor({ onSaved = () => {} } = {}) {
    this.onSaved = onSaved;
    this.status = h("p", { class: "form-status", role: "status",
      "data-testid": "llm-status" });
    this.slot = h("div");
    this.element = h("section", { class: "llm-settings card",
      "aria-labelledby": "llm-settings-title", "data-testid": "llm-settings" },
    h("h2", { id: "llm-settings-title", text: "Language model" }),
    h("p", { class: "hint", text: "The assistant needs a language model that can"
      + " call tools. It can run on this computer: photos are never sent to it,"
      + " only your questions and the names, places and dates it looks up." }),
    this.slot, this.status);
  }

  async show() {
    this.status.className = "form-status";
    this.status.textContent = "Loading…";
    let settings;
    try {
      settings = await call("GET", "/settings/system");
    } catch (error) {
      this.fail(error);
      return;
    }
    this.status.textContent = "";
    this.slot.replaceChildren(this.buildForm(settings.llm ?? {}));
  }

  buildForm(llm) {
    this.provider = h("select", { id: "llm-provider", name: "provider", required: true,
      "data-testid": "llm-provider", onchange: () => this.describeProvider() },
    h("option", { value: "", text: "Choose…" }),
    ...PROVIDERS.map((p) => h("option", { value: p.value, text: p.label,
      selected: p.value === llm.provider })));
    this.providerHelp = h("p", { id: "llm-provider-help", class: "field-hint" });
    this.baseUrl = h("input", { id: "llm-base-url", name: "base_url", type: "url",
      required: true, value: llm.base_url ?? "", autocomplete: "off",
      spellcheck: "false", "aria-describedby": "llm-base-url-help",
      "data-testid": "llm-base-url" });
    this.baseUrlHelp = h("p", { id: "llm-base-url-help", class: "field-hint" });
    this.model = h("input", { id: "llm-model", name: "model_name", required: true,
      value: llm.model_name ?? "", autocomplete: "off", spellcheck: "false",
      "data-testid": "llm-model" });
    this.apiKey = h("input", { id: "llm-api-key", name: "api_key", type: "password",
      autocomplete: "new-password", spellcheck: "false",
      "aria-describedby": "llm-api-key-help", "data-testid": "llm-api-key" });
    this.forgetKey = h("input", { type: "checkbox", id: "llm-forget-key",
      "data-testid": "llm-forget-key" });
    this.enabled = h("input", { type: "checkbox", id: "llm-enabled",
      checked: Boolean(llm.agent_enabled), "data-testid": "llm-enabled" });
    this.testButton = h("button", { type: "button", text: "Test connection",
      "data-testid": "llm-test", onclick: () => this.test() });
    this.saveButton = h("button", { type: "submit", class: "primary", text: "Save",
      "data-testid": "llm-save" });

    const form = h("form", { class: "llm-form", "data-testid": "llm-form",
      onsubmit: (event) => {
        event.preventDefault();
        this.save();
      } },
    field("llm-provider", "Provider", this.provider, this.providerHelp),
    field("llm-base-url", "Server address (base URL)", this.baseUrl,
      this.baseUrlHelp),
    field("llm-model", "Model name", this.model),
    field("llm-api-key", "API key", this.apiKey, h("p", { id: "llm-api-key-help",
      class: "field-hint", "data-testid": "llm-key-state",
      text: llm.api_key_configured
        ? "A key is stored. Leave this empty to keep it, or type a new one."
        : "No key is stored. Local servers usually need none." })),
    llm.api_key_configured ? h("label", { class: "check" }, this.forgetKey,
      h("span", { text: "Remove the stored key" })) : null,
    h("label", { class: "check" }, this.enabled,
      h("span", { text: "Turn the assistant on for everyone" })),
    h("div", { class: "form-row" }, this.saveButton, this.testButton));
    this.filledAddress = undefined;
    this.describeProvider();
    return form;
  }

  describeProvider() {
    const chosen = PROVIDERS.find((p) => p.value === this.provider.value);
    this.providerHelp.replaceChildren(...withCode(chosen?.help ?? ""));
    this.fillLocalAddress(chosen);
    this.baseUrl.placeholder = chosen ? chosen.example.split(",")[0] : "";
    this.baseUrlHelp.textContent = chosen ? `For example ${chosen.example}.` : "";
  }

  // Only an empty field, or one holding the address filled in for another
  // provider, is filled: what the administrator typed stays.
  fillLocalAddress(chosen) {
    const current = this.baseUrl.value.trim();
    if (current && current !== this.filledAddress) return;
    this.baseUrl.value = chosen?.local ?? "";
    this.filledAddress = chosen?.local;
  }

  // The LLM part of the settings as the form holds it; the key only when typed or
  // to be removed, so that an empty field keeps the stored one.
  values() {
    const llm = {
      provider: this.provider.value,
      base_url: this.baseUrl.value.trim(),
      model_name: this.model.value.trim(),
      agent_enabled: this.enabled.checked,
    };
    const key = this.apiKey.value.trim();
    if (key) llm.api_key = key;
    else if (this.forgetKey.checked) llm.api_key = "";
    return llm;
  }

  async save() {
    if (!this.checkForm()) return;
    await this.act(this.saveButton, async () => {
      const saved = await call("PATCH", "/settings/system", { llm: this.values() });
      this.slot.replaceChildren(this.buildForm(saved.llm ?? {}));
      this.onSaved(saved.llm);
      if (saved.llm?.agent_enabled) return "Saved.";
      return "Saved. The assistant is still off: tick “Turn the assistant on for"
        + " everyone” and save to turn it on.";
    });
  }

  async test() {
    if (!this.checkForm()) return;
    const { agent_enabled: _, ...candidate } = this.values();
    await this.act(this.testButton, async () => {
      this.say("Asking the model…");
      const answer = await call("POST", "/settings/system/validate-llm", candidate);
      // A server that was reached but refused says why in the answer itself.
      if (!answer?.valid) {
        throw new ApiError(200, { message: answer?.message
          ?? "The model did not answer as expected.", error: answer?.error });
      }
      return `The connection works: ${candidate.model_name} answered.`;
    });
  }

  checkForm() {
    const form = this.slot.querySelector("form");
    if (form.checkValidity()) return true;
    form.reportValidity();
    return false;
  }

  async act(button, work) {
    button.disabled = true;
    try {
      this.say(await work());
    } catch (error) {
      this.fail(error);
    } finally {
      button.disabled = false;
    }
  }

  say(text) {
    this.status.className = "form-status is-ok";
    this.status.textContent = text;
  }

  fail(error) {
    this.status.className = "form-status form-error";
    this.status.textContent = `It did not work. ${describeError(error)}`;
  }
}

function field(id, label, control, hint = null) {
  return h("div", { class: "field" }, h("label", { for: id, text: label }), control,
    hint);
}

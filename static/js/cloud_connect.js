// Connecting a cloud account: pick a service, fill in the form it describes, and
// answer its verification step when it has one.

import { call } from "./api.js";
import { clear, h } from "./dom.js";
import { focusFirstField, stepForm } from "./cloud_dialogs.js";
import { describeProviderStatus, providerAvailable } from "./cloud_wording.js";

export class ConnectCard {
  constructor({ onChange }) {
    this.onChange = onChange;
    this.providers = [];
    this.signature = "";

    this.choices = h("div", { class: "cloud-providers" });
    this.chooser = h("fieldset", { class: "cloud-chooser" },
      h("legend", { text: "Service" }), this.choices);
    this.body = h("div", { class: "cloud-connect-body" });
    this.notice = h("p", { class: "cloud-notice", role: "status",
      "data-testid": "cloud-connect-notice" });
    this.element = h("section", { class: "card cloud-connect",
      "data-testid": "cloud-connect", "aria-labelledby": "cloud-connect-title" },
      h("h2", { id: "cloud-connect-title", text: "Connect an account" }),
      this.chooser, this.body, this.notice);
    this.showHint();
  }

  // The list is rebuilt only when it changed, so a refresh of the page never
  // wipes what someone is typing.
  setProviders(providers) {
    const signature = JSON.stringify(providers);
    if (signature === this.signature) return;
    this.signature = signature;
    this.providers = providers;

    clear(this.choices).append(...providers.map((provider) => this.choice(provider)));
    if (!providers.length) {
      this.choices.append(h("p", { class: "hint",
        text: "This server offers no cloud services." }));
    }
    this.showHint();
  }

  choice(provider) {
    const available = providerAvailable(provider);
    const radio = h("input", { type: "radio", name: "cloud-provider",
      value: provider.id, disabled: !available });
    radio.addEventListener("change", () => this.choose(provider));
    return h("label", { class: "cloud-provider",
      "data-testid": `cloud-provider-${provider.id}`,
      "data-available": available ? "yes" : "no" },
      radio,
      h("span", { class: "cloud-provider-title", text: provider.title || provider.id }),
      h("span", { class: "cloud-provider-about",
        text: [provider.description, describeProviderStatus(provider)]
          .filter(Boolean).join(" ") }));
  }

  showHint() {
    clear(this.body).append(h("p", { class: "hint",
      text: "Choose the service that holds the photos." }));
  }

  choose(provider) {
    this.notice.textContent = "";
    const nameField = { name: "display_name", label: "Name in Lumilio",
      type: "text", required: false, placeholder: `My ${provider.title || provider.id}`,
      help_text: "How this account is listed here; Lumilio picks one if left empty." };
    const form = stepForm({
      fields: [nameField, ...(provider.form_fields ?? [])],
      idPrefix: `cloud-${provider.id}`,
      submitText: "Connect",
      note: provider.security_note,
      testid: "cloud-connect-form",
      action: ({ display_name: displayName, ...inputs }) => call("POST",
        "/cloud/credentials",
        { provider: provider.id, display_name: displayName.trim(), inputs }),
      onDone: (answer) => this.settle(provider, answer),
    });
    clear(this.body).append(form);
  }

  settle(provider, answer) {
    const credential = answer.credential ?? {};
    this.onChange();

    if (answer.auth_status === "challenge_required") {
      this.askChallenge(provider, credential, answer.challenge);
      return;
    }
    if (answer.auth_status === "connected") {
      this.finish(`Connected “${credential.display_name}”. `
        + "Choose it below to import its photos into a folder.");
      return;
    }
    // Saved but not signed in; the list of accounts offers what comes next.
    this.finish(`“${credential.display_name}” was saved but is not connected: `
      + "use Reconnect in the list of accounts.");
  }

  askChallenge(provider, credential, challenge) {
    const form = stepForm({
      title: challenge?.title || "Verification required",
      description: challenge?.description,
      fields: challenge?.fields?.length ? challenge.fields : provider.challenge_fields,
      idPrefix: `cloud-challenge-${provider.id}`,
      submitText: "Verify",
      testid: "cloud-challenge",
      action: (inputs) => verifyChallenge(credential, inputs),
      onDone: () => {
        this.onChange();
        this.finish(`Connected “${credential.display_name}”.`);
      },
      onCancel: () => {
        this.finish(`“${credential.display_name}” is waiting for its code: `
          + "enter it from the list of accounts, or remove it there.");
      },
    });
    clear(this.body).append(form);
    focusFirstField(form);
  }

  finish(message) {
    for (const radio of this.chooser.querySelectorAll("input")) radio.checked = false;
    this.showHint();
    this.notice.textContent = message;
  }
}

// A code the service did not take may come back as an error or as another
// challenge; either way the person is told and may try again.
export async function verifyChallenge(credential, inputs) {
  const id = encodeURIComponent(credential.id);
  const answer = await call("POST", `/cloud/credentials/${id}/auth-challenge`,
    { inputs });
  if (answer.auth_status === "challenge_required") {
    throw new Error("The code was not accepted. Check it and try again.");
  }
  if (answer.auth_status !== "connected") {
    throw new Error("The service wants the password again: use Reconnect in the "
      + "list of accounts.");
  }
  return answer;
}

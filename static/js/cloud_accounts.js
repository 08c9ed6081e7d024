// The connected cloud accounts: who they are (never their secrets), whether they
// are signed in, and what can be done with each.

import { call, describeError } from "./api.js";
import { h, syncItems } from "./dom.js";
import { secretFields } from "./cloud_fields.js";
import { askInDialog, confirmInDialog } from "./cloud_dialogs.js";
import { verifyChallenge } from "./cloud_connect.js";
import {
  credentialUsable, describeCloudError, describeCredentialStatus, describeIdentity,
} from "./cloud_wording.js";

export class AccountsList {
  constructor({ onChange }) {
    this.onChange = onChange;
    this.items = new Map();
    this.providers = new Map();

    this.list = h("ul", { class: "cloud-list", "data-testid": "cloud-accounts-list" });
    this.message = h("p", { class: "page-message", role: "status" });
    this.element = h("section", { class: "card cloud-accounts",
      "data-testid": "cloud-accounts", "aria-labelledby": "cloud-accounts-title" },
      h("h2", { id: "cloud-accounts-title", text: "Accounts" }),
      this.message, this.list);
  }

  show(credentials, providers) {
    this.providers = new Map(providers.map((provider) => [provider.id, provider]));
    this.message.classList.remove("is-error");
    this.message.hidden = credentials.length > 0;
    this.message.textContent = "No account connected yet.";

    syncItems(this.list, this.items, credentials, {
      key: (credential) => credential.id,
      create: (id) => this.createItem(id),
      fill: (item, credential) => this.fillItem(item, credential),
    });
  }

  showError(error) {
    this.message.hidden = false;
    this.message.classList.add("is-error");
    this.message.textContent = "The accounts could not be loaded. "
      + describeError(error);
  }

  // Items are updated in place, so a focused button keeps its focus on refresh.
  createItem(id) {
    const item = {
      name: h("h3", { class: "cloud-item-name" }),
      provider: h("span", { class: "pill" }),
      identity: h("p", { class: "cloud-identity", "data-testid": "cloud-identity" }),
      // Live, so "Connected" after a reconnect is heard once, from this line.
      status: h("p", { class: "cloud-status", "data-testid": "cloud-account-status",
        "aria-live": "polite" }),
      outcome: h("p", { class: "cloud-outcome", role: "status" }),
      verify: h("button", { type: "button", text: "Enter the code" }),
      reconnect: h("button", { type: "button", text: "Reconnect" }),
      disconnect: h("button", { type: "button", text: "Disconnect" }),
      remove: h("button", { type: "button", class: "quiet", text: "Remove" }),
    };
    const actions = { verify: () => this.verify(item),
      reconnect: () => this.reconnect(item), disconnect: () => this.disconnect(item),
      remove: () => this.remove(item) };
    for (const [name, action] of Object.entries(actions)) {
      item[name].addEventListener("click", () => this.run(item, action));
    }
    item.element = h("li", { class: "cloud-item", "data-testid": "cloud-account",
      "data-credential-id": id, tabindex: "-1" },
      h("div", { class: "cloud-item-head" }, item.name, item.provider),
      item.identity, item.status, item.outcome,
      h("div", { class: "cloud-actions" },
        item.verify, item.reconnect, item.disconnect, item.remove));
    this.items.set(id, item);
    return item;
  }

  fillItem(item, credential) {
    item.credential = credential;
    item.name.textContent = credential.display_name || credential.provider_title;
    item.provider.textContent = credential.provider_title || credential.provider;
    item.identity.textContent = describeIdentity(credential);
    item.identity.hidden = !item.identity.textContent;
    item.status.textContent = describeCredentialStatus(credential.status);
    item.status.classList.toggle("is-error", !credentialUsable(credential));

    const label = item.name.textContent;
    for (const [button, verb] of [[item.verify, "Enter the code for"],
      [item.reconnect, "Reconnect"], [item.disconnect, "Disconnect"],
      [item.remove, "Remove"]]) {
      button.setAttribute("aria-label", `${verb} ${label}`);
    }
    item.verify.hidden = credential.status !== "challenge_required"
      || !this.provider(credential).challenge_fields?.length;
    item.reconnect.hidden = credentialUsable(credential);
    item.disconnect.hidden = !credentialUsable(credential);
  }

  provider(credential) {
    return this.providers.get(credential.provider) ?? {};
  }

  // One action at a time per account; its outcome is written under the account.
  async run(item, action) {
    const hadFocus = item.element.contains(document.activeElement);
    const buttons = item.element.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    item.outcome.classList.remove("is-error");
    item.outcome.textContent = "";
    try {
      const said = await action();
      if (said) item.outcome.textContent = said;
    } catch (error) {
      item.outcome.classList.add("is-error");
      item.outcome.textContent = describeCloudError(error);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
    await this.onChange();
    if (hadFocus) keepFocusIn(item);
  }

  async disconnect(item) {
    await call("POST", `${credentialPath(item.credential)}/disconnect`, {});
    return "Disconnected. Its folders keep their photos; reconnect to import again.";
  }

  async remove(item) {
    const name = item.name.textContent;
    const confirmed = await confirmInDialog({
      title: `Remove “${name}”?`,
      message: "Lumilio forgets this account and its sign-in, and folders stop "
        + "importing from it. The photos already imported stay in your library.",
      confirmText: "Remove account",
      testid: "cloud-remove-dialog",
    });
    if (!confirmed) return "";

    await call("DELETE", credentialPath(item.credential));
    return "";
  }

  async verify(item, challenge = null) {
    const provider = this.provider(item.credential);
    const answer = await askInDialog({
      title: challenge?.title || "Verification required",
      description: challenge?.description
        || `Enter the code ${provider.title || "the service"} sent you.`,
      fields: challenge?.fields?.length ? challenge.fields : provider.challenge_fields,
      idPrefix: "cloud-dialog-challenge",
      submitText: "Verify",
      testid: "cloud-challenge",
      action: (inputs) => verifyChallenge(item.credential, inputs),
    });
    // The status line says "Connected" by itself.
    return "";
  }

  // First without inputs, which reuses what the server kept; only when the
  // service no longer takes the saved password is the person asked for it.
  async reconnect(item) {
    const path = `${credentialPath(item.credential)}/reconnect`;
    let answer = item.credential.status === "password_required"
      ? { auth_status: "password_required" }
      : await call("POST", path, {});

    if (answer.auth_status === "password_required") {
      answer = await this.askPassword(item);
      if (!answer) return "";
    }
    if (answer.auth_status === "challenge_required") {
      return this.verify(item, answer.challenge);
    }
    return "";
  }

  askPassword(item) {
    const provider = this.provider(item.credential);
    const fields = secretFields(provider.form_fields);
    if (!fields.length) {
      throw new Error("The service did not accept the saved sign-in.");
    }
    return askInDialog({
      title: `Reconnect “${item.name.textContent}”`,
      description: "The service no longer accepts the saved password. Type it "
        + "again; it replaces the saved one.",
      fields,
      idPrefix: "cloud-dialog-reconnect",
      submitText: "Reconnect",
      testid: "cloud-reconnect",
      action: async (inputs) => {
        const answer = await call("POST",
          `${credentialPath(item.credential)}/reconnect`, { inputs });
        if (answer.auth_status === "password_required") {
          throw new Error("The service did not accept the password. Try again.");
        }
        return answer;
      },
    });
  }
}

// The pressed button may be gone once the list is refreshed (Reconnect gives way
// to Disconnect); the keyboard stays on the same account, not the page body.
function keepFocusIn(item) {
  const focused = document.activeElement;
  if (!item.element.isConnected) return;
  if (item.element.contains(focused) && focused.offsetParent) return;

  const buttons = [...item.element.querySelectorAll(".cloud-actions button")];
  const next = buttons.find((button) => !button.hidden && !button.disabled);
  (next ?? item.element).focus();
}

function credentialPath(credential) {
  return `/cloud/credentials/${encodeURIComponent(credential.id)}`;
}

// Folders that import from a cloud account: a form that creates one bound to an
// account, and the list of them with the progress of their latest import.

import { call, describeError } from "./api.js";
import { clear, h, syncItems } from "./dom.js";
import {
  credentialUsable, describeIdentity, describeRun, folderNameHint, runActive,
  runFailed, runProgress,
} from "./cloud_wording.js";

// The timeline has no filter by folder yet, so the photos are shown there among
// the rest of the library.
const PHOTOS_LINK = "#/timeline";

export class NewImportForm {
  constructor({ onCreated }) {
    this.onCreated = onCreated;
    this.signature = "";

    this.account = h("select", { id: "cloud-import-account", name: "account",
      required: true, "aria-describedby": "cloud-import-account-hint" });
    this.accountHint = h("p", { class: "field-hint", id: "cloud-import-account-hint" });
    this.name = h("input", { id: "cloud-import-name", name: "name", required: true,
      autocomplete: "off", placeholder: folderNameHint() });
    this.error = h("p", { class: "form-error", role: "alert", hidden: true });
    this.submit = h("button", { type: "submit", class: "primary",
      text: "Create folder and import" });
    this.element = h("form", { class: "card cloud-new-import",
      "data-testid": "cloud-new-import", "aria-labelledby": "cloud-new-import-title" },
      h("h2", { id: "cloud-new-import-title", text: "Import into a new folder" }),
      h("p", { class: "hint", text: "Lumilio makes a folder in its storage and copies "
        + "the account's photos and videos into it. The account itself is only read; "
        + "nothing in it is changed or deleted." }),
      h("div", { class: "cloud-field" },
        h("label", { for: "cloud-import-account", text: "Account" }),
        this.account, this.accountHint),
      h("div", { class: "cloud-field" },
        h("label", { for: "cloud-import-name", text: "Folder name" }),
        this.name),
      this.error,
      h("div", { class: "form-actions" }, this.submit));

    this.usable = [];
    this.account.addEventListener("change", () => this.suggestName());
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
  }

  // Only signed-in accounts can import; the choice made so far is kept.
  setCredentials(credentials) {
    const usable = credentials.filter(credentialUsable);
    // Rebuilt only when it changed, so a refresh never closes an open list.
    const signature = JSON.stringify(usable.map((c) => [c.id, c.display_name]));
    if (signature === this.signature) return;
    this.signature = signature;
    this.usable = usable;
    const chosen = this.account.value;
    clear(this.account).append(...usable.map((credential) => h("option", {
      value: credential.id, selected: credential.id === chosen,
      text: [credential.display_name, credential.provider_title]
        .filter(Boolean).join(" — ") })));

    this.account.disabled = usable.length === 0;
    this.submit.disabled = usable.length === 0;
    this.accountHint.textContent = usable.length
      ? "" : "Connect an account first; it will be offered here.";
    this.suggestName();
  }

  // The example name follows the chosen account's service.
  suggestName() {
    const chosen = this.usable.find((each) => each.id === this.account.value);
    this.name.placeholder = folderNameHint(chosen?.provider);
  }

  async create() {
    this.error.hidden = true;
    this.submit.disabled = true;
    try {
      const answer = await call("POST", "/repositories", {
        name: this.name.value.trim(), role: "regular",
        cloud_credential_id: this.account.value });
      this.name.value = "";
      if (answer.cloud_import_error) {
        this.error.hidden = false;
        this.error.textContent = `The folder “${answer.repository.name}” was made, `
          + `but its import did not start: ${answer.cloud_import_error}`;
      }
      this.onCreated(answer);
    } catch (error) {
      this.error.hidden = false;
      this.error.textContent = describeError(error);
    } finally {
      this.submit.disabled = this.account.disabled;
    }
  }
}

export class ImportsList {
  constructor({ onStarted }) {
    this.onStarted = onStarted;
    this.items = new Map();

    this.list = h("ul", { class: "cloud-list", "data-testid": "cloud-imports-list" });
    this.message = h("p", { class: "page-message", role: "status" });
    this.element = h("section", { class: "card cloud-imports",
      "data-testid": "cloud-imports", "aria-labelledby": "cloud-imports-title" },
      h("h2", { id: "cloud-imports-title", text: "Folders that import" }),
      this.message, this.list);
  }

  // `bound` holds { repository, cloud } pairs, cloud being the repository's status.
  show(bound) {
    this.message.classList.remove("is-error");
    this.message.hidden = bound.length > 0;
    this.message.textContent = "No folder imports from an account yet.";

    syncItems(this.list, this.items, bound, {
      key: ({ repository }) => repository.id,
      create: (id) => this.createItem(id),
      fill: (item, { repository, cloud }) => this.fillItem(item, repository, cloud),
    });
  }

  showError(error) {
    this.message.hidden = false;
    this.message.classList.add("is-error");
    this.message.textContent = "The folders could not be loaded. "
      + describeError(error);
  }

  createItem(id) {
    const item = {
      name: h("h3", { class: "cloud-item-name" }),
      provider: h("span", { class: "pill" }),
      source: h("p", { class: "cloud-identity" }),
      path: h("code", { class: "repo-path" }),
      status: h("p", { class: "cloud-status", role: "status",
        "data-testid": "cloud-run-status" }),
      bar: h("progress", { class: "cloud-progress", max: "1",
        "aria-label": "Import progress" }),
      failures: h("details", { class: "cloud-failures",
        "data-testid": "cloud-run-failures" }),
      start: h("button", { type: "button", text: "Import new photos" }),
      link: h("a", { href: PHOTOS_LINK, class: "cloud-photos-link",
        text: "See the photos" }),
    };
    item.start.addEventListener("click", () => this.start(item));
    item.element = h("li", { class: "cloud-item", "data-testid": "cloud-import",
      "data-repository-id": id },
      h("div", { class: "cloud-item-head" }, item.name, item.provider),
      item.source, item.path, item.status, item.bar, item.failures,
      h("div", { class: "cloud-actions" }, item.start, item.link));
    this.items.set(id, item);
    return item;
  }

  fillItem(item, repository, cloud) {
    const credential = cloud.credential;
    item.repository = repository;
    item.credential = credential;
    item.name.textContent = repository.name;
    item.provider.textContent = credential?.provider_title || cloud.provider || "";
    item.provider.hidden = !item.provider.textContent;
    item.source.textContent = credential
      ? `From ${[credential.display_name, describeIdentity(credential)]
        .filter(Boolean).join(" · ")}${credentialUsable(credential) ? ""
        : " (not connected: reconnect it above to import again)"}`
      : "Its account was removed; it keeps the photos it imported.";
    item.path.textContent = repository.path ?? "";
    this.showRun(item, cloud.latest_run);
  }

  showRun(item, run) {
    item.run = run;
    item.status.textContent = describeRun(run);
    item.status.classList.toggle("is-error", runFailed(run));
    item.status.dataset.state = run?.status ?? "none";

    const progress = runProgress(run);
    item.bar.hidden = !runActive(run);
    // Without a value the bar shows work of unknown length.
    if (progress === null) item.bar.removeAttribute("value");
    else item.bar.value = progress;

    showFailures(item.failures, run?.item_errors ?? []);

    item.start.disabled = runActive(run) || !credentialUsable(item.credential);
  }

  updateRun(repositoryId, run) {
    const item = this.items.get(repositoryId);
    if (item) this.showRun(item, run);
  }

  activeRuns() {
    return [...this.items.entries()]
      .filter(([, item]) => runActive(item.run))
      .map(([repositoryId, item]) => ({ repositoryId, run: item.run }));
  }

  async start(item) {
    item.start.disabled = true;
    try {
      const id = encodeURIComponent(item.repository.id);
      const answer = await call("POST", `/repositories/${id}/cloud/import`, {});
      this.showRun(item, answer.run);
      this.onStarted();
    } catch (error) {
      item.status.classList.add("is-error");
      item.status.textContent = `The import could not start. ${describeError(error)}`;
      item.start.disabled = false;
    }
  }
}

// The server names the files that failed beside the run's counts; they are kept
// folded so that a long list does not push the other folders away.
function showFailures(details, failures) {
  details.hidden = failures.length === 0;
  if (!failures.length) return;

  const open = details.open;
  clear(details).append(
    h("summary", { text: `Which files failed (${failures.length})` }),
    h("ul", {}, failures.map((failure) => h("li", {},
      h("code", { text: failure.name || failure.remote_id }),
      `: ${failure.error}`))));
  details.open = open;
}

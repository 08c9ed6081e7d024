import { ApiError, call, describeError } from "./api.js";
import { clear, h } from "./dom.js";
import { formatSince } from "./format.js";

const ACTIVE_POLL_MS = 2_000;
const IDLE_POLL_MS = 10_000;
const ACTIVE_SCANS = new Set(["queued", "running"]);

// The Folders page: the repositories the server knows, their latest scan, the
// queue's progress, and a form to register another folder in place.
export class Folders {
  constructor(root, activity) {
    this.root = root;
    this.activity = activity;
    this.cards = new Map();
    this.scans = new Map();
    this.visible = false;
    this.timer = 0;

    this.buildDom();
    activity.subscribe(() => this.showQueue());
  }

  buildDom() {
    this.queueText = h("p", { class: "queue-text" });
    this.queueBar = h("progress", { class: "queue-bar", max: "1" });
    this.list = h("ul", { class: "repo-list", "data-testid": "repositories" });
    this.listMessage = h("p", { class: "page-message", role: "status" });
    this.form = this.buildForm();

    this.root.append(h("div", { class: "page" },
      h("header", { class: "page-header" },
        h("h1", { text: "Folders" }),
        h("p", { class: "page-lead", text: "Lumilio keeps your photos and videos in "
          + "folders on this computer. Each one is scanned for new, changed and "
          + "removed files." })),
      h("section", { class: "card queue-card", "data-testid": "queue" },
        h("h2", { text: "Background work" }), this.queueBar, this.queueText),
      this.listMessage,
      this.list,
      this.form));
    this.showQueue();
  }

  buildForm() {
    const name = h("input", { name: "name", required: true, autocomplete: "off",
      id: "folder-name" });
    const path = h("input", { name: "path", required: true, autocomplete: "off",
      id: "folder-path", placeholder: "/home/me/Pictures", spellcheck: "false" });
    this.formError = h("p", { class: "form-error", role: "alert", hidden: true });
    this.addButton = h("button", { type: "submit", class: "primary",
      text: "Add folder" });

    // Most people name a folder after its last path segment; offer that.
    path.addEventListener("input", () => {
      if (name.dataset.touched) return;
      name.value = path.value.replace(/[\\/]+$/, "").split(/[\\/]/).pop() ?? "";
    });
    name.addEventListener("input", () => {
      name.dataset.touched = "yes";
    });

    const form = h("form", { class: "card add-folder", "data-testid": "add-folder" },
      h("h2", { text: "Add a folder" }),
      h("p", { class: "hint", text: "The folder is registered in place: Lumilio "
        + "indexes the files where they are. Its files are never moved or changed." }),
      h("label", { for: "folder-path", text: "Folder path" }),
      path,
      h("p", { class: "field-hint", text: "The full path of the folder on the "
        + "computer that runs Lumilio." }),
      h("label", { for: "folder-name", text: "Name" }),
      name,
      this.formError,
      h("div", { class: "form-actions" }, this.addButton));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.addFolder(name.value.trim(), path.value.trim());
    });
    return form;
  }

  show() {
    this.visible = true;
    this.refresh();
  }

  hide() {
    this.visible = false;
    clearTimeout(this.timer);
  }

  async refresh() {
    clearTimeout(this.timer);
    try {
      const answer = await call("GET", "/repositories");
      const repositories = answer.repositories ?? [];
      await Promise.all(repositories.map((repository) => this.loadScan(repository.id)));
      this.showRepositories(repositories);
    } catch (error) {
      this.showListError(error);
    }
    if (this.visible) this.timer = setTimeout(() => this.refresh(), this.pollDelay());
  }

  pollDelay() {
    const scanning = [...this.scans.values()]
      .some((scan) => ACTIVE_SCANS.has(scan?.status));
    return scanning || this.activity.busy ? ACTIVE_POLL_MS : IDLE_POLL_MS;
  }

  async loadScan(repositoryId) {
    try {
      const id = encodeURIComponent(repositoryId);
      const scan = await call("GET", `/repositories/${id}/scans/latest`);
      this.scans.set(repositoryId, scan);
    } catch (error) {
      // 404 only means this folder has never been scanned; after any other failure
      // the last answer we had is still the best one to show.
      if (error instanceof ApiError && error.status === 404) {
        this.scans.set(repositoryId, null);
      }
    }
  }

  showRepositories(repositories) {
    this.listMessage.hidden = repositories.length > 0;
    this.listMessage.classList.remove("is-error");
    this.listMessage.textContent = "No folders yet.";

    const seen = new Set();
    for (const repository of repositories) {
      seen.add(repository.id);
      const card = this.cards.get(repository.id) ?? this.createCard(repository);
      this.fillCard(card, repository, this.scans.get(repository.id));
      if (!card.element.isConnected) this.list.append(card.element);
    }
    for (const [id, card] of this.cards) {
      if (seen.has(id)) continue;
      card.element.remove();
      this.cards.delete(id);
    }
  }

  showListError(error) {
    this.listMessage.hidden = false;
    this.listMessage.classList.add("is-error");
    this.listMessage.textContent = error instanceof ApiError && error.status === 403
      ? "Only an administrator can manage folders."
      : `The folders could not be loaded. ${describeError(error)}`;
  }

  // Cards are updated in place on every poll, so a focused button keeps its focus.
  createCard(repository) {
    const card = {
      title: h("h3", { class: "repo-name" }),
      badge: h("span", { class: "pill", text: "Main library" }),
      path: h("code", { class: "repo-path" }),
      scan: h("p", { class: "repo-scan", "data-testid": "scan-status" }),
      button: h("button", { type: "button", text: "Scan now" }),
    };
    card.button.addEventListener("click", () => this.scan(repository.id, card));
    card.element = h("li", { class: "card repo", "data-repository-id": repository.id },
      h("div", { class: "repo-head" }, card.title, card.badge),
      card.path, card.scan,
      h("div", { class: "repo-actions" }, card.button));
    this.cards.set(repository.id, card);
    return card;
  }

  fillCard(card, repository, scan) {
    card.title.textContent = repository.name;
    card.badge.hidden = !repository.is_primary;
    card.path.textContent = repository.path ?? "";
    card.scan.textContent = describeScan(scan);
    card.scan.classList.toggle("is-error", scan?.status === "failed");
    card.button.disabled = ACTIVE_SCANS.has(scan?.status);
  }

  async scan(repositoryId, card) {
    card.button.disabled = true;
    try {
      const id = encodeURIComponent(repositoryId);
      await call("POST", `/repositories/${id}/scan`, {});
      card.scan.textContent = "Scan queued…";
      this.activity.nudge();
    } catch (error) {
      card.scan.textContent = `The scan could not start. ${describeError(error)}`;
      card.scan.classList.add("is-error");
      card.button.disabled = false;
      return;
    }
    this.refresh();
  }

  async addFolder(name, path) {
    this.formError.hidden = true;
    this.addButton.disabled = true;
    try {
      const answer = await call("POST", "/repositories",
        { name, path, role: "regular" });
      this.form.reset();
      delete this.form.elements.name.dataset.touched;
      await this.scanIfNeverScanned(answer.repository.id);
      this.activity.nudge();
    } catch (error) {
      this.formError.hidden = false;
      this.formError.textContent = describeError(error);
    } finally {
      this.addButton.disabled = false;
    }
    this.refresh();
  }

  // A freshly added folder is only useful once it has been read. The server may
  // already have queued that first scan itself; a second request would be noise.
  async scanIfNeverScanned(repositoryId) {
    await this.loadScan(repositoryId);
    if (this.scans.get(repositoryId)) return;
    const id = encodeURIComponent(repositoryId);
    await call("POST", `/repositories/${id}/scan`, {});
  }

  showQueue() {
    const stats = this.activity.stats;
    const progress = this.activity.progress();
    this.queueBar.hidden = progress === null;
    if (progress !== null) this.queueBar.value = progress;

    if (!stats) {
      clear(this.queueText).append("No information about the queue yet.");
      return;
    }
    const parts = [
      `${(stats.available ?? 0) + (stats.retryable ?? 0)} waiting`,
      `${stats.running ?? 0} running`,
      `${(stats.completed ?? 0).toLocaleString("en")} done`,
    ];
    if (stats.discarded) parts.push(`${stats.discarded} failed`);
    const lead = this.activity.busy ? "Working: " : "Idle: ";
    clear(this.queueText).append(lead + parts.join(" · "));
  }
}

function describeScan(scan) {
  if (!scan) return "Not scanned yet.";

  const counts = [
    `${scan.discovered_count ?? 0} new`,
    `${scan.updated_count ?? 0} updated`,
    `${scan.deleted_count ?? 0} removed`,
    `${scan.skipped_count ?? 0} skipped`,
  ].join(", ");
  switch (scan.status) {
    case "queued":
      return "Scan queued…";
    case "running":
      return `Scanning… ${counts} so far.`;
    case "completed":
      return `${["Scanned", formatSince(scan.finished_at ?? scan.started_at)]
        .filter(Boolean).join(" ")}: ${counts}.`;
    case "failed":
      return `The last scan failed: ${scan.error || "no reason given"}.`;
    case "cancelled":
      return `The last scan was cancelled (${counts}).`;
    default:
      return `Last scan: ${scan.status} (${counts}).`;
  }
}

// The Cloud page (administrators): accounts at online services, and folders that
// import their photos, with the progress of each import while it runs.

import { call, describeError } from "./api.js";
import { clear, h } from "./dom.js";
import { AccountsList } from "./cloud_accounts.js";
import { ConnectCard } from "./cloud_connect.js";
import { ImportsList, NewImportForm } from "./cloud_imports.js";
import { runActive } from "./cloud_wording.js";

const RUN_POLL_MS = 1_500;
const IDLE_POLL_MS = 15_000;

export class CloudPage {
  constructor(root, activity) {
    this.root = root;
    this.activity = activity;
    this.visible = false;
    this.timer = 0;
    this.providers = [];

    const refresh = () => this.refresh();
    this.accounts = new AccountsList({ onChange: refresh });
    this.connect = new ConnectCard({ onChange: refresh });
    this.newImport = new NewImportForm({ onCreated: () => this.started() });
    this.imports = new ImportsList({ onStarted: () => this.started() });
    this.message = h("p", { class: "page-message is-error", role: "alert",
      hidden: true });

    clear(root).append(h("div", { class: "page cloud-page" },
      h("header", { class: "page-header" },
        h("h1", { text: "Cloud import" }),
        h("p", { class: "page-lead", text: "Bring photos and videos home from an "
          + "online account. Lumilio copies them into a folder on this computer; "
          + "what is already in the library is not fetched twice." })),
      this.message,
      this.accounts.element,
      this.connect.element,
      this.newImport.element,
      this.imports.element));
  }

  show() {
    this.root.hidden = false;
    this.visible = true;
    this.refresh();
  }

  hide() {
    this.root.hidden = true;
    this.visible = false;
    clearTimeout(this.timer);
  }

  async refresh() {
    clearTimeout(this.timer);
    this.message.hidden = true;
    try {
      await this.loadProviders();
      const credentials = (await call("GET", "/cloud/credentials")).credentials ?? [];
      this.accounts.show(credentials, this.providers);
      this.newImport.setCredentials(credentials);
    } catch (error) {
      this.accounts.showError(error);
    }
    try {
      this.imports.show(await loadBoundRepositories());
    } catch (error) {
      this.imports.showError(error);
    }
    this.schedule();
  }

  // Providers change only with the server's version; one good answer is enough.
  async loadProviders() {
    if (this.providers.length) return;
    try {
      this.providers = (await call("GET", "/cloud/providers")).providers ?? [];
      this.connect.setProviders(this.providers);
    } catch (error) {
      this.message.hidden = false;
      this.message.textContent = `The cloud services could not be listed. ${
        describeError(error)}`;
    }
  }

  started() {
    this.activity?.nudge();
    this.refresh();
  }

  schedule() {
    clearTimeout(this.timer);
    if (!this.visible) return;
    const busy = this.imports.activeRuns().length > 0;
    this.timer = setTimeout(() => (busy ? this.followRuns() : this.refresh()),
      busy ? RUN_POLL_MS : IDLE_POLL_MS);
  }

  // While imports run only their runs are asked for; once one ends, everything is
  // loaded again (the account may have changed state, a new run may be listed).
  async followRuns() {
    let ended = false;
    await Promise.all(this.imports.activeRuns().map(async ({ repositoryId, run }) => {
      try {
        const fresh = await call("GET",
          `/cloud/import-runs/${encodeURIComponent(run.id)}`);
        this.imports.updateRun(repositoryId, fresh);
        if (!runActive(fresh)) ended = true;
      } catch {
        ended = true;
      }
    }));
    if (ended) {
      this.activity?.nudge();
      this.refresh();
    } else {
      this.schedule();
    }
  }
}

// Every repository with its cloud status; those bound to an account, or that
// imported from one before it was removed, are the ones this page shows.
async function loadBoundRepositories() {
  const repositories = (await call("GET", "/repositories")).repositories ?? [];
  const statuses = await Promise.all(repositories.map((repository) => call("GET",
    `/repositories/${encodeURIComponent(repository.id)}/cloud`)));
  return repositories
    .map((repository, index) => ({ repository, cloud: statuses[index] }))
    .filter(({ cloud }) => cloud.credential || cloud.enabled || cloud.latest_run);
}

import { call, describeError } from "./api.js";
import { formatCaptureTime } from "./captime.js";
import { clear, h } from "./dom.js";
import { formatBytes, formatCamera, formatDimensions, plural } from "./format.js";
import { mediaUrl } from "./media.js";
import { isAdmin } from "./session.js";
import { loadThumbnail } from "./thumbs.js";

const PAGE = 20;
const METHOD_WORDS = {
  exact: "Same file",
  phash: "Looks the same",
  mixed: "Same file and look-alikes",
};

// What sets the copies of a group apart, one row each; a row whose values differ
// is marked, so the person sees at a glance what they would lose.
const FACTS = [
  ["Size", (a) => formatBytes(a.file_size)],
  ["Resolution", (a) => formatDimensions(a.width, a.height)],
  ["Taken", (a) => formatCaptureTime(a) || "unknown"],
  ["Camera", (a) => formatCamera(a.specific_metadata) || "unknown"],
  ["Rating", (a) => (a.rating ? "★".repeat(a.rating) : "none")],
  ["Folder", (a) => a.storage_path.split("/").slice(0, -1).join("/") || "/"],
];

// The Duplicates page: find copies in a repository, review each group side by side,
// keep one and move the others to the trash, or say they are not duplicates.
export class Duplicates {
  constructor(root, user) {
    this.root = root;
    this.user = user;
    this.offset = 0;
    this.buildDom();
  }

  buildDom() {
    this.summaryText = h("p", { class: "dup-summary", role: "status",
      "data-testid": "duplicate-summary" });
    this.detectButton = h("button", { type: "button", class: "primary",
      text: "Find duplicates", "data-testid": "find-duplicates",
      onclick: () => this.detect() });
    this.message = h("p", { class: "page-message", role: "status" });
    this.list = h("div", { class: "dup-groups", "data-testid": "duplicate-groups" });
    this.more = h("button", { type: "button", text: "Show more", hidden: true,
      onclick: () => this.load(this.offset) });

    this.root.append(h("div", { class: "page page-wide" },
      h("header", { class: "page-header" },
        h("h1", { text: "Duplicates" }),
        h("p", { class: "page-lead", text: "Copies of the same file, and the same "
          + "picture saved again. Keep one; the others go to the trash, from where "
          + "you can restore them." })),
      h("section", { class: "card dup-toolbar" },
        this.summaryText, h("span", { class: "topbar-spacer" }),
        this.detectButton),
      this.message, this.list, this.more));
  }

  async show() {
    this.root.hidden = false;
    await Promise.all([this.loadRepositories(), this.refreshSummary()]);
    await this.load(0);
  }

  hide() {
    this.root.hidden = true;
  }

  // Detection runs per repository. Only administrators may list repositories;
  // everyone else looks in the repositories that hold their own photos.
  async loadRepositories() {
    this.repositories = [];
    try {
      if (isAdmin(this.user)) {
        const answer = await call("GET", "/repositories");
        this.repositories = answer.repositories.map((r) => r.id);
      } else {
        const page = await call("POST", "/assets/list", {
          pagination: { limit: 100, offset: 0 }, stack_mode: "expanded" });
        this.repositories = [...new Set(page.items.map((i) =>
          i.asset.repository_id))];
      }
    } catch (error) {
      this.message.textContent = describeError(error);
    }
    this.detectButton.disabled = this.repositories.length === 0;
  }

  async refreshSummary() {
    try {
      const s = await call("GET", "/duplicates/summary");
      this.summaryText.textContent = s.pending_groups
        ? `${plural(s.pending_groups, "group")} to review · `
          + `${formatBytes(s.recoverable_bytes)} can be freed`
        : "No duplicates waiting for review.";
    } catch (error) {
      this.summaryText.textContent = describeError(error);
    }
  }

  async detect() {
    this.detectButton.disabled = true;
    this.message.textContent = "Looking for duplicates…";
    try {
      let groups = 0;
      for (const id of this.repositories) {
        const found = await call("POST", "/duplicates/detect", { repository_id: id });
        groups += found.groups;
      }
      this.message.textContent = groups
        ? `Found ${plural(groups, "group")} of duplicates.`
        : "No duplicates found.";
      await Promise.all([this.refreshSummary(), this.load(0)]);
    } catch (error) {
      this.message.textContent = describeError(error);
    } finally {
      this.detectButton.disabled = false;
    }
  }

  async load(offset) {
    try {
      const page = await call("GET",
        `/duplicates/groups?status=pending&limit=${PAGE}&offset=${offset}`);
      if (offset === 0) clear(this.list);
      this.list.append(...page.groups.map((g) => this.groupCard(g)));
      this.offset = offset + page.groups.length;
      this.more.hidden = this.offset >= page.total;
      if (page.total === 0 && !this.message.textContent) {
        this.message.textContent = "Nothing to review.";
      }
    } catch (error) {
      this.message.textContent = describeError(error);
    }
  }

  groupCard(group) {
    const keeperName = `keeper-${group.group_id}`;
    let keeper = group.recommended_keeper_asset_id;
    const sizes = new Map(group.assets.map((m) => [m.asset.asset_id, m.file_size]));
    const freed = h("span", { class: "dup-freed" });
    const showFreed = () => {
      freed.textContent = `frees ${formatBytes(group.total_size - sizes.get(keeper))}`;
    };
    showFreed();

    const status = h("p", { class: "dup-status", role: "status" });
    const mergeButton = h("button", { type: "button", class: "primary",
      text: "Keep selected, trash the others", "data-testid": "merge-group",
      onclick: () => this.resolve(card, status, "merge",
        { keeper_asset_id: keeper }) });
    const dismissButton = h("button", { type: "button", text: "Not duplicates",
      "data-testid": "dismiss-group",
      onclick: () => this.resolve(card, status, "dismiss") });

    const columns = group.assets.map(({ asset }) => {
      const img = h("img", { alt: asset.original_filename, class: "dup-thumb" });
      loadThumbnail(img, asset.asset_id, "small");
      const radio = h("input", { type: "radio", name: keeperName,
        value: asset.asset_id, checked: asset.asset_id === keeper,
        onchange: () => { keeper = asset.asset_id; showFreed(); } });
      return h("li", { class: "dup-member" },
        h("a", { href: mediaUrl(asset.asset_id, "original"), target: "_blank",
          rel: "noopener" }, img),
        h("label", { class: "dup-keep" }, radio,
          h("span", { text: asset.original_filename })));
    });

    const table = h("table", { class: "dup-facts" },
      h("tbody", {}, ...FACTS.map(([name, fact]) => {
        const values = group.assets.map(({ asset }) => fact(asset));
        const differs = new Set(values).size > 1;
        return h("tr", { class: differs ? "differs" : null },
          h("th", { scope: "row", text: name }),
          ...values.map((v) => h("td", { text: v })));
      })));

    const card = h("article", { class: "card dup-group",
      "data-testid": "duplicate-group", dataset: { groupId: group.group_id } },
      h("header", { class: "dup-group-header" },
        h("span", { class: `dup-method dup-${group.method}`,
          text: METHOD_WORDS[group.method] ?? group.method }),
        h("span", { text: plural(group.asset_count, "file") }), freed),
      h("ul", { class: "dup-members",
        style: `--columns: ${group.assets.length}` }, ...columns),
      table,
      h("footer", { class: "dup-actions" }, dismissButton, mergeButton), status);
    return card;
  }

  async resolve(card, status, action, body = {}) {
    for (const button of card.querySelectorAll("button")) button.disabled = true;
    try {
      const answer = await call("POST",
        `/duplicates/groups/${card.dataset.groupId}/${action}`, body);
      status.textContent = action === "merge"
        ? `Kept one; ${plural(answer.merged_duplicates.length, "file")} moved to the `
          + `trash (${formatBytes(answer.recovered_bytes)}).`
        : "Marked as not duplicates.";
      card.classList.add("is-resolved");
      await this.refreshSummary();
    } catch (error) {
      status.textContent = describeError(error);
      for (const button of card.querySelectorAll("button")) button.disabled = false;
    }
  }
}

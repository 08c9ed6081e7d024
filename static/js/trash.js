import { call, describeError } from "./api.js";
import { AssetGrid, fetchAll } from "./asset_grid.js";
import { clear, h } from "./dom.js";
import { plural } from "./format.js";

// The Trash page: what was deleted, each with a button to put it back. Deleting
// only marks an item; its file stays where it was until then.
export class TrashPage {
  constructor(root, { shell, onRestored }) {
    this.root = root;
    this.onRestored = onRestored;
    this.grid = new AssetGrid({ testid: "trash-items", shell,
      empty: "The trash is empty.",
      actions: (item) => [h("button", { type: "button", text: "Restore",
        "aria-label": `Restore ${item.asset.original_filename}`,
        "data-testid": "restore-button", onclick: () => this.restore(item) })] });
  }

  async show() {
    this.root.hidden = false;
    this.count = h("p", { class: "page-lead" });
    this.status = h("p", { class: "form-status", role: "status" });
    clear(this.root).append(h("div", { class: "page page-wide" },
      h("header", { class: "page-header" }, h("h1", { text: "Trash" }), this.count,
        h("p", { class: "hint", text: "Deleted items keep their files; restoring "
          + "one puts it back on the timeline and in its albums." })),
      this.status, this.grid.element));
    await this.load();
  }

  hide() {
    this.root.hidden = true;
    this.grid.viewer.close();
  }

  async load() {
    try {
      const items = await fetchAll((limit, offset) => call("POST", "/assets/list", {
        filter: { is_deleted: true }, stack_mode: "expanded",
        sort_by: "date_captured", pagination: { limit, offset } }));
      this.count.textContent = plural(items.length, "item");
      this.grid.show(items);
    } catch (error) {
      this.grid.showError(`The trash could not be loaded. ${describeError(error)}`);
    }
  }

  async restore(item) {
    this.status.textContent = "";
    try {
      await call("POST", `/assets/${encodeURIComponent(item.asset.asset_id)}/restore`,
        {});
      this.status.textContent = `${item.asset.original_filename} was restored.`;
      this.onRestored?.();
    } catch (error) {
      this.status.textContent = describeError(error);
    }
    await this.load();
  }
}

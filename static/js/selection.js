import { addToAlbum } from "./album_picker.js";
import { describeError } from "./api.js";
import { clear, h } from "./dom.js";
import { askExportOptions } from "./export_dialog.js";
import { plural } from "./format.js";
import { downloadOriginals, exportPhoto } from "./transfers.js";

// Choosing several timeline items to download or export them. While selecting, a
// click on a tile toggles it instead of opening the viewer; a stack counts as all
// of its files when downloading, and as its cover photo when exporting.
export class Selection {
  constructor({ bar, toggle, canvas, source }) {
    this.bar = bar;
    this.toggleButton = toggle;
    this.canvas = canvas;
    this.source = source;
    this.items = new Map();
    this.active = false;
    this.busy = false;

    this.buildBar();
    toggle.addEventListener("click", () => (this.active ? this.stop() : this.start()));
    // Tiles come and go while the grid scrolls: each new one shows its state.
    new MutationObserver((changes) => {
      for (const change of changes) {
        for (const node of change.addedNodes) this.mark(node);
      }
    }).observe(canvas, { childList: true });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.active && !document.body.classList.contains(
        "has-viewer") && !document.querySelector("dialog[open]")) this.stop();
    });
  }

  buildBar() {
    this.count = h("span", { class: "selection-count", "data-testid": "selection-count",
      role: "status" });
    this.status = h("span", { class: "selection-status", role: "status" });
    this.downloadButton = h("button", {
      type: "button", "data-testid": "selection-download", text: "Download",
      onclick: () => this.download(),
    });
    this.exportButton = h("button", {
      type: "button", "data-testid": "selection-export", text: "Export…",
      onclick: () => this.export(),
    });
    this.albumButton = h("button", {
      type: "button", "data-testid": "selection-album", text: "Add to album…",
      onclick: () => this.addToAlbum(),
    });
    const done = h("button", { type: "button", class: "quiet", text: "Done",
      onclick: () => this.stop() });
    clear(this.bar).append(this.count, this.downloadButton, this.exportButton,
      this.albumButton, this.status, h("span", { class: "selection-spacer" }), done);
  }

  start() {
    this.active = true;
    this.canvas.classList.add("is-selecting");
    this.toggleButton.setAttribute("aria-pressed", "true");
    this.bar.hidden = false;
    this.update();
  }

  stop() {
    this.active = false;
    this.items.clear();
    this.canvas.classList.remove("is-selecting");
    this.toggleButton.setAttribute("aria-pressed", "false");
    this.bar.hidden = true;
    this.status.textContent = "";
    this.refreshTiles();
  }

  // Called instead of opening the viewer while selecting.
  toggle(index) {
    const item = this.source.itemAt(index);
    if (!item) return;
    if (this.items.has(item.id)) this.items.delete(item.id);
    else this.items.set(item.id, item);
    this.update();
  }

  update() {
    const chosen = [...this.items.values()];
    this.count.textContent = chosen.length ? `${plural(chosen.length, "item")} selected`
      : "Choose items to download or export";
    this.downloadButton.disabled = !chosen.length || this.busy;
    this.exportButton.disabled = !this.photos().length || this.busy;
    this.albumButton.disabled = !chosen.length || this.busy;
    this.refreshTiles();
  }

  refreshTiles() {
    for (const tile of this.canvas.querySelectorAll(".tile")) this.mark(tile);
  }

  mark(node) {
    if (!node.classList?.contains("tile")) return;
    const selected = this.active && this.items.has(node.dataset.itemId);
    node.classList.toggle("is-selected", selected);
    if (this.active) node.setAttribute("aria-pressed", String(selected));
    else node.removeAttribute("aria-pressed");
  }

  assetIds() {
    const ids = [];
    for (const item of this.items.values()) {
      const members = item.type === "stack" ? item.stack?.member_asset_ids : null;
      ids.push(...(members?.length ? members : [item.asset.asset_id]));
    }
    return [...new Set(ids)];
  }

  photos() {
    return [...this.items.values()].map((item) => item.asset)
      .filter((asset) => asset.type === "PHOTO");
  }

  async download() {
    const ids = this.assetIds();
    await this.run(`Preparing ${plural(ids.length, "file")}…`,
      () => downloadOriginals(ids), "Download started.");
  }

  async addToAlbum() {
    const name = await addToAlbum(this.assetIds());
    if (name) this.status.textContent = `Added to ${name}.`;
  }

  async export() {
    const photos = this.photos();
    const options = await askExportOptions(photos.length);
    if (!options) return;
    await this.run(`Exporting ${plural(photos.length, "photo")}…`, async () => {
      for (const [index, asset] of photos.entries()) {
        this.status.textContent = `Exporting ${index + 1} of ${photos.length}…`;
        await exportPhoto(asset, options);
      }
    }, photos.length === 1 ? "Exported." : `Exported ${photos.length} photos.`);
  }

  async run(working, task, finished) {
    this.busy = true;
    this.update();
    this.status.classList.remove("is-error");
    this.status.textContent = working;
    try {
      await task();
      this.status.textContent = finished;
    } catch (error) {
      this.status.classList.add("is-error");
      this.status.textContent = describeError(error);
    } finally {
      this.busy = false;
      this.update();
    }
  }
}

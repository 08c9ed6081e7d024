import { h } from "./dom.js";
import { hasThumbnail, loadThumbnail } from "./thumbs.js";
import { Viewer } from "./viewer.js";

// A plain grid of square tiles for the short lists of the organising pages (an
// album, the favourites, the trash). Unlike the timeline it is not virtualised:
// these lists are read in full, a page at a time, and stay small enough for it.
// Each tile can carry its own buttons under the picture.
export class AssetGrid {
  constructor({ testid, empty, actions = () => [], shell }) {
    this.items = [];
    this.actions = actions;
    this.emptyText = empty;
    this.list = h("ul", { class: "asset-grid", "data-testid": testid });
    this.message = h("p", { class: "page-message", role: "status", hidden: true });
    this.element = h("div", { class: "asset-grid-box" }, this.message, this.list);

    // Each grid opens its items in a viewer of its own, stepping through its list.
    const root = h("div", { class: "viewer", role: "dialog", "aria-modal": "true",
      "data-testid": `${testid}-viewer`, hidden: true });
    document.body.append(root);
    this.viewer = new Viewer(root, this, { shell });
  }

  show(items) {
    this.items = items;
    this.message.hidden = items.length > 0;
    this.message.classList.remove("is-error");
    this.message.textContent = this.emptyText;
    this.list.replaceChildren(...items.map((item, index) => this.tile(item, index)));
  }

  showError(text) {
    this.items = [];
    this.list.replaceChildren();
    this.message.hidden = false;
    this.message.classList.add("is-error");
    this.message.textContent = text;
  }

  tile(item, index) {
    const asset = item.asset;
    const img = h("img", { alt: "", draggable: "false", decoding: "async" });
    if (hasThumbnail(asset)) loadThumbnail(img, asset.asset_id, "small");
    const open = h("button", {
      type: "button", class: "grid-tile", "aria-label": asset.original_filename,
      title: asset.original_filename, onclick: () => this.viewer.open(index),
    }, img, asset.liked ? h("span", { class: "badge badge-liked", text: "♥",
      title: "Favourite" }) : null);
    const buttons = this.actions(item, index);
    return h("li", { class: "grid-cell", dataset: { assetId: asset.asset_id },
      "data-testid": "grid-item" },
    open, buttons.length ? h("div", { class: "grid-actions" }, buttons) : null);
  }

  // The viewer's source.
  count() {
    return this.items.length;
  }

  itemAt(index) {
    return this.items[index] ?? null;
  }

  async ensure(index) {
    return this.itemAt(index);
  }

  reveal(index, { focus } = {}) {
    const button = this.list.children[index]?.querySelector(".grid-tile");
    if (!button) return;
    button.scrollIntoView({ block: "nearest" });
    if (focus) button.focus();
  }
}

// Every item of a legacy list (`{assets, total}`) answer, as browse items.
export async function fetchAll(load, limit = 100) {
  const items = [];
  for (let offset = 0; ; offset += limit) {
    const answer = await load(limit, offset);
    const assets = answer.assets ?? answer.items?.map((item) => item.asset) ?? [];
    items.push(...assets.map((asset) => ({ type: "asset",
      id: `asset:${asset.asset_id}`, asset })));
    if (assets.length < limit) return items;
  }
}

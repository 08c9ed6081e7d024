import { call, describeError } from "./api.js";
import { AssetGrid, fetchAll } from "./asset_grid.js";
import { clear, h } from "./dom.js";
import { plural } from "./format.js";

// The Favourites page: every photo and video marked with the heart, newest first.
export class FavouritesPage {
  constructor(root, { shell }) {
    this.root = root;
    this.grid = new AssetGrid({ testid: "favourite-items", shell,
      empty: "No favourites yet. Mark a photo with ♡ in the viewer." });
  }

  async show() {
    this.root.hidden = false;
    const count = h("p", { class: "page-lead" });
    clear(this.root).append(h("div", { class: "page page-wide" },
      h("header", { class: "page-header" }, h("h1", { text: "Favourites" }), count),
      this.grid.element));
    try {
      const items = await fetchAll((limit, offset) =>
        call("GET", `/assets/liked?limit=${limit}&offset=${offset}`));
      count.textContent = plural(items.length, "item");
      this.grid.show(items);
    } catch (error) {
      this.grid.showError("The favourites could not be loaded. "
        + describeError(error));
    }
  }

  hide() {
    this.root.hidden = true;
    this.grid.viewer.close();
  }
}

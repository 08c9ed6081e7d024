import { call, describeError } from "./api.js";
import { AssetGrid } from "./asset_grid.js";
import { clear, h } from "./dom.js";
import { plural } from "./format.js";
import { thumbnailUrl } from "./media.js";
import { speciesButton } from "./recognition_facts.js";

// The Albums page: the person's albums as cards, a form to make one, and an album
// opened at #/albums/<id> with its photos in their order, which can be changed,
// and from which photos can be taken out.
export class AlbumsPage {
  constructor(root, { shell }) {
    this.root = root;
    this.album = null;
    this.grid = new AssetGrid({
      testid: "album-items", shell,
      empty: "This album is empty. Add photos from the viewer or a selection.",
      actions: (item, index) => this.itemActions(item, index),
    });
  }

  show() {
    this.root.hidden = false;
    const id = Number(window.location.hash.split("/")[2]);
    if (Number.isInteger(id) && id > 0) this.openAlbum(id);
    else this.showList();
  }

  hide() {
    this.root.hidden = true;
    this.grid.viewer.close();
  }

  // -- the list ---------------------------------------------------------------------

  async showList() {
    this.album = null;
    const cards = h("ul", { class: "album-cards", "data-testid": "album-list" });
    const message = h("p", { class: "page-message", role: "status" });
    clear(this.root).append(h("div", { class: "page" },
      h("header", { class: "page-header" }, h("h1", { text: "Albums" })),
      this.createForm(), message, cards));

    try {
      const answer = await call("GET", "/albums?limit=100");
      const albums = answer.albums ?? [];
      message.textContent = albums.length ? "" : "No albums yet.";
      cards.append(...albums.map((album) => albumCard(album)));
    } catch (error) {
      message.classList.add("is-error");
      message.textContent = `The albums could not be loaded. ${describeError(error)}`;
    }
  }

  createForm() {
    const name = h("input", { id: "album-name", name: "album_name", required: true,
      autocomplete: "off", maxlength: "255" });
    const kind = h("select", { id: "album-type", name: "album_type" },
      h("option", { value: "default", text: "Photos" }),
      h("option", { value: "bio", text: "Nature (species)" }));
    const status = h("p", { class: "form-status", role: "alert" });
    const form = h("form", { class: "card album-create",
      "data-testid": "album-create" },
      h("label", { for: "album-name", text: "New album" }),
      h("div", { class: "album-create-row" }, name, kind,
        h("button", { type: "submit", class: "primary", text: "Create" })),
      status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.textContent = "";
      try {
        const album = await call("POST", "/albums", {
          album_name: name.value.trim(), album_type: kind.value });
        window.location.hash = `#/albums/${album.album_id}`;
      } catch (error) {
        status.textContent = describeError(error);
      }
    });
    return form;
  }

  // -- one album --------------------------------------------------------------------

  async openAlbum(id) {
    const title = h("h1", { "data-testid": "album-title" });
    const count = h("p", { class: "page-lead" });
    this.status = h("p", { class: "form-status", role: "status" });
    clear(this.root).append(h("div", { class: "page page-wide" },
      h("a", { class: "back-link", href: "#/albums", text: "‹ Albums" }),
      h("header", { class: "page-header album-header" },
        h("div", {}, title, count),
        h("div", { class: "album-tools" },
          h("button", { type: "button", text: "Rename",
            onclick: () => this.rename() }),
          h("button", { type: "button", class: "danger", text: "Delete album",
            "data-testid": "album-delete", onclick: () => this.remove() }))),
      this.status, this.grid.element));

    try {
      const [album, members] = await Promise.all([
        call("GET", `/albums/${id}`), call("GET", `/albums/${id}/assets`)]);
      this.album = album;
      title.textContent = album.album_name;
      if (album.album_type === "bio") {
        this.root.querySelector(".album-tools")
          .prepend(speciesButton(album, this.status));
      }
      count.textContent = plural(members.count ?? 0, "item");
      this.grid.show((members.assets ?? []).map((asset) => ({ type: "asset",
        id: `asset:${asset.asset_id}`, asset })));
    } catch (error) {
      title.textContent = "Album";
      this.grid.showError(`The album could not be loaded. ${describeError(error)}`);
    }
  }

  itemActions(item, index) {
    const last = this.grid.items.length - 1;
    const name = item.asset.original_filename;
    return [
      h("button", { type: "button", class: "icon-button", text: "‹",
        "aria-label": `Move ${name} earlier`, disabled: index === 0,
        onclick: () => this.move(item, index, index - 1) }),
      h("button", { type: "button", class: "icon-button", text: "›",
        "aria-label": `Move ${name} later`, disabled: index === last,
        onclick: () => this.move(item, index, index + 1) }),
      h("button", { type: "button", class: "quiet", text: "Remove",
        "aria-label": `Remove ${name} from the album`, "data-testid": "album-remove",
        onclick: () => this.takeOut(item) }),
    ];
  }

  // Positions are the server's; a neighbour's position is where the item goes.
  async move(item, from, to) {
    const neighbour = this.grid.items[to];
    if (!neighbour) return;
    await this.change(() => call("PUT",
      `/albums/${this.album.album_id}/assets/${encodeURIComponent(
        item.asset.asset_id)}/position`, { position: neighbour.asset.position }));
    this.focusMoved(item.asset.asset_id, to < from ? "‹" : "›");
  }

  async takeOut(item) {
    await this.change(() => call("DELETE",
      `/albums/${this.album.album_id}/assets/${encodeURIComponent(
        item.asset.asset_id)}`));
  }

  async rename() {
    const name = window.prompt("Album name", this.album.album_name)?.trim();
    if (!name || name === this.album.album_name) return;
    await this.change(() => call("PUT", `/albums/${this.album.album_id}`,
      { album_name: name }));
  }

  async remove() {
    if (!window.confirm(`Delete the album "${this.album.album_name}"? `
      + "The photos stay in the library.")) return;
    try {
      await call("DELETE", `/albums/${this.album.album_id}`);
      window.location.hash = "#/albums";
    } catch (error) {
      this.status.textContent = describeError(error);
    }
  }

  async change(request) {
    this.status.textContent = "";
    try {
      await request();
    } catch (error) {
      this.status.textContent = describeError(error);
      return;
    }
    await this.openAlbum(this.album.album_id);
  }

  // After a move the list is drawn again; keyboard users keep their place.
  focusMoved(assetId, arrow) {
    const cell = this.grid.list.querySelector(
      `[data-asset-id="${CSS.escape(assetId)}"]`);
    const button = [...(cell?.querySelectorAll(".icon-button") ?? [])]
      .find((b) => b.textContent === arrow && !b.disabled);
    (button ?? cell?.querySelector(".grid-tile"))?.focus();
  }
}

function albumCard(album) {
  const cover = album.display_cover_asset_id;
  return h("li", { class: "album-card" },
    h("a", { href: `#/albums/${album.album_id}`, "data-testid": "album-card" },
      h("span", { class: "album-cover" }, cover ? h("img", { alt: "",
        src: thumbnailUrl(cover, "medium"), loading: "lazy" }) : null),
      h("span", { class: "album-name", text: album.album_name }),
      h("span", { class: "album-count",
        text: `${plural(album.asset_count ?? 0, "item")}`
          + (album.album_type === "bio" ? " · nature" : "") })));
}

import { call, describeError } from "./api.js";
import { isDisabled } from "./assistant_stream.js";
import { formatDay } from "./assistant_results.js";
import { AssetGrid } from "./asset_grid.js";
import { confirmInDialog } from "./cloud_dialogs.js";
import { h } from "./dom.js";
import { plural } from "./format.js";

// The board is a grid of 12 columns; a pin is half or all of its width.
export const COLUMNS = 12;
const WIDTHS = [6, 12];
const DEFAULT_SIZE = { w: 6, h: 4 };
const PIN_PHOTOS = 24;
const PINS_PAGE = 100;

// Pins in reading order: top to bottom, then left to right.
export function readingOrder(pins) {
  return [...pins].sort((a, b) => (a.layout?.y ?? 0) - (b.layout?.y ?? 0)
    || (a.layout?.x ?? 0) - (b.layout?.x ?? 0));
}

// Places pins one after another in rows, as the board shows them, and answers the
// layout of each: the positions saved are always the ones on the screen.
export function pack(pins) {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return pins.map((pin) => {
    const w = Math.min(COLUMNS, Math.max(1, pin.layout?.w || DEFAULT_SIZE.w));
    const height = Math.max(1, pin.layout?.h || DEFAULT_SIZE.h);
    if (x + w > COLUMNS) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    const layout = { x, y, w, h: height };
    x += w;
    rowHeight = Math.max(rowHeight, height);
    return { pin_id: pin.pin_id, ...layout };
  });
}

// Where a new pin goes: after every pin already on the board.
export function nextLayout(pins) {
  const placed = pack([...readingOrder(pins), { pin_id: "", layout: DEFAULT_SIZE }]);
  const { x, y, w, h: height } = placed[placed.length - 1];
  return { x, y, w, h: height };
}

// Pins the assistant's results: each pin shows its photos, and can be moved,
// resized and taken off the board. Keyboard users move pins with their buttons;
// with a mouse they can also be dragged onto another pin's place.
export class PinBoard {
  constructor({ shell }) {
    this.shell = shell;
    this.pins = [];
    this.cards = new Map();
    this.dragged = null;

    // The status line keeps its height when empty, so a message appearing after a
    // move never pushes the cards down under the pointer.
    this.status = h("p", { class: "form-status board-status", role: "status",
      "data-testid": "board-status" });
    this.list = h("ol", { class: "pin-board", "data-testid": "pin-board" });
    this.element = h("div", { class: "board" }, this.status, this.list);
  }

  async show() {
    this.dispose();
    this.status.textContent = "Loading the board…";
    try {
      this.pins = readingOrder(await fetchPins());
    } catch (error) {
      this.status.textContent = isDisabled(error)
        ? "The board shows what you pinned from the assistant, which is turned off."
        : `The board could not be loaded. ${describeError(error)}`;
      return;
    }

    this.status.textContent = this.pins.length ? ""
      : "Nothing is pinned yet. Pin a result of the assistant to keep it here.";
    this.list.replaceChildren(...this.pins.map((pin) => this.card(pin)));
    this.markEnds();
    for (const pin of this.pins) this.loadPhotos(pin);
  }

  // Pins a result where the board has room next.
  async add(request) {
    const pins = await fetchPins();
    return call("POST", "/agent/pins", { ...request, widget: "asset_grid",
      layout: nextLayout(pins) });
  }

  card(pin) {
    const grid = new AssetGrid({ testid: "pin-items", shell: this.shell,
      empty: "No photos in this pin." });
    const more = h("button", { type: "button", class: "quiet", text: "Show more",
      hidden: true, onclick: () => this.loadPhotos(pin, { more: true }) });
    const name = pin.title || "Pinned photos";
    const element = h("li", { class: "pin-card", "data-testid": "pin-card",
      draggable: "true", dataset: { pinId: pin.pin_id },
      ondragstart: (event) => this.dragStart(event, pin),
      ondragover: (event) => this.dragOver(event, pin),
      ondrop: (event) => this.drop(event, pin),
      ondragend: () => this.dragEnd() },
    h("header", { class: "pin-head" },
      h("div", {},
        h("h2", { class: "pin-title", text: name, "data-testid": "pin-title" }),
        h("p", { class: "pin-facts", text: pinFacts(pin) })),
      h("div", { class: "pin-tools" },
        h("button", { type: "button", class: "icon-button", text: "↑",
          "aria-label": `Move ${name} earlier`, "data-testid": "pin-earlier",
          onclick: () => this.move(pin, -1) }),
        h("button", { type: "button", class: "icon-button", text: "↓",
          "aria-label": `Move ${name} later`, "data-testid": "pin-later",
          onclick: () => this.move(pin, 1) }),
        h("button", { type: "button", class: "quiet", "data-testid": "pin-resize",
          text: widthOf(pin) >= COLUMNS ? "Narrower" : "Wider",
          "aria-label": `${widthOf(pin) >= COLUMNS ? "Narrower" : "Wider"}: ${name}`,
          onclick: () => this.resize(pin) }),
        h("button", { type: "button", class: "quiet pin-remove", text: "Remove",
          "aria-label": `Remove ${name} from the board`,
          "data-testid": "pin-remove", onclick: () => this.askToRemove(pin) }))),
    grid.element, more);
    element.style.setProperty("--pin-span", String(widthOf(pin)));
    this.cards.set(pin.pin_id, { element, grid, more, items: [] });
    return element;
  }

  async loadPhotos(pin, { more = false } = {}) {
    const card = this.cards.get(pin.pin_id);
    if (!card) return;
    const offset = more ? card.items.length : 0;
    try {
      const page = await call("GET", `/agent/pins/${encodeURIComponent(pin.pin_id)}`
        + `/assets?limit=${PIN_PHOTOS}&offset=${offset}`);
      const assets = page.assets ?? [];
      card.items = [...(more ? card.items : []), ...assets.map((asset) => ({
        type: "asset", id: `asset:${asset.asset_id}`, asset }))];
      card.grid.show(card.items);
      card.more.hidden = !assets.length || card.items.length >= (page.total ?? 0);
    } catch (error) {
      card.grid.showError(`The photos could not be loaded. ${describeError(error)}`);
    }
  }

  async move(pin, step) {
    const from = this.pins.indexOf(pin);
    const to = from + step;
    if (from < 0 || to < 0 || to >= this.pins.length) return;

    const order = [...this.pins];
    order.splice(from, 1);
    order.splice(to, 0, pin);
    await this.saveLayout(order, pin, step < 0 ? "pin-earlier" : "pin-later");
  }

  async resize(pin) {
    const wide = widthOf(pin) >= COLUMNS;
    pin.layout = { ...pin.layout, w: wide ? WIDTHS[0] : WIDTHS[1] };
    await this.saveLayout(this.pins, pin, "pin-resize");
  }

  // Saves every pin's place at once (moving one shifts the others) and shows the
  // new order; keyboard users keep their place on the button they pressed.
  async saveLayout(order, pin, focusTestid) {
    const layouts = pack(order);
    try {
      await call("PATCH", "/agent/pins/layout", { layouts });
    } catch (error) {
      this.status.textContent = `The board could not be rearranged. ${describeError(
        error)}`;
      return;
    }

    order.forEach((each, index) => {
      const { pin_id: _, ...layout } = layouts[index];
      each.layout = layout;
    });
    this.pins = order;
    this.redraw();
    this.status.textContent = "Saved.";
    const element = this.cards.get(pin.pin_id)?.element;
    element?.querySelector(`[data-testid="${focusTestid}"]`)?.focus();
  }

  // The cards keep their photos; only their order and width change.
  redraw() {
    for (const pin of this.pins) {
      const card = this.cards.get(pin.pin_id);
      const wide = widthOf(pin) >= COLUMNS;
      const resize = card.element.querySelector("[data-testid=pin-resize]");
      resize.textContent = wide ? "Narrower" : "Wider";
      resize.setAttribute("aria-label", `${resize.textContent}: ${pin.title}`);
      card.element.style.setProperty("--pin-span", String(widthOf(pin)));
    }
    this.list.replaceChildren(...this.pins.map((pin) =>
      this.cards.get(pin.pin_id).element));
    this.markEnds();
  }

  // The first pin cannot move earlier, nor the last one later.
  markEnds() {
    this.pins.forEach((pin, index) => {
      const element = this.cards.get(pin.pin_id)?.element;
      if (!element) return;
      element.querySelector("[data-testid=pin-earlier]").disabled = index === 0;
      element.querySelector("[data-testid=pin-later]").disabled
        = index === this.pins.length - 1;
    });
  }

  // Taking a pin off cannot be undone: a frozen pin's photos are gone with it.
  async askToRemove(pin) {
    const sure = await confirmInDialog({ title: "Remove this pin?",
      message: `“${pin.title || "Pinned photos"}” will be taken off the board. The`
        + " photos stay in your library.",
      confirmText: "Remove", testid: "pin-remove-dialog" });
    if (sure) await this.remove(pin);
    else this.cards.get(pin.pin_id)?.element
      .querySelector("[data-testid=pin-remove]")?.focus();
  }

  async remove(pin) {
    try {
      await call("DELETE", `/agent/pins/${encodeURIComponent(pin.pin_id)}`);
    } catch (error) {
      this.status.textContent = `The pin could not be removed. ${describeError(error)}`;
      return;
    }

    const card = this.cards.get(pin.pin_id);
    const neighbour = card.element.nextElementSibling
      ?? card.element.previousElementSibling;
    card.grid.viewer.root.remove();
    card.element.remove();
    // Keyboard users go on from the pin that took its place.
    neighbour?.querySelector("[data-testid=pin-remove]")?.focus();
    this.cards.delete(pin.pin_id);
    this.pins = this.pins.filter((each) => each !== pin);
    this.markEnds();
    this.status.textContent = this.pins.length ? `Removed “${pin.title}”.`
      : "Nothing is pinned any more.";
  }

  dragStart(event, pin) {
    // Dragging a photo out of a pin is not moving the pin.
    if (event.target !== event.currentTarget) return;
    this.dragged = pin;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", pin.pin_id);
    event.currentTarget.classList.add("is-dragged");
  }

  dragOver(event, pin) {
    if (!this.dragged || this.dragged === pin) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  }

  async drop(event, target) {
    const pin = this.dragged;
    if (!pin || pin === target) return;
    event.preventDefault();
    const step = this.pins.indexOf(target) - this.pins.indexOf(pin);
    await this.move(pin, step);
  }

  dragEnd() {
    this.dragged = null;
    this.list.querySelector(".is-dragged")?.classList.remove("is-dragged");
  }

  hide() {
    for (const card of this.cards.values()) card.grid.viewer.close();
  }

  dispose() {
    for (const card of this.cards.values()) card.grid.viewer.root.remove();
    this.cards.clear();
  }
}

async function fetchPins() {
  const pins = [];
  for (let offset = 0; ; offset += PINS_PAGE) {
    const page = await call("GET", `/agent/pins?limit=${PINS_PAGE}&offset=${offset}`);
    pins.push(...page);
    if (page.length < PINS_PAGE) return pins;
  }
}

function widthOf(pin) {
  return Math.min(COLUMNS, Math.max(1, pin.layout?.w || DEFAULT_SIZE.w));
}

const ISO_DAY = /\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-][\d:]+)?)?/g;

// One line about a pin: the server's summary (which starts with the count) with
// its days written as the chat writes them, and whether the pin is frozen or live.
export function pinFacts(pin) {
  const summary = pin.summary
    ? pin.summary.replace(ISO_DAY, (day) => formatDay(day) || day)
    : plural(pin.count ?? 0, "item");
  const cut = pin.truncated ? " (cut short)" : "";
  const mode = pin.mode === "live" ? "live: runs the search again"
    : "frozen: shows these photos";
  return `${summary}${cut} · ${mode}`;
}

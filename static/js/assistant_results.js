import { call, describeError } from "./api.js";
import { AssetGrid } from "./asset_grid.js";
import { h } from "./dom.js";
import { plural } from "./format.js";

// How many photos of a result are shown at first, and added by "Show more".
const RESULT_PAGE = 48;
const FACET_NAMES = 3;

// One result of the assistant: a snapshot of photos the server keeps under a ref id
// for this thread. The card shows what the set holds in a line (how many, when,
// where, who), the photos as a grid that opens the viewer, and a way to pin the set
// to the board.
export class ResultCard {
  constructor({ refId, threadId, title, shell, onPin, onLoaded = () => {} }) {
    this.refId = refId;
    this.onLoaded = onLoaded;
    this.threadId = threadId;
    this.title = title || "Photos";
    this.onPin = onPin;
    this.items = [];
    this.total = 0;

    this.grid = new AssetGrid({ testid: "result-items", shell,
      empty: "No photos in this result." });
    this.heading = h("h3", { class: "result-title", text: this.title });
    this.summary = h("p", { class: "result-summary", "data-testid": "result-summary" });
    this.more = h("button", { type: "button", class: "quiet", text: "Show more",
      hidden: true, onclick: () => this.loadMore() });
    this.pinArea = h("div", { class: "result-pin" }, h("button", { type: "button",
      text: "Pin", "data-testid": "result-pin", "aria-expanded": "false",
      onclick: (event) => this.openPinForm(event.currentTarget) }));
    this.element = h("section", { class: "result-card",
      "data-testid": "assistant-result", dataset: { refId, threadId } },
    h("header", { class: "result-head" }, this.heading, this.pinArea),
    this.summary, this.grid.element, this.more);
  }

  setTitle(title) {
    if (!title) return;
    this.title = title;
    this.heading.textContent = title;
  }

  async load() {
    this.summary.textContent = "Loading the photos…";
    try {
      const [ref, page] = await Promise.all([
        call("GET", `${this.refPath()}?${this.threadQuery()}`),
        this.fetchPage(0),
      ]);
      this.total = page.total ?? ref.count ?? 0;
      this.summary.textContent = describeFacets(ref);
      // Nothing to keep on the board from a set without photos.
      this.pinArea.hidden = this.total === 0;
      this.append(page);
    } catch (error) {
      this.summary.textContent = "";
      this.grid.showError(`The photos could not be loaded. ${describeError(error)}`);
    }
    this.onLoaded();
  }

  async loadMore() {
    this.more.disabled = true;
    try {
      this.append(await this.fetchPage(this.items.length));
    } catch (error) {
      this.summary.textContent = describeError(error);
    } finally {
      this.more.disabled = false;
    }
  }

  fetchPage(offset) {
    return call("GET", `${this.refPath()}/assets?${this.threadQuery()}`
      + `&limit=${RESULT_PAGE}&offset=${offset}`);
  }

  append(page) {
    const assets = page.assets ?? [];
    this.items.push(...assets.map((asset) => ({ type: "asset",
      id: `asset:${asset.asset_id}`, asset })));
    this.grid.show(this.items);
    this.more.hidden = !assets.length || this.items.length >= this.total;
  }

  refPath() {
    return `/agent/refs/${encodeURIComponent(this.refId)}`;
  }

  threadQuery() {
    return new URLSearchParams({ thread_id: this.threadId }).toString();
  }

  // Pinning asks for a title and whether the pin keeps these very photos or runs
  // the search again whenever the board is opened.
  openPinForm(button) {
    const title = h("input", { id: `pin-title-${this.refId}`, value: this.title,
      maxlength: "200", required: true, "data-testid": "pin-title" });
    const live = h("input", { type: "checkbox", id: `pin-live-${this.refId}`,
      "data-testid": "pin-live" });
    const status = h("p", { class: "form-status", role: "status" });
    const form = h("form", { class: "pin-form", "data-testid": "pin-form" },
      h("label", { for: title.id, text: "Title on the board" }), title,
      h("label", { class: "check" }, live,
        h("span", { text: "Keep it up to date (search again when the board opens)" })),
      h("div", { class: "pin-form-actions" },
        h("button", { type: "submit", class: "primary", text: "Pin to board" }),
        h("button", { type: "button", class: "quiet", text: "Cancel",
          onclick: () => this.closePinForm(button) })),
      status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.textContent = "Pinning…";
      try {
        await this.onPin({ ref_id: this.refId, thread_id: this.threadId,
          title: title.value.trim(), mode: live.checked ? "live" : "frozen" });
        this.pinArea.replaceChildren(h("span", { class: "pinned",
          "data-testid": "result-pinned", text: "Pinned to the board" }));
      } catch (error) {
        status.textContent = describeError(error);
      }
    });

    button.setAttribute("aria-expanded", "true");
    button.hidden = true;
    this.pinArea.append(form);
    title.focus();
    title.select();
  }

  closePinForm(button) {
    this.pinArea.querySelector(".pin-form")?.remove();
    button.hidden = false;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  // Each grid keeps a viewer of its own in the page; it goes with the card.
  dispose() {
    this.grid.viewer.close();
    this.grid.viewer.root.remove();
  }
}

// One line about a set of photos: how many, from when to when, where and who.
export function describeFacets(ref) {
  const facets = ref.facets ?? {};
  const count = facets.count ?? ref.count ?? 0;
  const parts = [plural(count, "item") + (ref.truncated ? " (cut short)" : "")];

  const span = formatDateRange(facets.date_range);
  if (span) parts.push(span);
  const places = topNames(facets.top_places);
  if (places) parts.push(`Places: ${places}`);
  const people = topNames(facets.top_people);
  if (people) parts.push(`People: ${people}`);
  if (facets.liked_count) parts.push(`${facets.liked_count} ♥`);
  return parts.join(" · ");
}

export function formatDateRange(range) {
  const from = formatDay(range?.from);
  const to = formatDay(range?.to);
  if (!from && !to) return "";
  if (!from || !to || from === to) return from || to;
  return `${from} – ${to}`;
}

// A day as the chat writes it: "25 Oct 2003".
export function formatDay(text) {
  if (!text) return "";
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleDateString("en-GB", { day: "numeric", month: "short",
    year: "numeric", timeZone: "UTC" });
}

function topNames(list) {
  return (list ?? []).slice(0, FACET_NAMES)
    .map((entry) => `${entry.name} (${entry.count})`).join(", ");
}

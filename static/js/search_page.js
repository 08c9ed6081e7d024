import { call, describeError } from "./api.js";
import { AssetGrid } from "./asset_grid.js";
import { viewerTimezone } from "./captime.js";
import { clear, h } from "./dom.js";
import { plural } from "./format.js";

const BEST_RESULTS = 9;
const RESULTS_PAGE = 100;

// Search by words: what the photos show, the text in them, their places and file
// names, fused by the server. The best matches come first, then every match,
// newest first. The words live in the address (#/search/<words>).
export class SearchPage {
  constructor(root, { shell }) {
    this.root = root;
    this.shell = shell;
    this.best = null;
    this.all = null;
  }

  async show() {
    this.root.hidden = false;
    // Each grid adds a viewer to the page: made on the first visit only.
    this.best ??= new AssetGrid({ testid: "search-best", shell: this.shell,
      empty: "" });
    this.all ??= new AssetGrid({ testid: "search-results", shell: this.shell,
      empty: "Nothing matches these words." });
    const words = decodeURIComponent(
      window.location.hash.replace(/^#\/?search\/?/, "")).trim();
    const input = h("input", { type: "search", name: "query", value: words,
      placeholder: "a cat, a birthday cake, a street sign…", "aria-label": "Search",
      "data-testid": "search-page-input" });
    const lead = h("p", { class: "page-lead", role: "status",
      "data-testid": "search-summary" });
    this.bestBox = h("section", { class: "search-best", hidden: true },
      h("h2", { text: "Best results" }), this.best.element);
    clear(this.root).append(h("div", { class: "page page-wide" },
      h("header", { class: "page-header" }, h("h1", { text: "Search" }), lead),
      h("form", { class: "search-form", onsubmit: (event) => {
        event.preventDefault();
        window.location.hash = `#/search/${encodeURIComponent(input.value.trim())}`;
      } }, input, h("button", { type: "submit", class: "primary", text: "Search" })),
      this.bestBox,
      h("section", {}, h("h2", { text: "All results" }), this.all.element)));
    if (words) await this.run(words, lead);
    else this.all.show([]);
  }

  async run(words, lead) {
    lead.textContent = "Searching…";
    try {
      const found = await call("POST", "/assets/search", {
        query: words, enhancement_mode: "auto", top_results_limit: BEST_RESULTS,
        stack_mode: "collapsed", viewer_timezone: viewerTimezone(),
        pagination: { limit: RESULTS_PAGE, offset: 0 },
      });
      const meta = found.top_results_meta ?? {};
      lead.textContent = plural(found.results_total_assets ?? 0, "match")
        + (meta.degraded ? " (searching by meaning is off: file names, places"
          + " and text only)" : "");
      this.bestBox.hidden = !(found.top_items ?? []).length;
      this.best.show(found.top_items ?? []);
      this.all.show(found.result_items ?? []);
    } catch (error) {
      lead.textContent = "";
      this.all.showError(`The search failed. ${describeError(error)}`);
    }
  }

  hide() {
    this.root.hidden = true;
    this.best?.viewer.close();
    this.all?.viewer.close();
  }
}

// The search box of the top bar: it opens the search page with its words.
export function wireSearchBox(form) {
  const input = form.querySelector("input");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const words = input.value.trim();
    if (words) window.location.hash = `#/search/${encodeURIComponent(words)}`;
  });
}

import { describeError } from "./api.js";
import { dayKey, formatDayHeader } from "./captime.js";
import { clear, h } from "./dom.js";
import { plural } from "./format.js";
import { GAP, aspectOf, layoutSections, targetRowHeight } from "./layout.js";
import { PAGE_SIZE, appendUnique, fetchPage, fetchPages } from "./pages.js";
import {
  createTile, fillTile, placeTile, releaseTile, showThumbnail,
} from "./tiles.js";

const HEADER_HEIGHT = 52;

// Scrolling faster than this many screens per frame defers thumbnail requests until
// the scrolling calms down: those tiles would be gone before their images arrived.
const FAST_SCROLL_SCREENS = 1;
const SETTLE_MS = 120;

// A virtualised, day-grouped grid. Only the blocks near the viewport exist in the
// DOM; pages of items are fetched in order as the person scrolls towards the end.
export class Timeline {
  constructor(root, { onOpen, onCount, canAddFolders = false }) {
    this.onOpen = onOpen;
    this.canAddFolders = canAddFolders;
    this.onCount = onCount;
    this.items = [];
    this.seen = new Set();
    this.total = null;
    this.totalAssets = null;
    this.reported = {};
    this.generation = 0;
    this.loading = null;
    this.layout = null;
    this.sections = [];
    this.tileBoxes = [];
    this.nodes = new Map();
    this.frame = 0;
    this.settleTimer = 0;
    this.lastScrollTop = 0;
    this.width = 0;
    this.failed = false;

    this.buildDom(root);
  }

  buildDom(root) {
    this.canvas = h("div", {
      class: "timeline-canvas", "data-testid": "timeline-grid",
    });
    this.tail = h("div", { class: "timeline-tail", "aria-hidden": "true" });
    this.message = h("div", { class: "timeline-message", role: "status" });
    this.scroller = h("div", { class: "timeline-scroller" },
      this.message, this.canvas, this.tail);
    root.append(this.scroller);

    this.scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.canvas.addEventListener("click", (event) => this.openFrom(event));
    new ResizeObserver(() => this.relayout()).observe(this.scroller);
  }

  async start() {
    this.showMessage("Loading your library…");
    await this.loadNextPage();
  }

  // The viewer walks through the same items as the grid.
  count() {
    return this.total ?? this.items.length;
  }

  itemAt(index) {
    return this.items[index] ?? null;
  }

  async ensure(index) {
    while (index >= this.items.length && this.hasMore()) {
      const before = this.items.length;
      await this.loadNextPage();
      if (this.items.length === before) break;
    }
    return this.itemAt(index);
  }

  hasMore() {
    return this.total === null || this.items.length < this.total;
  }

  loadNextPage() {
    if (this.loading) return this.loading;
    if (!this.hasMore() || this.failed) return Promise.resolve();

    const generation = this.generation;
    this.loading = fetchPage(this.items.length)
      .then((page) => {
        if (generation === this.generation) this.acceptPage(page);
      })
      .catch((error) => {
        if (generation === this.generation) this.showFailure(error);
      })
      .finally(() => this.settle(generation));
    return this.loading;
  }

  // Once a load lands, the next frame decides whether the viewport needs another.
  settle(generation) {
    if (generation !== this.generation) return;
    this.loading = null;
    if (!this.failed) this.schedule();
  }

  acceptPage(page) {
    const before = this.items.length;
    this.failed = false;
    appendUnique(this.items, this.seen, page.items ?? []);
    this.setTotals(page);

    // A short page means the list ended earlier than the count promised.
    if ((page.items ?? []).length < PAGE_SIZE || this.items.length === before) {
      this.total = this.items.length;
    }
    this.extendLayout(before);
  }

  setTotals(page) {
    this.reported = { visible: page.total_visible, assets: page.total_assets };
    this.total = page.total_visible ?? this.items.length;
    this.totalAssets = page.total_assets ?? this.total;
    this.onCount?.(this.totalAssets);
  }

  // Fetches again everything up to what the person is looking at, and swaps it in
  // at once so the grid never empties while it happens. Page loads wait for it: an
  // offset counted on the old list would leave a gap in the new one.
  reload() {
    const generation = ++this.generation;
    const wanted = Math.max(PAGE_SIZE, this.lastVisibleIndex() + PAGE_SIZE);
    const count = Math.min(Math.max(this.items.length, PAGE_SIZE), wanted);

    this.loading = fetchPages(count)
      .then((pages) => {
        if (generation === this.generation) this.replaceItems(pages);
      })
      .catch((error) => {
        if (generation === this.generation) this.showFailure(error);
      })
      .finally(() => this.settle(generation));
    return this.loading;
  }

  replaceItems(pages) {
    this.failed = false;
    this.items = [];
    this.seen = new Set();
    for (const page of pages) appendUnique(this.items, this.seen, page.items ?? []);
    this.setTotals(pages[0]);

    const last = pages[pages.length - 1];
    if ((last.items ?? []).length < PAGE_SIZE) this.total = this.items.length;
    this.relayout();
  }

  // Cheap enough to call every few seconds while an import runs.
  async checkForChanges() {
    if (this.total === null || this.loading) return;

    const probe = await fetchPage(0, 1).catch(() => null);
    if (!probe) return;
    // Compared with what the server said before, not with what we counted: the two
    // can differ for good (an item seen twice), and must not cause endless reloads.
    const changed = probe.total_visible !== this.reported.visible
      || probe.total_assets !== this.reported.assets
      || probe.items?.[0]?.id !== this.items[0]?.id;
    if (changed) await this.reload();
  }

  relayout() {
    const width = this.canvas.clientWidth;
    if (!width || this.total === null) return;

    const anchor = this.anchor();
    this.width = width;
    this.sections = [];
    groupByDay(this.sections, this.items, 0);
    this.layout = layoutSections(this.sections, width, this.layoutOptions());
    this.tileBoxes = [];
    this.indexTiles(0);
    this.finishLayout(anchor);
  }

  // After a page arrived only the last day can change (it may have grown), so the
  // layout is continued from its header instead of being redone from the top.
  extendLayout(firstNew) {
    const width = this.canvas.clientWidth;
    if (!this.layout || width !== this.width) {
      this.relayout();
      return;
    }

    const reopened = Math.max(0, this.sections.length - 1);
    const blocks = this.layout.blocks;
    const cut = blocks.findLastIndex((block) => block.kind === "header");
    if (cut < 0 || blocks[cut].section !== this.sections[reopened]) {
      this.relayout();
      return;
    }
    groupByDay(this.sections, this.items, firstNew);

    const top = blocks[cut].top;
    const continued = layoutSections(this.sections.slice(reopened), width,
      { ...this.layoutOptions(), top });
    this.layout = {
      blocks: blocks.slice(0, cut).concat(continued.blocks),
      height: continued.height,
    };
    this.indexTiles(cut);
    this.finishLayout(null);
  }

  layoutOptions() {
    return { headerHeight: HEADER_HEIGHT, target: targetRowHeight(this.width) };
  }

  finishLayout(anchor) {
    const target = targetRowHeight(this.width);
    this.canvas.style.height = `${this.layout.height}px`;
    this.tail.style.height = `${this.tailHeight(this.width, target)}px`;
    this.tail.style.setProperty("--row", `${target + GAP}px`);
    this.restore(anchor);
    this.updateMessage();
    this.render();
  }

  indexTiles(fromBlock) {
    const blocks = this.layout.blocks;
    for (let i = fromBlock; i < blocks.length; i++) {
      if (blocks[i].kind !== "row") continue;
      for (const tile of blocks[i].tiles) this.tileBoxes[tile.index] = blocks[i];
    }
  }

  // Room for the items not fetched yet, so the scrollbar tells the truth: as tall
  // per item as the fetched ones turned out, day headers included.
  tailHeight(width, target) {
    const remaining = Math.max(0, this.count() - this.items.length);
    if (!remaining) return 0;
    if (this.items.length) {
      return Math.round(remaining * (this.layout.height / this.items.length));
    }
    const perRow = Math.max(1, Math.floor(width / (target * 1.2)));
    return Math.ceil(remaining / perRow) * (target + GAP);
  }

  // The first item in view, so that a relayout (a resize, a refresh that added
  // photos above) keeps it where the person was looking. At the very top there is
  // nothing to keep: new photos should come into view there.
  anchor() {
    if (!this.layout || this.scroller.scrollTop < 1) return null;
    const viewTop = this.viewTop();
    const blocks = this.layout.blocks;
    let index = this.firstBlockFrom(viewTop);
    while (blocks[index]?.kind === "header") index += 1;
    const block = blocks[index];
    if (!block) return null;
    const item = this.items[block.tiles[0].index];
    return item ? { id: item.id, offset: block.top - viewTop } : null;
  }

  restore(anchor) {
    if (!anchor) return;
    const index = this.items.findIndex((item) => item.id === anchor.id);
    const block = this.tileBoxes[index];
    if (!block) return;
    const wanted = block.top - anchor.offset + this.canvas.offsetTop;
    if (Math.abs(wanted - this.scroller.scrollTop) > 1) {
      this.scroller.scrollTop = wanted;
    }
  }

  viewTop() {
    return this.scroller.scrollTop - this.canvas.offsetTop;
  }

  firstBlockFrom(y) {
    const blocks = this.layout.blocks;
    let low = 0;
    let high = blocks.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      const block = blocks[middle];
      if (block.top + block.height < y) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  lastVisibleIndex() {
    if (!this.layout) return 0;
    const bottom = this.viewTop() + this.scroller.clientHeight;
    let last = 0;
    const blocks = this.layout.blocks;
    for (let i = this.firstBlockFrom(this.viewTop()); i < blocks.length; i++) {
      const block = blocks[i];
      if (block.top > bottom) break;
      if (block.kind === "row") last = block.tiles[block.tiles.length - 1].index;
    }
    return last;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (!this.layout || !this.width) return;

    const viewTop = this.viewTop();
    const viewHeight = this.scroller.clientHeight;
    const fast = this.isScrollingFast(viewHeight);
    const margin = viewHeight * 0.5;
    const next = this.collectNodes(viewTop - margin, viewTop + viewHeight + margin);

    for (const [key, node] of this.nodes) {
      if (!next.has(key)) this.release(node);
    }
    this.arrange(next);
    this.nodes = next;

    if (fast) this.settleLater();
    else this.showThumbnails();
    if (viewTop + viewHeight * 3 > this.layout.height) this.loadNextPage();
  }

  isScrollingFast(viewHeight) {
    const top = this.scroller.scrollTop;
    const jump = Math.abs(top - this.lastScrollTop);
    this.lastScrollTop = top;
    return jump > viewHeight * FAST_SCROLL_SCREENS;
  }

  settleLater() {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.showThumbnails(), SETTLE_MS);
  }

  showThumbnails() {
    for (const node of this.nodes.values()) {
      if (node.classList.contains("tile")) showThumbnail(node);
    }
  }

  collectNodes(from, to) {
    const next = new Map();
    const blocks = this.layout.blocks;

    for (let i = this.firstBlockFrom(from); i < blocks.length; i++) {
      const block = blocks[i];
      if (block.top > to) break;
      if (block.kind === "header") this.collectHeader(block, next);
      else this.collectRow(block, next);
    }
    return next;
  }

  collectHeader(block, next) {
    const section = block.section;
    const key = `day:${section.start}:${section.key}`;
    const node = this.nodes.get(key) ?? h("h2", { class: "day-header" },
      h("span", { class: "day-label", text: formatDayHeader(section.key) }),
      h("span", { class: "day-count" }));

    const count = plural(section.aspects.length, "item");
    const counter = node.lastChild;
    if (counter.textContent !== count) counter.textContent = count;
    node.style.transform = `translateY(${block.top}px)`;
    next.set(key, node);
  }

  collectRow(block, next) {
    for (const box of block.tiles) {
      const item = this.items[box.index];
      const node = this.nodes.get(item.id) ?? createTile(item);
      if (node.item !== item) fillTile(node, item);
      node.index = box.index;
      placeTile(node, box.left, block.top, box.width, box.height);
      next.set(item.id, node);
    }
  }

  release(node) {
    if (node.classList.contains("tile")) releaseTile(node);
    else node.remove();
  }

  // DOM order follows visual order so that Tab walks the grid as it reads. Nodes
  // already in place are never moved, which would drop the keyboard focus.
  arrange(next) {
    let cursor = this.canvas.firstChild;
    for (const node of next.values()) {
      if (node === cursor) {
        cursor = cursor.nextSibling;
        continue;
      }
      this.canvas.insertBefore(node, cursor);
    }
  }

  openFrom(event) {
    const tile = event.target.closest(".tile");
    if (tile && Number.isInteger(tile.index)) this.onOpen(tile.index);
  }

  // Brings an item into view, for example the one the viewer was showing.
  reveal(index, { focus = false } = {}) {
    const block = this.tileBoxes[index];
    if (!block) return;

    const top = block.top + this.canvas.offsetTop;
    const bottom = top + block.height;
    const view = this.scroller;
    if (top < view.scrollTop || bottom > view.scrollTop + view.clientHeight) {
      view.scrollTop = top - (view.clientHeight - block.height) / 2;
    }
    this.render();
    if (focus) this.nodes.get(this.items[index].id)?.focus({ preventScroll: true });
  }

  // Called when the view becomes visible again after being hidden.
  show() {
    this.relayout();
  }

  updateMessage() {
    if (this.total === 0) {
      this.showMessage(this.emptyMessage());
    } else {
      this.showMessage("");
    }
  }

  // Only administrators have the Folders page, so only they are sent there.
  emptyMessage() {
    const start = "Your library is empty. Drop photos and videos anywhere on "
      + "this page or use Upload";
    return this.canAddFolders ? `${start}, or add a folder on the Folders page.`
      : `${start}, or ask an administrator to add a folder.`;
  }

  showMessage(text) {
    this.message.hidden = !text;
    this.message.classList.remove("is-error");
    clear(this.message).append(text);
  }

  showFailure(error) {
    this.failed = true;
    this.message.hidden = false;
    this.message.classList.add("is-error");
    const retry = h("button", { type: "button", text: "Try again" });
    retry.addEventListener("click", () => {
      this.failed = false;
      this.showMessage("Loading…");
      if (this.items.length) this.reload();
      else this.loadNextPage();
    });
    clear(this.message).append(
      h("span", { text: `The library could not be loaded. ${describeError(error)}` }),
      retry);
  }
}

// Consecutive items of the same local day form one section. Items from index `from`
// on are added, growing the last section when they continue its day.
function groupByDay(sections, items, from) {
  let current = sections[sections.length - 1] ?? null;
  for (let index = from; index < items.length; index += 1) {
    const asset = items[index].asset;
    const key = dayKey(asset);
    if (!current || current.key !== key) {
      current = { key, start: index, aspects: [] };
      sections.push(current);
    }
    current.aspects.push(aspectOf(asset));
  }
}

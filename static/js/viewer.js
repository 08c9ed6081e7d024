import { call } from "./api.js";
import { clear, h } from "./dom.js";
import { mediaUrl, thumbnailUrl } from "./media.js";
import { metadataList } from "./metadata.js";
import { recognitionFacts } from "./recognition_facts.js";
import { organiseTools } from "./organise_tools.js";
import { stackStrip } from "./stack_strip.js";
import { hasThumbnail, thumbnailFailed } from "./thumbs.js";

// Formats every browser can draw; anything else (HEIC, RAW, TIFF) is only ever
// shown through the server's thumbnails.
const BROWSER_IMAGES = new Set([
  "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp",
]);

// One full-screen dialog showing one item of a source (the timeline) at a time.
// source: { count(), itemAt(i), ensure(i) -> Promise<item>, reveal(i, options) }
export class Viewer {
  constructor(root, source, { shell }) {
    this.root = root;
    this.source = source;
    this.shell = shell;
    this.index = -1;
    this.token = 0;
    this.onKey = (event) => this.handleKey(event);

    this.buildDom();
  }

  buildDom() {
    this.stage = h("div", { class: "viewer-stage" });
    this.prevButton = h("button", {
      type: "button", class: "viewer-nav viewer-prev", "aria-label": "Previous",
      "data-testid": "viewer-prev", text: "‹",
      onclick: () => this.step(-1),
    });
    this.nextButton = h("button", {
      type: "button", class: "viewer-nav viewer-next", "aria-label": "Next",
      "data-testid": "viewer-next", text: "›",
      onclick: () => this.step(1),
    });
    this.closeButton = h("button", {
      type: "button", class: "viewer-close", "aria-label": "Close viewer",
      "data-testid": "viewer-close", text: "✕",
      onclick: () => this.close(),
    });
    this.infoButton = h("button", {
      type: "button", class: "viewer-info-toggle", "aria-pressed": "true",
      text: "Info", onclick: () => this.toggleInfo(),
    });
    this.title = h("h2", { class: "viewer-title", id: "viewer-title" });
    this.position = h("p", { class: "viewer-position" });
    this.facts = h("div", { class: "viewer-facts" });
    this.info = h("aside", { class: "viewer-info", "data-testid": "viewer-info" },
      this.title, this.position, this.facts);

    this.root.setAttribute("aria-labelledby", "viewer-title");
    this.root.append(
      h("div", { class: "viewer-main" },
        this.stage, this.prevButton, this.nextButton,
        h("div", { class: "viewer-tools" }, this.infoButton, this.closeButton)),
      this.info);
  }

  get isOpen() {
    return !this.root.hidden;
  }

  open(index) {
    if (!this.isOpen) {
      this.root.hidden = false;
      this.shell.inert = true;
      document.body.classList.add("has-viewer");
      document.addEventListener("keydown", this.onKey);
    }
    this.show(index);
    this.closeButton.focus();
  }

  close() {
    if (!this.isOpen) return;
    this.token += 1;
    this.root.hidden = true;
    this.shell.inert = false;
    document.body.classList.remove("has-viewer");
    document.removeEventListener("keydown", this.onKey);
    clear(this.stage);
    this.source.reveal(this.index, { focus: true });
  }

  step(delta) {
    const target = this.index + delta;
    if (target < 0 || target >= this.source.count()) return;
    this.show(target);
  }

  async show(index) {
    const token = ++this.token;
    const item = this.source.itemAt(index) ?? (await this.source.ensure(index));
    if (token !== this.token || !item) return;

    this.index = index;
    this.showStage(item.asset);
    this.showInfo(item);
    this.updateNavigation();
    this.preloadNeighbours();
    this.refreshDetail(item, token);
  }

  updateNavigation() {
    const count = this.source.count();
    this.prevButton.disabled = this.index <= 0;
    this.nextButton.disabled = this.index >= count - 1;
    this.position.textContent = `${(this.index + 1).toLocaleString("en")} of `
      + `${count.toLocaleString("en")}`;
  }

  showStage(asset) {
    clear(this.stage);
    this.stage.dataset.assetId = asset.asset_id;
    if (asset.type === "VIDEO") this.stage.append(...videoElement(asset));
    else if (asset.type === "AUDIO") this.stage.append(audioElement(asset));
    else this.stage.append(...photoElements(asset));
  }

  showInfo(item) {
    const asset = item.asset;
    this.title.textContent = asset.original_filename || "Untitled";
    clear(this.facts).append(metadataList(asset));
    if (item.type === "stack" && item.stack?.stack_size > 1) {
      this.facts.prepend(stackStrip(item, (id) => this.showMember(item, id)));
    }
    this.facts.prepend(organiseTools(asset, this.source.itemAt(this.index)?.asset));
    const recognised = recognitionFacts(asset);
    if (recognised) this.facts.append(recognised);
  }

  // Another member of the stack the viewer is on: its picture and its details,
  // with the stack's strip kept.
  async showMember(item, assetId) {
    const token = ++this.token;
    const id = encodeURIComponent(assetId);
    const detail = await call("GET", `/assets/${id}?include_thumbnails=false`)
      .catch(() => null);
    if (!detail || token !== this.token) return;

    this.showStage(detail);
    this.title.textContent = detail.original_filename || "Untitled";
    const strip = this.facts.querySelector(".stack-strip");
    clear(this.facts).append(metadataList(detail));
    if (strip) this.facts.prepend(strip);
  }

  // The list answer may predate the end of processing; the detail is fresher.
  async refreshDetail(item, token) {
    const id = encodeURIComponent(item.asset.asset_id);
    const detail = await call("GET", `/assets/${id}?include_thumbnails=false`
      + "&include_ocr=true&include_faces=true").catch(() => null);
    if (!detail || token !== this.token) return;

    this.showInfo({ ...item, asset: { ...item.asset, ...detail } });
  }

  preloadNeighbours() {
    for (const index of [this.index + 1, this.index - 1]) {
      const asset = this.source.itemAt(index)?.asset;
      if (asset && hasThumbnail(asset)) {
        new Image().src = thumbnailUrl(asset.asset_id, "large");
      }
    }
  }

  toggleInfo() {
    const hidden = this.root.classList.toggle("is-info-hidden");
    this.infoButton.setAttribute("aria-pressed", String(!hidden));
  }

  handleKey(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey) return;
    if (event.metaKey) return;
    // Arrow keys seek inside a focused video; leave them to it.
    const inMedia = event.target.closest?.("video, audio");

    if (event.key === "Escape") this.close();
    else if (event.key === "ArrowLeft" && !inMedia) this.step(-1);
    else if (event.key === "ArrowRight" && !inMedia) this.step(1);
    else if (event.key === "Tab") this.keepFocusInside(event);
    else return;
    if (event.key !== "Tab") event.preventDefault();
  }

  keepFocusInside(event) {
    const focusable = [...this.root.querySelectorAll(
      "button:not([disabled]), video, audio")];
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      last.focus();
      event.preventDefault();
    } else if (!event.shiftKey && document.activeElement === last) {
      first.focus();
      event.preventDefault();
    }
  }
}

function photoElements(asset) {
  const drawable = BROWSER_IMAGES.has(asset.mime_type);
  const preview = h("img", { class: "viewer-preview", alt: "" });
  const full = h("img", {
    class: "viewer-image",
    alt: asset.original_filename ?? "",
    "data-testid": "viewer-image",
  });
  const note = h("p", { class: "viewer-missing", hidden: true });
  const explain = () => {
    note.hidden = false;
    note.textContent = thumbnailFailed(asset)
      ? "No preview could be made for this file."
      : "The preview is not ready yet.";
  };

  preview.addEventListener("error", () => preview.remove());
  full.addEventListener("load", () => {
    full.classList.add("is-loaded");
    preview.remove();
  });
  full.addEventListener("error", () => {
    // The large thumbnail may not exist yet; the original can stand in if drawable.
    if (full.dataset.stage === "large" && drawable) showOriginal(full, asset);
    else explain();
  });

  if (hasThumbnail(asset)) {
    preview.src = thumbnailUrl(asset.asset_id, "small");
    full.dataset.stage = "large";
    full.src = thumbnailUrl(asset.asset_id, "large");
    if (drawable) upgradeToOriginal(full, asset);
  } else if (drawable) {
    showOriginal(full, asset);
  } else {
    explain();
  }
  return [preview, full, note];
}

function showOriginal(full, asset) {
  full.dataset.stage = "original";
  full.src = mediaUrl(asset.asset_id, "original");
}

// The original is sharper than the large thumbnail but may take a while; it takes
// over only once it has fully arrived, so the picture never blanks.
function upgradeToOriginal(full, asset) {
  const original = new Image();
  original.addEventListener("load", () => {
    if (!full.isConnected) return;
    full.dataset.stage = "original";
    full.src = original.src;
  });
  original.src = mediaUrl(asset.asset_id, "original");
}

function videoElement(asset) {
  const video = h("video", {
    class: "viewer-video",
    controls: true,
    autoplay: true,
    playsinline: true,
    preload: "metadata",
    poster: thumbnailUrl(asset.asset_id, "large"),
    "data-testid": "viewer-video",
  });

  // The web version is the server's H.264 transcode, or the original itself when it
  // plays as it is or is still being converted; the original is the last resort.
  // TODO: a playback running longer than the media token lives loses its later
  // range requests; the element would need a fresh URL and a seek to continue.
  const note = h("p", { class: "viewer-missing", hidden: true,
    text: "This video cannot be played in the browser." });
  video.addEventListener("error", () => {
    if (video.dataset.fallback) {
      note.hidden = false;
      return;
    }
    video.dataset.fallback = "original";
    video.src = mediaUrl(asset.asset_id, "original");
  });
  video.src = mediaUrl(asset.asset_id, "video/web");
  return [video, note];
}

function audioElement(asset) {
  return h("div", { class: "viewer-audio" },
    h("span", { class: "viewer-audio-icon", "aria-hidden": "true", text: "♪" }),
    h("audio", {
      controls: true,
      preload: "metadata",
      src: mediaUrl(asset.asset_id, "audio/web"),
      "data-testid": "viewer-audio",
    }));
}

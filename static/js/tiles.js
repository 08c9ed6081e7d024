import { formatCaptureTime } from "./captime.js";
import { h } from "./dom.js";
import { formatDuration } from "./format.js";
import { likedBadge } from "./ratings.js";
import {
  cancelThumbnail, hasThumbnail, loadThumbnail, retryThumbnailNow,
} from "./thumbs.js";

export function createTile(item) {
  const tile = h("button", {
    type: "button",
    class: "tile",
    "data-testid": "timeline-tile",
  });
  tile.append(h("img", { alt: "", draggable: "false", decoding: "async" }));
  fillTile(tile, item);
  return tile;
}

// Tiles are reused when a refresh brings a newer copy of the same item.
export function fillTile(tile, item) {
  const asset = item.asset;
  const img = tile.querySelector("img");
  if (!hasThumbnail(asset)) cancelThumbnail(img);
  else if (tile.item) retryThumbnailNow(img);
  tile.item = item;
  tile.dataset.assetId = asset.asset_id;
  tile.dataset.itemId = item.id;
  tile.dataset.type = asset.type;
  tile.setAttribute("aria-label", describe(item));

  tile.querySelectorAll(".badge, .mark, .tile-label").forEach((node) => node.remove());
  tile.append(...badges(item));
}

export function placeTile(tile, left, top, width, height) {
  tile.style.transform = `translate(${left}px, ${top}px)`;
  tile.style.width = `${width}px`;
  tile.style.height = `${height}px`;
}

// Separate from fillTile so that fast scrolling can lay tiles out at once and only
// ask for their images when the scrolling slows down.
export function showThumbnail(tile) {
  const img = tile.querySelector("img");
  const asset = tile.item.asset;
  if (!hasThumbnail(asset) || img.dataset.assetId === asset.asset_id) return;
  loadThumbnail(img, asset.asset_id, "small");
}

export function releaseTile(tile) {
  cancelThumbnail(tile.querySelector("img"));
  tile.remove();
}

function badges(item) {
  const asset = item.asset;
  const nodes = [];

  if (!hasThumbnail(asset)) {
    const audio = asset.type === "AUDIO";
    nodes.push(h("span", { class: "tile-label", "aria-hidden": "true" },
      h("span", { class: audio ? "tile-label-icon is-big" : "tile-label-icon",
        text: audio ? "♪" : "No preview" }),
      h("span", { class: "tile-label-name", text: asset.original_filename })));
  }
  if (asset.type === "VIDEO" || asset.type === "AUDIO") {
    const fallback = asset.type === "VIDEO" ? "▶" : "";
    const text = formatDuration(asset.duration) || fallback;
    if (text) nodes.push(h("span", { class: "badge badge-duration", text }));
  }
  if (item.type === "stack" && item.stack?.stack_size > 1) {
    const live = item.stack.stack_kind === "live_photo";
    nodes.push(h("span", {
      class: "badge badge-stack",
      title: live ? "Live Photo" : `Stack of ${item.stack.stack_size}`,
      text: live ? "LIVE" : `❐ ${item.stack.stack_size}`,
    }));
  }
  if (asset.liked) nodes.push(likedBadge());
  const state = asset.processing?.state;
  if (state === "failed" || state === "warning") {
    nodes.push(h("span", {
      class: `mark mark-${state}`,
      title: failureReason(asset.processing),
      "data-testid": `tile-${state}`,
      text: "!",
    }));
  }
  return nodes;
}

function failureReason(processing) {
  const fallback = processing.state === "failed" ? "Processing failed" : "";
  const lines = [processing.message || fallback];
  for (const failure of processing.errors ?? []) {
    lines.push(`${failure.task}: ${failure.error}`);
  }
  return lines.join("\n");
}

function describe(item) {
  const asset = item.asset;
  const parts = [asset.original_filename, formatCaptureTime(asset)];
  if (asset.type === "VIDEO") parts.push("video");
  if (item.type === "stack") parts.push(`stack of ${item.stack?.stack_size ?? 1}`);
  if (asset.processing?.state === "failed") parts.push("processing failed");
  if (asset.processing?.state === "warning") parts.push("processed with problems");
  return parts.filter(Boolean).join(", ");
}

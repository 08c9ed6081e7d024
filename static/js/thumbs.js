import { thumbnailUrl } from "./media.js";

// A thumbnail answers 404 until the pipeline has made it. The tile stays a neutral
// box meanwhile and asks again later, a little less often each time.
const FIRST_RETRY_MS = 3_000;
const LAST_RETRY_MS = 30_000;

// A thumbnail that failed, or a file that could not be read at all, will not appear
// by being asked again; such tiles get a labelled placeholder instead of retries.
// (Audio has one too: its cover art, or a neutral picture the server draws.)
export function hasThumbnail(asset) {
  return !thumbnailFailed(asset);
}

export function thumbnailFailed(asset) {
  const processing = asset.processing;
  if (!processing || processing.state === "processing") return false;
  if (processing.state === "failed") return true;
  return (processing.errors ?? []).some((error) => error.task === "thumbnail_asset");
}

export function loadThumbnail(img, assetId, size) {
  cancelThumbnail(img);
  img.dataset.assetId = assetId;
  img.dataset.size = size;
  img.dataset.retry = String(FIRST_RETRY_MS);
  img.onload = () => img.classList.add("is-loaded");
  img.onerror = () => scheduleRetry(img);
  img.src = thumbnailUrl(assetId, size);
}

export function cancelThumbnail(img) {
  clearTimeout(Number(img.dataset.timer));
  img.onload = null;
  img.onerror = null;
  // Dropping the source also stops a download nobody will look at any more.
  img.removeAttribute("src");
  img.classList.remove("is-loaded");
}

// For a tile whose item was just refreshed: the thumbnail it waits for may exist
// by now, so the wait ends early.
export function retryThumbnailNow(img) {
  if (!img.dataset.timer || img.getAttribute("src")) return;
  clearTimeout(Number(img.dataset.timer));
  delete img.dataset.timer;
  img.dataset.retry = String(FIRST_RETRY_MS);
  retry(img);
}

function scheduleRetry(img) {
  const delay = Number(img.dataset.retry);
  img.removeAttribute("src");
  img.dataset.retry = String(Math.min(delay * 2, LAST_RETRY_MS));
  img.dataset.timer = String(setTimeout(() => retry(img), delay));
}

function retry(img) {
  if (!img.isConnected) return;
  img.src = thumbnailUrl(img.dataset.assetId, img.dataset.size);
}

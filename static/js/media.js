import { API_BASE, call } from "./api.js";
import { parseInstant } from "./captime.js";

// <img> and <video> cannot send an Authorization header, so every media URL carries
// a short-lived media token instead; it is renewed well before it runs out.
const RETRY_MS = 15_000;
const EARLIEST_RENEWAL_MS = 10_000;

let token = null;
let expiresAt = 0;
let timer = 0;
let renewing = null;
let lastAttempt = 0;

export async function startMediaTokens() {
  document.addEventListener("visibilitychange", renewIfStale);
  await renew();
}

export function mediaUrl(assetId, kind, params = {}) {
  renewIfStale();

  const query = new URLSearchParams(params);
  if (token) query.set("mt", token);
  const id = encodeURIComponent(assetId);
  return `${API_BASE}/assets/${id}/${kind}?${query}`;
}

export function thumbnailUrl(assetId, size) {
  return mediaUrl(assetId, "thumbnail", { size });
}

// Timers are throttled in background tabs, so a tab coming back may hold an old one.
function renewIfStale() {
  if (document.visibilityState !== "visible") return;
  if (token && Date.now() < expiresAt - 30_000) return;
  // Every thumbnail asks for a URL; after a failure that must not become a flood.
  if (Date.now() - lastAttempt < 5_000) return;
  renew();
}

function renew() {
  renewing ??= fetchToken().finally(() => {
    renewing = null;
  });
  return renewing;
}

async function fetchToken() {
  clearTimeout(timer);
  lastAttempt = Date.now();
  try {
    const answer = await call("GET", "/auth/media-token");
    token = answer.token;
    expiresAt = parseInstant(answer.expires_at) ?? Date.now() + 5 * 60_000;
    const lifetime = expiresAt - Date.now();
    timer = setTimeout(renew, Math.max(EARLIEST_RENEWAL_MS, lifetime * 0.75));
  } catch {
    timer = setTimeout(renew, RETRY_MS);
  }
}

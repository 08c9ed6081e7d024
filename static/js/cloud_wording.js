// What the cloud import's states mean, in the words of the person watching: a
// provider's availability, an account's connection, an import run's progress.

import { describeError } from "./api.js";
import { formatSince, plural } from "./format.js";

const AVAILABLE_PROVIDERS = new Set(["enabled", "available"]);
const ACTIVE_RUNS = new Set(["queued", "pending", "running"]);
const FINISHED_RUNS = new Set(["completed", "succeeded"]);

const CREDENTIAL_STATES = {
  connected: "Connected",
  challenge_required: "Waiting for the verification code",
  password_required: "Needs the password again",
  disconnected: "Disconnected: no imports until it is reconnected",
  error: "The last sign-in failed: reconnect it",
};

// With these answers the service's own sentence says what went wrong and what to
// do next; the generic word the API puts in front ("Invalid request data") only
// reads like a developer's log.
const SELF_EXPLAINED = new Set(["Invalid request data", "Sign-in refused",
  "Verification failed"]);

export function describeCloudError(error) {
  if (!error?.detail || !SELF_EXPLAINED.has(error.word)) return describeError(error);
  return /[.!?]$/.test(error.detail) ? error.detail : `${error.detail}.`;
}

// A suggestion for the new folder's name, in the terms of the account's service.
const FOLDER_NAME_HINTS = {
  webdav: "Photos from the NAS",
  s3: "Photos from the bucket",
  icloud: "iCloud Photos",
};

export function folderNameHint(provider) {
  return FOLDER_NAME_HINTS[provider] ?? "Photos from the cloud";
}

// Who the account signs in as and, where its public settings name one, the
// folder or bucket it reads: "alice@nas.local/photos".
export function describeIdentity(credential) {
  const identity = credential?.masked_identity || "";
  const config = credential?.public_config ?? {};
  if (config.url) return `${identity}${urlFolder(config.url)}`;
  if (config.bucket) {
    const where = [config.bucket, config.prefix].filter(Boolean).join("/");
    return [identity, where.replace(/\/+$/, "")].filter(Boolean).join(" · ");
  }
  return identity;
}

function urlFolder(url) {
  try {
    return decodeURIComponent(new URL(url).pathname).replace(/\/+$/, "");
  } catch {
    return "";
  }
}

export function providerAvailable(provider) {
  return !provider.status || AVAILABLE_PROVIDERS.has(provider.status);
}

export function describeProviderStatus(provider) {
  if (providerAvailable(provider)) return "";
  return `Not available on this server (${provider.status.replaceAll("_", " ")}).`;
}

export function describeCredentialStatus(status) {
  return CREDENTIAL_STATES[status] ?? `Status: ${status || "unknown"}`;
}

export function credentialUsable(credential) {
  return credential?.status === "connected";
}

export function runActive(run) {
  return Boolean(run) && ACTIVE_RUNS.has(run.status);
}

// How far a run has come, between 0 and 1; null while the size is not known yet.
// Every file the run has seen ends up added, skipped or failed.
export function runProgress(run) {
  if (!runActive(run) || !(run.total_seen > 0)) return null;
  const settled = (run.imported_count ?? 0) + (run.skipped_count ?? 0)
    + (run.failed_count ?? 0);
  return Math.min(1, settled / run.total_seen);
}

export function describeRun(run) {
  if (!run) return "Nothing imported yet.";

  const outcome = describeCounts(run);
  if (run.status === "queued" || run.status === "pending") {
    return "Waiting to start…";
  }
  if (run.status === "running") {
    if (!run.total_seen) return "Looking through the account…";
    return `Importing… ${plural(run.total_seen, "file")} found so far: ${outcome}.`;
  }
  if (FINISHED_RUNS.has(run.status)) {
    // Worked out afresh on every refresh of the page, so "just now" ages.
    const when = formatSince(run.finished_at ?? run.updated_at);
    const nothingNew = describeNothingNew(run);
    if (nothingNew) return `${nothingNew}.${when ? ` Checked ${when}.` : ""}`;
    return `Import finished${when ? ` ${when}` : ""}: ${outcome}.`;
  }
  if (run.status === "failed") {
    const reason = run.error || "no reason given";
    return `The import stopped: ${reason.replace(/[.]$/, "")}. So far: ${outcome}.`;
  }
  if (run.status === "cancelled") return `The import was cancelled: ${outcome}.`;
  return `Import ${run.status}: ${outcome}.`;
}

export function runFailed(run) {
  return run?.status === "failed" || (run?.failed_count ?? 0) > 0;
}

// Skipped files are those an earlier run already brought, content the library
// already holds under another name, and files that are not photos or videos. The
// server counts the last kind apart (unsupported_count); an older server does
// not, and then both kinds are named together.
function describeCounts(run) {
  const skipped = run.skipped_count ?? 0;
  const unsupported = run.unsupported_count;
  const parts = [`${plural(run.imported_count ?? 0, "new item")} added`];
  if (run.downloaded_count) parts.push(`${run.downloaded_count} downloaded`);

  if (unsupported === undefined) {
    parts.push(skipped
      ? `${skipped} skipped (already in the library, or not a photo or video)`
      : "0 skipped");
  } else {
    if (skipped - unsupported) parts.push(`${skipped - unsupported} already imported`);
    if (unsupported) parts.push(notMedia(unsupported));
  }
  parts.push(`${run.failed_count ?? 0} failed`);
  return parts.join(", ");
}

// A finished run that added nothing and failed nothing; "" for any other run.
function describeNothingNew(run) {
  const skipped = run.skipped_count ?? 0;
  if (run.imported_count || run.failed_count || !skipped) return "";

  const unsupported = run.unsupported_count;
  if (unsupported === undefined) {
    return `Nothing new: ${skipped} already in the library or not a photo or video`;
  }
  const already = skipped - unsupported;
  if (!already) return `Nothing new: ${notMedia(unsupported)}`;
  const imported = already === 1 ? "the only photo or video was already imported"
    : `all ${already} photos and videos were already imported`;
  return unsupported ? `Nothing new: ${imported}; ${notMedia(unsupported)}`
    : `Nothing new: ${imported}`;
}

function notMedia(count) {
  return count === 1 ? "1 file is not a photo or video"
    : `${count} files are not photos or videos`;
}

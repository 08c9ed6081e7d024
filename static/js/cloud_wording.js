// What the cloud import's states mean, in the words of the person watching: a
// provider's availability, an account's connection, an import run's progress.

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
    const when = formatSince(run.finished_at ?? run.updated_at);
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
// already holds under another name, and files that are not photos or videos.
function describeCounts(run) {
  const skipped = run.skipped_count ?? 0;
  const parts = [`${plural(run.imported_count ?? 0, "new item")} added`];
  if (run.downloaded_count) parts.push(`${run.downloaded_count} downloaded`);
  parts.push(skipped
    ? `${skipped} skipped (already in the library, or not a photo or video)`
    : "0 skipped");
  parts.push(`${run.failed_count ?? 0} failed`);
  return parts.join(", ");
}

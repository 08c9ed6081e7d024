import { accessToken, clearTokens, refreshToken, saveTokens } from "./session.js";

export const API_BASE = "/api/v1";

// Some error answers carry a machine word as their message; these read better.
const FRIENDLY_MESSAGES = {
  app_not_initialized: "Lumilio is not set up yet.",
};

export class ApiError extends Error {
  constructor(status, body) {
    super(FRIENDLY_MESSAGES[body?.message] ?? body?.message ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.code ?? status;
    this.word = body?.message ?? "";
    this.detail = typeof body?.error === "string" ? body.error : "";
  }
}

export function describeError(error) {
  if (!(error instanceof ApiError)) {
    return error?.message || "Something went wrong.";
  }
  if (error.status === 0) return "The server cannot be reached. Is Lumilio running?";

  const detail = error.detail && error.detail !== error.word ? error.detail : "";
  if (!detail) return error.message;
  return `${error.message.replace(/[.]$/, "")}: ${detail}`;
}

export async function call(method, path, body, { auth = true } = {}) {
  const usedToken = auth ? accessToken() : null;
  let response = await send(method, path, body, usedToken);

  // Sign-in routes are called with auth off, so a 401 there is an answer (a wrong
  // password), not an expired session.
  if (response.status === 401 && auth) {
    // Another request may already have rotated the tokens while this one was out.
    const renewed = accessToken() !== usedToken || (await refreshSession());
    if (renewed) response = await send(method, path, body, accessToken());
    if (response.status === 401) endSession();
  }

  return parse(response);
}

async function send(method, path, body, token) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";

  try {
    return await fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (failure) {
    throw new ApiError(0, { message: failure.message });
  }
}

async function parse(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text.slice(0, 200) };
  }

  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

let pendingRefresh = null;

// The server revokes a refresh token once it is used, so two refreshes racing each
// other would sign the person out; every caller shares the one in flight.
export function refreshSession() {
  pendingRefresh ??= renewTokens().finally(() => {
    pendingRefresh = null;
  });
  return pendingRefresh;
}

async function renewTokens() {
  const token = refreshToken();
  if (!token) return false;

  const response = await send("POST", "/auth/refresh", { refreshToken: token });
  if (!response.ok) return false;

  saveTokens(await response.json());
  return true;
}

function endSession() {
  clearTokens();
  window.dispatchEvent(new CustomEvent("lumilio:signed-out"));
}

export async function signOut() {
  const token = refreshToken();
  if (token) {
    await call("POST", "/auth/logout", { refreshToken: token }, { auth: false })
      .catch(() => null);
  }
  endSession();
}

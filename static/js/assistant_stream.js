import { EventSourceParserStream } from "../vendor/eventsource-parser/stream.js";
import { API_BASE, ApiError, refreshSession, signOut } from "./api.js";
import { accessToken } from "./session.js";

// The assistant answers a POST with server-sent events. EventSource can neither POST
// nor send the Authorization header, so the answer is read from fetch's body stream
// and cut into events as the bytes arrive.
//
// onEvent(type, data) is called for every event, in order; data is the parsed JSON
// (or the raw text when it is not JSON). Aborting `signal` ends the request, which
// is how the server learns that the run is to stop.
export async function streamAgent(path, body, { signal, onEvent }) {
  const response = await open(path, body, signal);
  const reader = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();

  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onEvent(value.event || "message", parseData(value.data));
    }
  } finally {
    reader.releaseLock();
  }
}

async function open(path, body, signal) {
  const usedToken = accessToken();
  let response = await send(path, body, usedToken, signal);

  // The same renewal as every other request: an expired access token is renewed
  // once, and a session that cannot be renewed ends.
  if (response.status === 401) {
    const renewed = accessToken() !== usedToken || (await refreshSession());
    if (renewed) response = await send(path, body, accessToken(), signal);
    if (response.status === 401) await signOut();
  }

  if (!response.ok) throw await errorOf(response);
  return response;
}

async function send(path, body, token, signal) {
  const headers = { "Content-Type": "application/json", Accept: "text/event-stream" };
  if (token) headers.Authorization = `Bearer ${token}`;

  try {
    return await fetch(API_BASE + path, {
      method: "POST", headers, body: JSON.stringify(body), signal,
    });
  } catch (failure) {
    if (failure.name === "AbortError") throw failure;
    throw new ApiError(0, { message: failure.message });
  }
}

async function errorOf(response) {
  const text = await response.text();
  try {
    return new ApiError(response.status, JSON.parse(text));
  } catch {
    return new ApiError(response.status, { message: text.slice(0, 200) });
  }
}

function parseData(text) {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// Whether a failure is the person pressing Stop rather than something going wrong.
export function isAbort(error) {
  return error?.name === "AbortError";
}

// The agent's routes answer 404 while the assistant is turned off.
export function isDisabled(error) {
  return error instanceof ApiError && error.status === 404
    && /disabled/i.test(error.message);
}

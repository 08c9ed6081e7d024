import { call } from "./api.js";

// Passkeys through navigator.credentials: the server's JSON options become the
// binary ones the browser wants, and the browser's answer becomes JSON again.

export function passkeysSupported() {
  return Boolean(window.PublicKeyCredential && navigator.credentials);
}

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function descriptors(list) {
  return (list ?? []).map((item) => ({ ...item, id: fromBase64url(item.id) }));
}

async function createCredential(options) {
  const publicKey = {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: { ...options.user, id: fromBase64url(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
  const made = await navigator.credentials.create({ publicKey });
  return {
    id: made.id,
    rawId: toBase64url(made.rawId),
    type: made.type,
    authenticatorAttachment: made.authenticatorAttachment ?? undefined,
    response: {
      clientDataJSON: toBase64url(made.response.clientDataJSON),
      attestationObject: toBase64url(made.response.attestationObject),
      transports: made.response.getTransports?.() ?? [],
    },
    clientExtensionResults: made.getClientExtensionResults(),
  };
}

async function getAssertion(options) {
  const publicKey = {
    ...options,
    challenge: fromBase64url(options.challenge),
    allowCredentials: descriptors(options.allowCredentials),
  };
  const found = await navigator.credentials.get({ publicKey });
  const { response } = found;
  return {
    id: found.id,
    rawId: toBase64url(found.rawId),
    type: found.type,
    authenticatorAttachment: found.authenticatorAttachment ?? undefined,
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined,
    },
    clientExtensionResults: found.getClientExtensionResults(),
  };
}

// The browser's own refusal (a closed prompt, no authenticator) reads as this.
function plainly(error) {
  if (error?.name === "NotAllowedError") {
    return new Error("The passkey prompt was closed or timed out.");
  }
  if (error?.name === "InvalidStateError") {
    return new Error("This authenticator already holds a passkey for this account.");
  }
  return error;
}

export async function enrolPasskey(label) {
  const start = await call("POST", "/auth/mfa/passkeys/options", {});
  let credential;
  try {
    credential = await createCredential(start.options);
  } catch (error) {
    throw plainly(error);
  }
  return call("POST", "/auth/mfa/passkeys/verify", {
    challenge_token: start.challenge_token, credential, label: label || undefined,
  });
}

export async function signInWithPasskey(username) {
  const body = username ? { username } : {};
  const start = await call("POST", "/auth/passkeys/login/options", body,
    { auth: false });
  let credential;
  try {
    credential = await getAssertion(start.options);
  } catch (error) {
    throw plainly(error);
  }
  return call("POST", "/auth/passkeys/login/verify",
    { challenge_token: start.challenge_token, credential }, { auth: false });
}

import { ApiError, call, describeError } from "./api.js";
import { clear, focusFirst, h } from "./dom.js";
import { accessToken, clearTokens, isAdmin, saveTokens } from "./session.js";
import { passkeysSupported, signInWithPasskey } from "./webauthn.js";

const USERNAME_HINT = "3 to 32 characters: lower-case letters, digits, dots, dashes "
  + "or underscores, starting with a letter.";
const PASSWORD_HINT = "At least 10 characters, with an upper-case letter, a "
  + "lower-case letter and a digit.";

// Everything between opening the page and a signed-in person with a usable
// library: first-run setup, the first (administrator) account, signing in, a
// second factor when the account has one, and the main library when it is missing.
export async function establishSession(root) {
  root.hidden = false;
  try {
    let status = await untilReachable(root, setupStatus);
    if (!status.database_initialized) await untilReachable(root, initializeServer);

    const user = (await untilReachable(root, currentUser))
      ?? (await askForAccount(root, status));
    status = await untilReachable(root, setupStatus);
    if (!status.primary_repository_initialized) await finishSetup(root, user, status);
    return user;
  } finally {
    clear(root);
    root.hidden = true;
  }
}

function setupStatus() {
  return call("GET", "/setup/status", undefined, { auth: false });
}

async function initializeServer() {
  try {
    await call("POST", "/setup", {}, { auth: false });
  } catch (error) {
    // 409 means someone else finished this step first, which is all we wanted.
    if (!(error instanceof ApiError) || error.status !== 409) throw error;
  }
}

async function currentUser() {
  if (!accessToken()) return null;
  try {
    const answer = await call("GET", "/auth/me");
    return answer.user ?? answer;
  } catch (error) {
    // An unreachable server says nothing about the session; keep it for later.
    if (error instanceof ApiError && error.status === 0) throw error;
    clearTokens();
    return null;
  }
}

async function untilReachable(root, request) {
  for (;;) {
    try {
      return await request();
    } catch (error) {
      await notice(root, {
        title: "Lumilio is not answering",
        text: describeError(error),
        button: "Try again",
      });
    }
  }
}

async function askForAccount(root, status) {
  const firstRun = status.admin_initialized === false
    || status.next_registration_role === "admin";
  let mode = firstRun ? "first" : "sign-in";

  for (;;) {
    const answer = mode === "sign-in" ? await signInScreen(root)
      : mode === "passkey" ? await passkeyScreen(root)
        : await registerScreen(root, mode === "first");
    if (answer.switchTo) {
      mode = answer.switchTo;
      continue;
    }

    const session = answer.requires_mfa ? await secondFactor(root, answer) : answer;
    saveTokens(session);
    return session.user;
  }
}

function signInScreen(root) {
  return formScreen(root, {
    testid: "sign-in",
    title: "Sign in to Lumilio",
    fields: [
      { name: "username", label: "Username", autocomplete: "username" },
      { name: "password", label: "Password", type: "password",
        autocomplete: "current-password" },
    ],
    submit: "Sign in",
    links: [
      passkeysSupported()
        ? { text: "Use a passkey instead", value: { switchTo: "passkey" } } : null,
      { text: "Create an account", value: { switchTo: "register" } },
    ].filter(Boolean),
    onSubmit: ({ username, password }) => call("POST", "/auth/login",
      { username: username.trim().toLowerCase(), password }, { auth: false }),
  });
}

// A passkey needs no password and no second factor: the device checked the person.
function passkeyScreen(root) {
  return formScreen(root, {
    testid: "passkey-sign-in",
    title: "Sign in with a passkey",
    lead: "Enter your username, then confirm with your device.",
    fields: [{ name: "username", label: "Username", autocomplete: "username webauthn" }],
    submit: "Continue",
    links: [{ text: "Use my password", value: { switchTo: "sign-in" } }],
    onSubmit: ({ username }) => signInWithPasskey(username.trim().toLowerCase()),
  });
}

function registerScreen(root, firstRun) {
  return formScreen(root, {
    testid: firstRun ? "first-account" : "register",
    title: firstRun ? "Welcome to Lumilio" : "Create an account",
    lead: firstRun
      ? "Create the first account. It becomes the administrator of this library."
      : "",
    fields: [
      { name: "username", label: "Username", autocomplete: "username",
        hint: USERNAME_HINT },
      { name: "password", label: "Password", type: "password",
        autocomplete: "new-password", hint: PASSWORD_HINT },
      { name: "confirm", label: "Password again", type: "password",
        autocomplete: "new-password" },
    ],
    submit: firstRun ? "Create the first account" : "Create account",
    links: firstRun ? [] : [{ text: "I already have an account",
      value: { switchTo: "sign-in" } }],
    onSubmit: ({ username, password, confirm }) => {
      if (password !== confirm) throw new Error("The two passwords are not the same.");
      return call("POST", "/auth/register/start",
        { username: username.trim().toLowerCase(), password }, { auth: false });
    },
  });
}

async function secondFactor(root, challenge) {
  let method = "totp";
  for (;;) {
    const recovery = method === "recovery_code";
    const answer = await formScreen(root, {
      testid: "second-factor",
      title: "Two-step verification",
      lead: recovery
        ? "Enter one of your recovery codes."
        : "Enter the 6-digit code from your authenticator app.",
      fields: [{ name: "code", label: recovery ? "Recovery code" : "Code",
        autocomplete: "one-time-code", inputmode: recovery ? "text" : "numeric" }],
      submit: "Verify",
      links: [{ text: recovery ? "Use the authenticator app" : "Use a recovery code",
        value: { switchTo: recovery ? "totp" : "recovery_code" } }],
      onSubmit: ({ code }) => call("POST", "/auth/mfa/verify",
        { mfa_token: challenge.mfa_token, code: code.trim(), method }, { auth: false }),
    });
    if (!answer.switchTo) return answer;
    method = answer.switchTo;
  }
}

// Business routes stay closed until a main library exists; upstream's web client
// creates it right after the first account, and so do we.
async function finishSetup(root, user, status) {
  if (!isAdmin(user)) {
    await notice(root, {
      title: "Almost ready",
      text: "An administrator still has to finish setting up Lumilio.",
      button: "Check again",
    });
    window.location.reload();
    return;
  }

  const where = status.repository_defaults?.default_root;
  await formScreen(root, {
    testid: "main-library",
    title: "Create the main library",
    lead: "Photos and videos you upload are kept in the main library"
      + (where ? `, a folder inside ${where}.` : "."),
    fields: [],
    submit: "Create the main library",
    onSubmit: () => call("POST", "/repositories",
      { name: "Main library", role: "primary" }),
  });
}

function notice(root, { title, text, button }) {
  return new Promise((resolve) => {
    const action = h("button", { type: "button", class: "primary", text: button,
      onclick: () => resolve() });
    clear(root).append(brand(), h("div", { class: "auth-card", role: "alert" },
      h("h1", { text: title }), h("p", { text }), action));
    action.focus();
  });
}

// One card with a form. Resolves with what onSubmit returned, or with the value of
// a link that leads elsewhere; a failed submit shows the reason and stays.
function formScreen(root, spec) {
  return new Promise((resolve) => {
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const button = h("button", { type: "submit", class: "primary", text: spec.submit });
    const form = h("form", { class: "auth-card", "data-testid": spec.testid },
      h("h1", { text: spec.title }),
      spec.lead ? h("p", { class: "lead", text: spec.lead }) : null,
      spec.fields.map(field),
      error,
      button,
      links(spec.links ?? [], resolve));

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      try {
        resolve(await spec.onSubmit(Object.fromEntries(new FormData(form))));
      } catch (failure) {
        error.hidden = false;
        error.textContent = describeError(failure);
        button.disabled = false;
      }
    });

    clear(root).append(brand(), form);
    focusFirst(form);
  });
}

function field(spec) {
  const id = `field-${spec.name}`;
  const hintId = spec.hint ? `${id}-hint` : undefined;
  return h("div", { class: "field" },
    h("label", { for: id, text: spec.label }),
    h("input", {
      id,
      name: spec.name,
      type: spec.type ?? "text",
      autocomplete: spec.autocomplete,
      inputmode: spec.inputmode,
      autocapitalize: "none",
      spellcheck: "false",
      required: true,
      "aria-describedby": hintId,
    }),
    spec.hint ? h("p", { class: "field-hint", id: hintId, text: spec.hint }) : null);
}

function links(items, resolve) {
  if (!items.length) return null;
  return h("p", { class: "auth-links" }, items.map((item) => h("button", {
    type: "button", class: "link", text: item.text, onclick: () => resolve(item.value),
  })));
}

function brand() {
  return h("p", { class: "auth-brand" },
    h("img", { src: "icon.svg", alt: "", width: "28", height: "28" }), "Lumilio");
}

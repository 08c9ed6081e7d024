import { call, describeError } from "./api.js";
import { clear, h } from "./dom.js";
import { saveTokens } from "./session.js";
import { enrolPasskey, passkeysSupported } from "./webauthn.js";

const PASSWORD_HINT = "At least 10 characters, with an upper-case letter, a "
  + "lower-case letter and a digit.";

function formatDate(text) {
  if (!text) return "never";
  return new Date(text).toLocaleString(undefined,
    { dateStyle: "medium", timeStyle: "short" });
}

function input(name, label, { type = "text", autocomplete, value, hint } = {}) {
  const id = `account-${name}`;
  return h("div", { class: "field" },
    h("label", { for: id, text: label }),
    h("input", { id, name, type, autocomplete, value, autocapitalize: "none",
      spellcheck: "false" }),
    hint ? h("p", { class: "field-hint", text: hint }) : null);
}

// A form whose submit runs `action`; its outcome is written under the button.
function actionForm(testid, children, submitText, action) {
  const status = h("p", { class: "form-status", role: "status" });
  const button = h("button", { type: "submit", class: "primary", text: submitText });
  const form = h("form", { class: "account-form", "data-testid": testid },
    children, button, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    status.className = "form-status";
    status.textContent = "";
    try {
      const said = await action(Object.fromEntries(new FormData(form)), form);
      if (said) status.textContent = said;
    } catch (error) {
      status.className = "form-status form-error";
      status.textContent = describeError(error);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function card(title, testid, ...children) {
  return h("section", { class: "account-card", "data-testid": testid },
    h("h2", { text: title }), ...children);
}

// The signed-in person's own settings: name, password, two-step verification with
// an authenticator app, recovery codes and passkeys.
export class AccountPage {
  constructor(root, user) {
    this.root = root;
    this.user = user;
  }

  async show() {
    this.root.hidden = false;
    await this.render();
  }

  hide() {
    this.root.hidden = true;
  }

  async render(extra = null) {
    let me;
    let mfa;
    let passkeys;
    try {
      [me, mfa, passkeys] = await Promise.all([
        call("GET", "/auth/me"), call("GET", "/auth/mfa"),
        call("GET", "/auth/mfa/passkeys")]);
    } catch (error) {
      clear(this.root).append(h("p", { class: "form-error", text: describeError(error) }));
      return;
    }
    clear(this.root).append(h("div", { class: "account" },
      h("h1", { text: "Your account" }),
      extra,
      this.profile(me),
      this.password(me),
      this.totp(mfa),
      this.passkeys(passkeys)));
  }

  profile(me) {
    return card("Profile", "account-profile",
      h("p", { class: "lead", text: `Signed in as ${me.username} (${me.role}).` }),
      actionForm("profile-form", [
        input("display_name", "Display name", { value: me.display_name ?? "" }),
      ], "Save name", async ({ display_name: name }) => {
        const saved = await call("PATCH", "/users/me/profile", { display_name: name });
        const shown = document.querySelector("#user-name");
        if (shown) shown.textContent = saved.display_name || saved.username;
        return "Saved.";
      }));
  }

  password(me) {
    return card("Password", "account-password",
      actionForm("password-form", [
        input("current_password", "Current password",
          { type: "password", autocomplete: "current-password" }),
        input("new_password", "New password",
          { type: "password", autocomplete: "new-password", hint: PASSWORD_HINT }),
        input("confirm", "New password again",
          { type: "password", autocomplete: "new-password" }),
      ], "Change password", async (values, form) => {
        if (values.new_password !== values.confirm) {
          throw new Error("The two new passwords are not the same.");
        }
        await call("PATCH", "/users/me/password", {
          current_password: values.current_password,
          new_password: values.new_password });
        form.reset();
        // Every session was signed out; sign this one in again with the new
        // password so that it lasts beyond the current access token.
        const again = await call("POST", "/auth/login",
          { username: me.username, password: values.new_password }, { auth: false });
        if (again.requires_mfa) {
          return "Password changed. You will be asked to sign in again soon.";
        }
        saveTokens(again);
        return "Password changed. Other devices were signed out.";
      }));
  }

  totp(mfa) {
    if (!mfa.totp_enabled) {
      const start = h("button", { type: "button", class: "primary",
        "data-testid": "totp-start", text: "Set up an authenticator app",
        onclick: () => this.startTotp(body) });
      const body = h("div", {}, h("p", { text: "Two-step verification is off. "
        + "Turn it on to be asked for a code from an authenticator app when you "
        + "sign in with your password." }), start);
      return card("Two-step verification", "account-totp", body);
    }
    const remaining = mfa.recovery_codes_remaining;
    return card("Two-step verification", "account-totp",
      h("p", { "data-testid": "totp-on", text: "Two-step verification is on. "
        + `${remaining} recovery code${remaining === 1 ? "" : "s"} left.` }),
      actionForm("recovery-form", [
        input("current_password", "Password", { type: "password",
          autocomplete: "current-password" }),
      ], "New recovery codes", async ({ current_password: password }) => {
        const fresh = await call("POST", "/auth/mfa/recovery-codes/regenerate",
          { current_password: password });
        await this.render(this.recoveryCodes(fresh.recovery_codes));
      }),
      actionForm("totp-disable-form", [
        input("current_password", "Password", { type: "password",
          autocomplete: "current-password" }),
      ], "Turn off two-step verification", async ({ current_password: password }) => {
        await call("POST", "/auth/mfa/totp/disable", { current_password: password });
        await this.render();
      }));
  }

  async startTotp(body) {
    let setup;
    try {
      setup = await call("POST", "/auth/mfa/totp/setup", {});
    } catch (error) {
      body.append(h("p", { class: "form-error", text: describeError(error) }));
      return;
    }
    clear(body).append(
      h("p", { text: "Add this account to your authenticator app: open the link "
        + "on your phone, or type the secret key by hand." }),
      h("dl", { class: "totp-setup" },
        h("dt", { text: "Secret key" }),
        h("dd", {}, h("code", { "data-testid": "totp-secret", text: setup.secret })),
        h("dt", { text: "Link" }),
        h("dd", {}, h("a", { href: setup.otpauth_uri, "data-testid": "totp-uri",
          text: setup.otpauth_uri }))),
      actionForm("totp-enable-form", [
        input("code", "Code from the app", { autocomplete: "one-time-code" }),
      ], "Turn on", async ({ code }) => {
        const enabled = await call("POST", "/auth/mfa/totp/enable",
          { setup_token: setup.setup_token, code: code.trim() });
        await this.render(this.recoveryCodes(enabled.recovery_codes));
      }));
  }

  recoveryCodes(codes) {
    const box = h("section", { class: "account-card recovery-codes",
      "data-testid": "recovery-codes", role: "alert" },
      h("h2", { text: "Your recovery codes" }),
      h("p", { text: "Keep these somewhere safe. Each one signs you in once if "
        + "you lose your phone. They are shown only now." }),
      h("ol", {}, codes.map((code) => h("li", {}, h("code", { text: code })))),
      h("button", { type: "button", text: "I have saved them",
        onclick: () => box.remove() }));
    return box;
  }

  passkeys(list) {
    const rows = list.credentials.map((key) => h("li", {
      class: "passkey", "data-testid": "passkey-row" },
      h("span", { class: "passkey-label", text: key.label }),
      h("span", { class: "passkey-dates",
        text: `added ${formatDate(key.created_at)}, last used `
          + formatDate(key.last_used_at) }),
      h("button", { type: "button", class: "quiet", text: "Remove",
        "aria-label": `Remove passkey ${key.label}`,
        onclick: async () => {
          await call("DELETE", `/auth/mfa/passkeys/${key.passkey_id}`, {});
          await this.render();
        } })));
    const adding = passkeysSupported()
      ? actionForm("passkey-add-form", [
        input("label", "Name (optional)", { autocomplete: "off" }),
      ], "Add a passkey", async ({ label }) => {
        await enrolPasskey(label.trim());
        await this.render();
      })
      : h("p", { text: "This browser cannot use passkeys here (they need "
        + "https, or the address localhost)." });
    return card("Passkeys", "account-passkeys",
      h("p", { text: "A passkey signs you in with your fingerprint, face or "
        + "device PIN instead of a password." }),
      rows.length ? h("ul", { class: "passkeys" }, rows)
        : h("p", { class: "empty", text: "No passkeys yet." }),
      adding);
  }
}

import { call, describeError } from "./api.js";
import { clear, h } from "./dom.js";

const PAGE = 100;

function when(text) {
  return text ? new Date(text).toLocaleString(undefined,
    { dateStyle: "medium", timeStyle: "short" }) : "never";
}

// The administrator's list of accounts: role, whether it may sign in, and a reset
// for someone locked out (a temporary password; passkeys and codes removed).
export class UsersPage {
  constructor(root, user) {
    this.root = root;
    this.me = user;
  }

  async show() {
    this.root.hidden = false;
    await this.render();
  }

  hide() {
    this.root.hidden = true;
  }

  async render(notice = null) {
    let listing;
    try {
      listing = await call("GET", `/users?limit=${PAGE}&offset=0`);
    } catch (error) {
      clear(this.root).append(h("p", { class: "form-error", text: describeError(error) }));
      return;
    }
    const more = listing.total > listing.users.length
      ? h("p", { text: `Showing the first ${listing.users.length} of ${listing.total}.` })
      : null;
    clear(this.root).append(h("div", { class: "account users-admin" },
      h("h1", { text: "Users" }),
      notice,
      h("table", { class: "users-table", "data-testid": "users-table" },
        h("thead", {}, h("tr", {}, ["User", "Display name", "Role", "Active",
          "Photos", "Albums", "Last sign-in", ""].map((t) => h("th", { text: t })))),
        h("tbody", {}, listing.users.map((u) => this.row(u)))),
      more));
  }

  row(u) {
    const status = h("span", { class: "form-status", role: "status" });
    const name = h("input", { type: "text", value: u.display_name ?? "",
      "aria-label": `Display name of ${u.username}` });
    const role = h("select", { "aria-label": `Role of ${u.username}` },
      ["user", "admin"].map((r) => h("option", { value: r, text: r,
        selected: r === u.role })));
    const active = h("input", { type: "checkbox", checked: u.is_active,
      "aria-label": `${u.username} may sign in` });

    const save = async () => {
      status.className = "form-status";
      status.textContent = "";
      try {
        await call("PATCH", `/users/${u.user_id}`, {
          display_name: name.value, role: role.value, is_active: active.checked });
        status.textContent = "Saved.";
      } catch (error) {
        status.className = "form-status form-error";
        status.textContent = describeError(error);
      }
    };
    const reset = async () => {
      if (!window.confirm(`Reset access of ${u.username}? Their password, passkeys `
        + "and two-step verification are replaced by a temporary password.")) return;
      try {
        const done = await call("POST", `/users/${u.user_id}/reset-access`, {});
        await this.render(h("p", { class: "account-card", role: "alert",
          "data-testid": "temporary-password" },
          `Temporary password for ${u.username}: `,
          h("code", { text: done.temporary_password }),
          ". Give it to them; they should change it after signing in."));
      } catch (error) {
        status.className = "form-status form-error";
        status.textContent = describeError(error);
      }
    };

    const self = u.user_id === this.me.user_id;
    return h("tr", { "data-testid": "user-row", "data-username": u.username },
      h("td", { text: u.username }),
      h("td", {}, name),
      h("td", {}, role),
      h("td", {}, active),
      h("td", { text: String(u.asset_count) }),
      h("td", { text: String(u.album_count) }),
      h("td", { text: when(u.last_login) }),
      h("td", {}, h("div", { class: "user-actions" },
        h("button", { type: "button", text: "Save", onclick: save }),
        self ? null : h("button", { type: "button", class: "quiet",
          text: "Reset access", onclick: reset }),
        status)));
  }
}

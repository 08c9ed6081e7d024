// The small forms of the cloud page: one step that asks for a few inputs (a
// verification code, a password again) and the question before removing an account.

import { h } from "./dom.js";
import { buildFields, clearSecrets, readFields } from "./cloud_fields.js";
import { describeCloudError } from "./cloud_wording.js";

// A form for one step. `action` gets the inputs; whatever it answers is handed to
// `onDone`. When it throws, the server's reason is shown under the fields and the
// person can try again without starting over.
export function stepForm({ title, description, fields, idPrefix, submitText, action,
  onDone, onCancel, testid, note }) {
  const status = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", text: submitText });
  const cancel = onCancel
    ? h("button", { type: "button", class: "quiet", text: "Cancel",
      onclick: onCancel })
    : null;
  const form = h("form", { class: "cloud-step", "data-testid": testid },
    title ? h("h3", { text: title }) : null,
    description ? h("p", { class: "hint", text: description }) : null,
    buildFields(fields, idPrefix),
    note ? h("p", { class: "hint cloud-note", text: note }) : null,
    status,
    h("div", { class: "form-actions" }, submit, cancel));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.hidden = true;
    submit.disabled = true;
    try {
      const answer = await action(readFields(form, fields));
      onDone?.(answer);
    } catch (error) {
      status.hidden = false;
      status.textContent = describeCloudError(error);
      clearSecrets(form);
      // The emptied secret is what most often needs typing again.
      (form.querySelector("input[type=password]") ?? firstField(form))?.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export function focusFirstField(form) {
  firstField(form)?.focus();
}

function firstField(form) {
  return form.querySelector("input, select, textarea");
}

// A modal that holds one step form; resolves to the action's answer, or null when
// the person closes it.
export function askInDialog(options) {
  return new Promise((resolve) => {
    let answer = null;
    const dialog = h("dialog", { class: "export-dialog cloud-dialog",
      "aria-label": options.title });
    const form = stepForm({
      ...options,
      onDone: (result) => {
        answer = result;
        dialog.close();
      },
      onCancel: () => dialog.close(),
    });
    dialog.append(form);
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    focusFirstField(form);
  });
}

// Asks before something that cannot be undone; resolves to true when confirmed.
export function confirmInDialog({ title, message, confirmText, testid }) {
  const cancel = h("button", { type: "button", class: "quiet", text: "Cancel" });
  const dialog = h("dialog", { class: "export-dialog cloud-dialog",
    "data-testid": testid, "aria-label": title },
    h("form", { method: "dialog" },
      h("h2", { text: title }),
      h("p", { text: message }),
      h("div", { class: "export-actions" }, cancel,
        h("button", { type: "submit", class: "danger", value: "confirm",
          text: confirmText }))));

  return new Promise((resolve) => {
    cancel.addEventListener("click", () => dialog.close("cancel"));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "confirm");
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

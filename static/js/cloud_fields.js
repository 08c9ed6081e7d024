// Form controls built from the field descriptions a cloud provider publishes
// (name, label, type, required, placeholder, help text, options, autocomplete), so
// that no provider's form is written into the page.

import { h } from "./dom.js";

const INPUT_TYPES = new Set(["text", "email", "password", "url", "number", "tel"]);

// Secrets and codes are never worth remembering in the page; everything else is
// left to what the provider asked for.
const DEFAULT_AUTOCOMPLETE = { password: "current-password" };

export function buildFields(fields, idPrefix) {
  return (fields ?? []).map((field) => buildField(field, idPrefix));
}

export function buildField(field, idPrefix) {
  const id = `${idPrefix}-${field.name}`;
  const hintId = field.help_text ? `${id}-hint` : null;
  const control = buildControl(field, id, hintId);

  if (field.type === "checkbox") {
    return h("div", { class: "cloud-field cloud-check" },
      h("label", { for: id }, control, ` ${field.label || field.name}`),
      hint(field, hintId));
  }
  return h("div", { class: "cloud-field" },
    h("label", { for: id },
      field.label || field.name,
      field.required ? null : h("span", { class: "optional", text: " (optional)" })),
    control,
    hint(field, hintId));
}

function buildControl(field, id, hintId) {
  const common = { id, name: field.name, required: Boolean(field.required),
    "aria-describedby": hintId };

  if (field.type === "select" || field.options?.length) {
    return h("select", common, (field.options ?? []).map((option) =>
      h("option", { value: option.value, text: option.label || option.value })));
  }
  if (field.type === "checkbox") {
    return h("input", { ...common, type: "checkbox", value: "true" });
  }
  if (field.type === "textarea") {
    return h("textarea", { ...common, rows: "3", placeholder: field.placeholder,
      spellcheck: "false" });
  }
  const type = INPUT_TYPES.has(field.type) ? field.type : "text";
  return h("input", { ...common, type, placeholder: field.placeholder,
    autocomplete: field.autocomplete || DEFAULT_AUTOCOMPLETE[type] || "off",
    autocapitalize: "none", spellcheck: "false" });
}

function hint(field, hintId) {
  if (!hintId) return null;
  return h("p", { class: "field-hint", id: hintId, text: field.help_text });
}

// The values of the named fields as the strings the API takes. An empty optional
// field is sent empty rather than left out: "no password" is an answer too.
export function readFields(form, fields) {
  const inputs = {};
  for (const field of fields ?? []) {
    const control = form.elements.namedItem(field.name);
    if (!control) continue;
    inputs[field.name] = control.type === "checkbox"
      ? String(control.checked) : control.value;
  }
  return inputs;
}

// After a failed attempt the secrets are emptied, so a wrong one is typed anew
// rather than resent, and nothing secret stays in the page longer than needed.
export function clearSecrets(form) {
  for (const control of form.querySelectorAll("input[type=password]")) {
    control.value = "";
  }
}

export function secretFields(fields) {
  return (fields ?? []).filter((field) => field.type === "password");
}

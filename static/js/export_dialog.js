import { h } from "./dom.js";
import { EXPORT_FORMATS } from "./transfers.js";

const SIZES = [
  { value: "", label: "Full size" },
  { value: "3840", label: "Up to 3840 px" },
  { value: "2048", label: "Up to 2048 px" },
  { value: "1024", label: "Up to 1024 px" },
];

// Asks how to export; resolves to { format, quality, maxSide, keepMetadata }, or
// null when the person cancels.
export function askExportOptions(count) {
  const format = h("select", { id: "export-format", name: "format" },
    EXPORT_FORMATS.map((f) => h("option", { value: f.value, text: f.label })));
  const size = h("select", { id: "export-size", name: "size" },
    SIZES.map((s) => h("option", { value: s.value, text: s.label })));
  const quality = h("input", {
    id: "export-quality", name: "quality", type: "number", min: "1", max: "100",
    value: "90",
  });
  const keep = h("input", { id: "export-metadata", name: "metadata",
    type: "checkbox" });

  const cancel = h("button", { type: "button", class: "quiet", text: "Cancel" });
  const dialog = h("dialog", { class: "export-dialog", "data-testid": "export-dialog" },
    h("form", { method: "dialog" },
      h("h2", { text: count === 1 ? "Export 1 photo" : `Export ${count} photos` }),
      field("Format", format),
      field("Size", size),
      field("Quality", quality),
      h("label", { class: "export-check" }, keep,
        " Include camera and location details"),
      h("p", { class: "export-note",
        text: "Without it, only the date the photo was taken is kept." }),
      h("div", { class: "export-actions" }, cancel,
        h("button", { type: "submit", class: "primary", value: "export",
          text: "Export" }))));

  return new Promise((resolve) => {
    cancel.addEventListener("click", () => dialog.close("cancel"));
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (dialog.returnValue !== "export") {
        resolve(null);
        return;
      }
      resolve({
        format: format.value,
        quality: format.value === "png" ? 0 : Number(quality.value) || 0,
        maxSide: Number(size.value) || 0,
        keepMetadata: keep.checked,
      });
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function field(label, control) {
  return h("label", { class: "export-field", for: control.id },
    h("span", { text: label }), control);
}

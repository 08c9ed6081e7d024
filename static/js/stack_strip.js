import { call } from "./api.js";
import { h } from "./dom.js";
import { thumbnailUrl } from "./media.js";

const RELATION_LABELS = {
  raw_original: "RAW",
  jpeg_original: "JPEG",
  edited_version: "Edited",
  alternative: "",
  live_photo_still: "Photo",
  live_photo_video: "Motion",
};
const KIND_LABELS = {
  raw_jpeg: "RAW + JPEG", live_photo: "Live Photo", manual: "Stack",
};

// The members of a stack as a row of small pictures in the viewer; picking one
// shows it. `onPick(assetId)` is called with the member to show.
export function stackStrip(item, onPick) {
  const ids = item.stack?.member_asset_ids ?? [];
  const buttons = new Map();
  const strip = h("nav", { class: "stack-strip", "data-testid": "stack-strip",
    "aria-label": "Items in this stack" });
  const heading = h("p", { class: "stack-strip-title",
    text: `${KIND_LABELS[item.stack?.stack_kind] ?? "Stack"} · ${ids.length} items` });
  const row = h("div", { class: "stack-strip-row" });

  for (const [index, id] of ids.entries()) {
    const label = h("span", { class: "stack-strip-label" });
    const button = h("button", {
      type: "button", class: "stack-strip-item", "data-testid": "stack-member",
      "aria-label": `Item ${index + 1} of ${ids.length}`,
      onclick: () => {
        select(id);
        onPick(id);
      },
    }, h("img", { alt: "", src: thumbnailUrl(id, "small"), loading: "lazy" }), label);
    buttons.set(id, button);
    row.append(button);
  }
  strip.append(heading, row);
  labelRelations(item, buttons);

  function select(id) {
    for (const [memberId, button] of buttons) {
      if (memberId === id) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }
  select(item.asset.asset_id);
  return strip;
}

// The list item knows who is in the stack; what each member is comes from the
// stack itself.
async function labelRelations(item, buttons) {
  const id = encodeURIComponent(item.asset.asset_id);
  const answer = await call("GET", `/assets/${id}/stack`).catch(() => null);
  for (const member of answer?.stack?.members ?? []) {
    const label = RELATION_LABELS[member.relation] ?? "";
    const node = buttons.get(member.asset_id)?.querySelector(".stack-strip-label");
    if (node) node.textContent = label;
  }
}

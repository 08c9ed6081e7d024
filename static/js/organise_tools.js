import { addToAlbum } from "./album_picker.js";
import { h } from "./dom.js";
import { ratingControls } from "./ratings.js";

// What the viewer offers for organising the item it shows: the favourite heart,
// stars, and adding it to an album. `listed` is the list's own copy of the asset,
// kept in step so that going back to the item shows the change.
export function organiseTools(asset, listed) {
  const note = h("span", { class: "organise-note", role: "status" });
  const albumButton = h("button", {
    type: "button", class: "viewer-album-button", text: "Add to album…",
    "data-testid": "viewer-add-to-album",
    onclick: async () => {
      const name = await addToAlbum([asset.asset_id]);
      note.textContent = name ? `Added to ${name}.` : "";
    },
  });
  const controls = ratingControls(asset, listed);
  return h("div", { class: "viewer-organise" }, controls,
    h("div", {}, albumButton, " ", note));
}

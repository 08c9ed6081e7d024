import { call, describeError } from "./api.js";
import { h } from "./dom.js";
import { plural } from "./format.js";

// Asks which album to add to, or the name of a new one; adds the given assets and
// resolves to the album's name, or null when the person cancels.
export function addToAlbum(assetIds) {
  const list = h("div", { class: "album-choices", role: "radiogroup",
    "aria-label": "Albums" });
  const name = h("input", { id: "new-album-name", name: "album_name",
    placeholder: "New album name", autocomplete: "off" });
  const status = h("p", { class: "form-status", role: "status" });
  const submit = h("button", { type: "submit", class: "primary", text: "Add" });
  const cancel = h("button", { type: "button", class: "quiet", text: "Cancel" });
  const form = h("form", {},
    h("h2", { text: `Add ${plural(assetIds.length, "item")} to an album` }),
    list,
    h("label", { class: "album-new", for: "new-album-name" },
      h("span", { text: "Or a new album" }), name),
    status,
    h("div", { class: "export-actions" }, cancel, submit));
  const dialog = h("dialog", { class: "export-dialog album-dialog",
    "data-testid": "album-dialog" }, form);

  loadChoices(list, status);
  name.addEventListener("input", () => {
    if (name.value.trim()) list.querySelectorAll("input").forEach((r) => {
      r.checked = false;
    });
  });

  return new Promise((resolve) => {
    let added = null;
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(added);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      status.textContent = "Adding…";
      try {
        added = await addAll(form, name.value.trim(), assetIds);
        dialog.close();
      } catch (error) {
        status.textContent = describeError(error);
      } finally {
        submit.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

async function loadChoices(list, status) {
  try {
    const answer = await call("GET", "/albums?limit=100");
    const albums = answer.albums ?? [];
    list.replaceChildren(...albums.map((album, index) => h("label",
      { class: "album-choice" },
      h("input", { type: "radio", name: "album", value: String(album.album_id),
        checked: index === 0 }),
      h("span", { text: album.album_name }),
      h("span", { class: "album-choice-count",
        text: plural(album.asset_count ?? 0, "item") }))));
    if (!albums.length) list.append(h("p", { class: "hint",
      text: "No albums yet: name a new one below." }));
  } catch (error) {
    status.textContent = describeError(error);
  }
}

async function addAll(form, newName, assetIds) {
  let albumId;
  let albumName;
  if (newName) {
    const album = await call("POST", "/albums", { album_name: newName });
    albumId = album.album_id;
    albumName = album.album_name;
  } else {
    const picked = form.querySelector("input[name=album]:checked");
    if (!picked) throw new Error("Choose an album or name a new one.");
    albumId = picked.value;
    albumName = picked.nextElementSibling.textContent;
  }
  for (const assetId of assetIds) {
    await call("POST", `/albums/${albumId}/assets/${encodeURIComponent(assetId)}`, {});
  }
  return albumName;
}

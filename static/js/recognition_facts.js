import { call, describeError } from "./api.js";
import { h } from "./dom.js";

// What recognition found in the photo the viewer shows: the text read in it, its
// people, its labels and, in nature albums, its species. Every part is optional.
export function recognitionFacts(asset) {
  const parts = [
    textPart(asset.ocr_result),
    peoplePart(asset.face_result),
    labelsPart(asset.tags ?? []),
    speciesPart(asset.species_predictions ?? []),
  ].filter(Boolean);
  if (!parts.length) return null;
  return h("div", { class: "recognition", "data-testid": "viewer-recognition" },
    parts);
}

function section(title, testid, ...children) {
  return h("section", { class: "recognition-part", "data-testid": testid },
    h("h3", { text: title }), ...children);
}

function textPart(ocr) {
  const lines = (ocr?.text_items ?? []).map((item) => item.text_content);
  if (!lines.length) return null;
  return section("Text in this photo", "viewer-ocr",
    h("blockquote", { class: "ocr-text" },
      lines.map((line) => h("p", { text: line }))));
}

function peoplePart(faces) {
  const found = faces?.faces ?? [];
  if (!found.length) return null;
  return section(found.length === 1 ? "Person" : "People", "viewer-people",
    h("ul", { class: "chips" }, found.map((face) => h("li", {},
      face.cluster_id
        ? h("a", { href: `#/people/${face.cluster_id}`,
          text: face.cluster_name || "Unnamed person" })
        : h("span", { text: "Not grouped yet" })))));
}

function labelsPart(tags) {
  if (!tags.length) return null;
  return section("Seen in it", "viewer-labels", h("ul", { class: "chips" },
    tags.map((tag) => h("li", { text: tag.tag_name,
      title: tag.confidence ? `${Math.round(tag.confidence * 100)}%` : "" }))));
}

function speciesPart(predictions) {
  if (!predictions.length) return null;
  const about = h("div", { class: "species-about", role: "status" });
  return section("Species", "viewer-species",
    h("ul", { class: "chips" }, predictions.map((p) => h("li", {},
      h("button", { type: "button", class: "quiet",
        text: `${p.label} (${Math.round(p.score * 100)}%)`,
        onclick: () => showReference(about, p) })))),
    about);
}

// Reference facts come from iNaturalist through the server, which keeps them.
async function showReference(box, prediction) {
  box.textContent = "Looking it up…";
  const query = new URLSearchParams(prediction.scientific_name
    ? { scientific_name: prediction.scientific_name }
    : { common_name: prediction.label });
  try {
    const ref = await call("GET", `/species/reference?${query}`);
    box.replaceChildren(
      h("p", { text: `${ref.common_name} (${ref.scientific_name})` }),
      ref.wikipedia_summary ? h("p", { text: ref.wikipedia_summary }) : null,
      h("a", { href: ref.reference_url, target: "_blank", rel: "noreferrer",
        text: "On iNaturalist" }));
  } catch (error) {
    box.textContent = describeError(error);
  }
}

// The button of a nature album that asks for species of the photos without any.
export function speciesButton(album, status) {
  return h("button", { type: "button", text: "Identify species",
    "data-testid": "album-species", onclick: async () => {
      try {
        const done = await call("POST", `/albums/${album.album_id}/bioclip/rebuild`);
        status.textContent = done.message;
      } catch (error) {
        status.textContent = describeError(error);
      }
    } });
}

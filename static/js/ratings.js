import { call, describeError } from "./api.js";
import { h } from "./dom.js";

const STARS = 5;

// A favourite heart and five stars for one asset, saved as soon as they are
// clicked. Clicking the star that is already the rating clears it. The asset
// object (and `listed`, another copy of it) is updated in place, and the
// timeline's tile for it follows.
export function ratingControls(asset, listed = null) {
  const status = h("span", { class: "rating-status", role: "status" });
  const heart = h("button", {
    type: "button", class: "heart-button", "data-testid": "like-button",
    onclick: () => save({ liked: !asset.liked }),
  });
  const stars = Array.from({ length: STARS }, (_, index) => h("button", {
    type: "button", class: "star-button", text: "★",
    "aria-label": `${index + 1} star${index ? "s" : ""}`,
    "data-testid": `star-${index + 1}`,
    onclick: () => save({ rating: asset.rating === index + 1 ? 0 : index + 1 }),
  }));

  function paint() {
    heart.textContent = asset.liked ? "♥" : "♡";
    heart.setAttribute("aria-pressed", String(Boolean(asset.liked)));
    heart.setAttribute("aria-label", asset.liked ? "Remove from favourites"
      : "Add to favourites");
    for (const [index, star] of stars.entries()) {
      star.setAttribute("aria-pressed", String(index < (asset.rating ?? 0)));
    }
  }

  async function save(change) {
    const before = { liked: asset.liked, rating: asset.rating };
    Object.assign(asset, change);
    paint();
    status.textContent = "";
    const id = encodeURIComponent(asset.asset_id);
    try {
      if ("liked" in change) {
        await call("PUT", `/assets/${id}/like`, { liked: change.liked });
      } else {
        await call("PUT", `/assets/${id}/rating`, { rating: change.rating });
      }
      if (listed && listed !== asset) {
        Object.assign(listed, { liked: asset.liked, rating: asset.rating });
      }
      markTiles(asset);
    } catch (error) {
      Object.assign(asset, before);
      paint();
      status.textContent = describeError(error);
    }
  }

  paint();
  return h("div", { class: "rating-controls", "data-testid": "rating-controls" },
    heart, h("span", { class: "stars", role: "group", "aria-label": "Rating" },
      stars), status);
}

// Tiles keep their item; the heart on them is redrawn without waiting for the
// next refresh of the list.
function markTiles(asset) {
  const tiles = document.querySelectorAll(
    `.tile[data-asset-id="${CSS.escape(asset.asset_id)}"]`);
  for (const tile of tiles) {
    if (tile.item?.asset) Object.assign(tile.item.asset,
      { liked: asset.liked, rating: asset.rating });
    tile.querySelector(".badge-liked")?.remove();
    if (asset.liked) tile.append(likedBadge());
  }
}

export function likedBadge() {
  return h("span", { class: "badge badge-liked", title: "Favourite",
    "data-testid": "tile-liked", text: "♥" });
}

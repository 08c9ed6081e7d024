// Justified rows, as in most photo apps: each row fills the width and its height
// follows from the aspect ratios of its tiles. Everything is computed from the
// width/height the server sends, before any image loads, so nothing jumps.

export const GAP = 4;

// Panoramas and slivers would otherwise take a whole row or vanish into a line.
const MIN_ASPECT = 0.5;
const MAX_ASPECT = 3;

export function aspectOf(asset) {
  const ratio = asset?.width > 0 && asset?.height > 0 ? asset.width / asset.height : 1;
  return Math.min(MAX_ASPECT, Math.max(MIN_ASPECT, ratio));
}

export function targetRowHeight(width) {
  if (width < 520) return 110;
  if (width < 1000) return 160;
  return 200;
}

// sections: [{key, start, aspects}] in display order, start being the index of the
// section's first item. Returns blocks sorted by top, headers and rows, starting at
// `top` so that a layout can be continued where an earlier one stopped.
export function layoutSections(sections, width,
  { headerHeight, target, gap = GAP, top: start = 0 }) {
  const blocks = [];
  let top = start;

  for (const section of sections) {
    blocks.push({ kind: "header", top, height: headerHeight, section });
    top += headerHeight;

    for (const row of packRows(section.aspects, width, target, gap)) {
      const tiles = row.tiles.map((tile) => ({
        ...tile, index: section.start + tile.offset,
      }));
      blocks.push({ kind: "row", top, height: row.height, tiles });
      top += row.height + gap;
    }
  }

  return { blocks, height: top };
}

export function packRows(aspects, width, target, gap = GAP) {
  const rows = [];
  let start = 0;

  while (start < aspects.length) {
    const end = rowEnd(aspects, start, width, target, gap);
    const isLast = end === aspects.length;
    rows.push(placeRow(aspects.slice(start, end), start, isLast, width, target, gap));
    start = end;
  }
  return rows;
}

function rowHeight(aspectSum, count, width, gap) {
  return (width - gap * (count - 1)) / aspectSum;
}

function rowEnd(aspects, start, width, target, gap) {
  let sum = 0;

  for (let i = start; i < aspects.length; i += 1) {
    sum += aspects[i];
    const count = i - start + 1;
    const height = rowHeight(sum, count, width, gap);
    if (height > target) continue;
    if (count === 1) return i + 1;

    // The tile that filled the row may have squashed it; leaving it for the next
    // row is better when the row without it stands closer to the target height.
    const without = rowHeight(sum - aspects[i], count - 1, width, gap);
    return Math.abs(without - target) < Math.abs(height - target) ? i : i + 1;
  }
  return aspects.length;
}

function placeRow(slice, start, isLast, width, target, gap) {
  const sum = slice.reduce((total, aspect) => total + aspect, 0);
  const natural = rowHeight(sum, slice.length, width, gap);

  // The last row of a day rarely has enough tiles to fill the width; stretching it
  // would blow one photo up, so it keeps the target height and stays left-aligned.
  const fills = !isLast || natural <= target * 1.5;
  const exactHeight = fills ? natural : target;
  const height = Math.round(exactHeight);

  const tiles = [];
  let exact = 0;
  for (let i = 0; i < slice.length; i += 1) {
    const left = Math.round(exact);
    exact += slice[i] * exactHeight + gap;
    const right = fills && i === slice.length - 1 ? width : Math.round(exact - gap);
    tiles.push({ offset: start + i, left, width: right - left, height });
  }
  return { height, tiles };
}

import { call } from "./api.js";
import { viewerTimezone } from "./captime.js";

// The server answers at most 100 items per request.
export const PAGE_SIZE = 100;

export function fetchPage(offset, limit = PAGE_SIZE) {
  return call("POST", "/assets/list", {
    filter: {},
    sort_by: "date_captured",
    stack_mode: "collapsed",
    viewer_timezone: viewerTimezone(),
    pagination: { limit, offset },
  });
}

// Several pages at once, a few requests at a time, in order.
export async function fetchPages(count, parallel = 4) {
  const offsets = [];
  for (let offset = 0; offset < count; offset += PAGE_SIZE) offsets.push(offset);

  const pages = new Array(offsets.length);
  let next = 0;
  async function worker() {
    while (next < offsets.length) {
      const slot = next;
      next += 1;
      pages[slot] = await fetchPage(offsets[slot]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, offsets.length) }, worker));
  return pages;
}

// Items can shift between two page requests while an import adds photos; an item
// seen twice is kept once, where it first appeared.
export function appendUnique(items, seen, incoming) {
  for (const item of incoming) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    items.push(item);
  }
}

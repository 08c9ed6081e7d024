"""Reading the virtualised timeline from a test: only the rows near the viewport
exist in the DOM, so the whole grid is read by scrolling through it."""

from __future__ import annotations

import time

# Half a screen at a time from the top; with a target id the sweep stops as soon as
# that tile exists and centres it.
SWEEP_GRID = """async (target) => {
  const scroller = document.querySelector(".timeline-scroller");
  const frame = () => new Promise((done) => requestAnimationFrame(() =>
    requestAnimationFrame(done)));
  const seen = {};
  scroller.scrollTop = 0;
  for (;;) {
    await frame();
    for (const tile of document.querySelectorAll(".tile[data-asset-id]")) {
      seen[tile.dataset.assetId] = {
        duration: tile.querySelector(".badge-duration")?.textContent ?? null,
        mark: tile.querySelector(".mark")?.dataset.testid ?? null,
      };
      if (tile.dataset.assetId === target) {
        tile.scrollIntoView({ block: "center" });
        await frame();
        return seen;
      }
    }
    const bottom = scroller.scrollHeight - scroller.clientHeight;
    if (scroller.scrollTop >= bottom - 1) break;
    const step = scroller.clientHeight / 2;
    scroller.scrollTop = Math.min(bottom, scroller.scrollTop + step);
  }
  if (!target) scroller.scrollTop = 0;
  return seen;
}"""


def listed_items(server) -> list[dict]:
    """What the timeline should show: the collapsed browse list, all pages."""
    items, offset = [], 0
    while True:
        answer = server.post("/assets/list", {
            "filter": {}, "sort_by": "date_captured", "stack_mode": "collapsed",
            "pagination": {"limit": 100, "offset": offset}})
        assert answer.status_code == 200, answer.text
        page = answer.json()["items"]
        items += page
        if len(page) < 100:
            return items
        offset += 100


def sweep_until(page, wanted: set[str], timeout_s: float = 30) -> dict:
    """The tiles of the whole grid, once they are the wanted ones or time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = page.evaluate(SWEEP_GRID, None)
        if set(seen) == wanted or time.monotonic() > deadline:
            return seen
        page.wait_for_timeout(1_000)


def asset_named(items: list[dict], filename: str) -> dict:
    return next(item["asset"] for item in items
                if item["asset"]["original_filename"] == filename)


def open_file(page, filename: str, items: list[dict]) -> None:
    asset = asset_named(items, filename)
    seen = page.evaluate(SWEEP_GRID, asset["asset_id"])
    assert asset["asset_id"] in seen, f"{filename} never appeared in the grid"
    page.locator(f'.tile[data-asset-id="{asset["asset_id"]}"]').click()

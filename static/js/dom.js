// Builds elements without ever parsing markup, so text from the library (file names,
// camera models, error messages) can never turn into HTML.
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);

  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }

  element.append(...children.flat().filter((child) => child !== null
    && child !== undefined && child !== false));
  return element;
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

export function focusFirst(container) {
  const target = container.querySelector(
    "[autofocus], input:not([type=hidden]), button, [href], [tabindex]");
  if (target) target.focus();
}

// Puts `children` into `parent` in this order, moving only those out of place:
// moving a node takes the focus away from it, and lists refreshed under a
// person's hands must not do that.
export function keepOrder(parent, children) {
  let expected = parent.firstChild;
  for (const child of children) {
    if (child !== expected) parent.insertBefore(child, expected);
    expected = child.nextSibling;
  }
}

// Shows one item per entry in `parent`, updated in place: `items` maps each
// entry's key to its item ({ element, ... }), `create(key)` makes (and records)
// a missing one, `fill(item, entry)` brings it up to date. Items whose entry is
// gone are removed.
export function syncItems(parent, items, entries, { key, create, fill }) {
  const shown = entries.map((entry) => {
    const item = items.get(key(entry)) ?? create(key(entry));
    fill(item, entry);
    return item;
  });
  for (const [id, item] of items) {
    if (shown.includes(item)) continue;
    item.element.remove();
    items.delete(id);
  }
  keepOrder(parent, shown.map((item) => item.element));
}

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

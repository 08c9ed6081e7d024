import DOMPurify from "../vendor/dompurify/purify.es.js";
import { marked } from "../vendor/marked/marked.esm.js";
import { h } from "./dom.js";

// Language models answer in Markdown. The answer may repeat text from the library
// (a file name, words read in a photo), so of the rendered HTML only structure and
// emphasis are kept: no links, images, styles or attributes of any kind. A link's
// words stay as plain text; an image disappears.
const KEPT_TAGS = ["p", "br", "strong", "em", "del", "code", "pre", "blockquote",
  "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
  "table", "thead", "tbody", "tr", "th", "td"];

export function renderMarkdown(text) {
  const html = marked.parse(text, { async: false, gfm: true, breaks: true });
  return DOMPurify.sanitize(html, { ALLOWED_TAGS: KEPT_TAGS, ALLOWED_ATTR: [],
    RETURN_DOM_FRAGMENT: true });
}

// Our own help texts mark commands with backticks; they are shown as code. Every
// odd piece of the text between backticks is a command.
export function withCode(text) {
  return text.split("`").map((piece, index) => (index % 2
    ? h("code", { text: piece }) : piece)).filter((piece) => piece !== "");
}

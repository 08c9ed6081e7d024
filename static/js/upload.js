import { API_BASE, ApiError, describeError, refreshSession } from "./api.js";
import { h } from "./dom.js";
import { formatBytes, plural } from "./format.js";
import { accessToken } from "./session.js";

// Two at a time keeps the connection busy without starving thumbnail requests.
const PARALLEL_UPLOADS = 2;

// The upload list in the corner: one row per file with its own progress.
export class Uploader {
  constructor(panel, { onFinished }) {
    this.panel = panel;
    this.onFinished = onFinished;
    this.entries = [];
    this.active = 0;
    this.buildDom();
  }

  buildDom() {
    this.heading = h("h2", { class: "uploads-title" });
    this.closeButton = h("button", {
      type: "button", class: "uploads-close", "aria-label": "Hide the upload list",
      text: "✕", onclick: () => this.dismiss(),
    });
    this.list = h("ul", { class: "uploads-list" });
    this.panel.append(
      h("header", { class: "uploads-header" }, this.heading, this.closeButton),
      this.list);
  }

  add(files) {
    const fresh = [...files].filter((file) => file.size > 0 || file.type);
    if (!fresh.length) return;

    for (const file of fresh) {
      const entry = { file, state: "waiting", row: uploadRow(file) };
      this.entries.push(entry);
      this.list.append(entry.row.element);
    }
    this.panel.hidden = false;
    this.updateHeading();
    this.pump();
  }

  pump() {
    while (this.active < PARALLEL_UPLOADS) {
      const entry = this.entries.find((candidate) => candidate.state === "waiting");
      if (!entry) break;
      this.active += 1;
      this.run(entry).finally(() => {
        this.active -= 1;
        this.updateHeading();
        this.pump();
        if (!this.active && !this.pending()) this.onFinished?.();
      });
    }
  }

  async run(entry) {
    entry.state = "uploading";
    entry.row.show("Uploading", 0);
    try {
      await upload(entry.file, (fraction) => {
        entry.row.show(`Uploading ${Math.round(fraction * 100)}%`, fraction);
      });
      entry.state = "done";
      entry.row.show("Uploaded, now being processed", 1);
      entry.row.element.classList.add("is-done");
    } catch (error) {
      entry.state = "failed";
      entry.row.fail(describeError(error));
    }
  }

  pending() {
    return this.entries.some((entry) => entry.state === "waiting"
      || entry.state === "uploading");
  }

  updateHeading() {
    const total = this.entries.length;
    const finished = this.entries.filter((entry) => entry.state === "done").length;
    const failed = this.entries.filter((entry) => entry.state === "failed").length;

    if (this.pending()) {
      this.heading.textContent = `Uploading ${finished + failed + 1} of ${total}`;
    } else if (failed) {
      this.heading.textContent =
        `${plural(finished, "file")} uploaded, ${failed} failed`;
    } else {
      this.heading.textContent = `${plural(finished, "file")} uploaded`;
    }
    this.closeButton.disabled = this.pending();
  }

  dismiss() {
    if (this.pending()) return;
    this.entries = [];
    this.list.replaceChildren();
    this.panel.hidden = true;
  }
}

function uploadRow(file) {
  const status = h("span", { class: "upload-status", text: "Waiting" });
  const bar = h("progress", { max: "1", value: "0" });
  const element = h("li", { class: "upload", "data-testid": "upload-row" },
    h("span", { class: "upload-name", text: file.name, title: file.name }),
    h("span", { class: "upload-size", text: formatBytes(file.size) }),
    bar, status);

  return {
    element,
    show(text, fraction) {
      status.textContent = text;
      bar.value = fraction;
    },
    fail(text) {
      element.classList.add("is-failed");
      status.textContent = `Failed: ${text}`;
      bar.value = 0;
    },
  };
}

async function upload(file, onProgress) {
  let answer = await sendFile(file, onProgress);
  if (answer.status === 401 && (await refreshSession())) {
    answer = await sendFile(file, onProgress);
  }
  if (answer.status < 200 || answer.status >= 300) {
    throw new ApiError(answer.status, answer.body);
  }
  return answer.body;
}

// fetch() cannot report upload progress; XMLHttpRequest can.
function sendFile(file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `${API_BASE}/assets`);
    const token = accessToken();
    if (token) request.setRequestHeader("Authorization", `Bearer ${token}`);

    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => resolve({
      status: request.status,
      body: parseBody(request.responseText),
    }));
    request.addEventListener("error", () => reject(new ApiError(0, {})));

    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  });
}

function parseBody(text) {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

// Files dropped anywhere on the page are uploaded; the overlay says so while
// something is dragged over it.
export function acceptDrops(overlay, onFiles) {
  let depth = 0;
  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])]
    .includes("Files");

  window.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) event.preventDefault();
  });
  window.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    // TODO: a dropped folder arrives as one empty entry; walking it needs the
    // webkitGetAsEntry tree, and adding it on the Folders page is the better road.
    onFiles(event.dataTransfer.files);
  });
}

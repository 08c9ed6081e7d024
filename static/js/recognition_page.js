import { call, describeError } from "./api.js";
import { clear, h } from "./dom.js";

const TASKS = [
  ["semantic", "semantic_enabled", "Search by meaning",
    "Labels and a vector per photo, so that words find what photos show."],
  ["ocr", "ocr_enabled", "Text in photos", "Reads printed text; it can be searched."],
  ["face", "face_enabled", "Faces and people", "Finds faces and groups them by person."],
  ["bioclip", "bioclip_enabled", "Species", "Animals in the photos of nature albums."],
];
const REFRESH_MS = 3_000;

// Recognition (administrators): which tasks run, how far indexing has come, the
// image-text model in use. Progress refreshes itself while the page is open.
export class RecognitionPage {
  constructor(root) {
    this.root = root;
    this.timer = 0;
  }

  async show() {
    this.root.hidden = false;
    this.status = h("p", { class: "form-status", role: "status" });
    this.tasks = h("div", { class: "recognition-tasks",
      "data-testid": "recognition-tasks" });
    this.models = h("ul", { class: "recognition-models",
      "data-testid": "recognition-models" });
    clear(this.root).append(h("div", { class: "page page-wide" },
      h("header", { class: "page-header" }, h("h1", { text: "Recognition" }),
        h("p", { class: "page-lead", text: "Everything runs on this computer; no"
          + " photo leaves it." })),
      this.status, this.tasks,
      h("h2", { text: "Model for search by meaning" }), this.models));
    await this.refresh();
  }

  hide() {
    this.root.hidden = true;
    clearTimeout(this.timer);
  }

  async refresh() {
    clearTimeout(this.timer);
    try {
      const [settings, stats, models] = await Promise.all([
        call("GET", "/settings/system"), call("GET", "/assets/indexing/stats"),
        call("GET", "/ml/models")]);
      this.renderTasks(settings.ml, stats);
      this.renderModels(models);
      const busy = Object.values(stats.tasks).some((t) => t.queued_jobs > 0);
      if (busy && !this.root.hidden) {
        this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
      }
    } catch (error) {
      this.status.textContent = describeError(error);
    }
  }

  renderTasks(toggles, stats) {
    this.tasks.replaceChildren(...TASKS.map(([task, toggle, title, help]) => {
      const figures = stats.tasks[task] ?? {};
      const total = figures.total_count ?? 0;
      const done = figures.indexed_count ?? 0;
      const box = h("input", { type: "checkbox", checked: Boolean(toggles[toggle]),
        "data-testid": `toggle-${task}`,
        onchange: () => this.change({ [toggle]: box.checked }) });
      return h("section", { class: "recognition-task", "data-testid":
        `task-${task}` },
      h("label", {}, box, h("strong", { text: title })),
      h("p", { class: "hint", text: figures.available === false
        ? `${help} Its model is missing.` : help }),
      h("progress", { max: Math.max(total, 1), value: done }),
      h("p", { class: "figures", text: `${done} of ${total} photos`
        + (figures.queued_jobs ? `, ${figures.queued_jobs} waiting` : "") }),
      task === "bioclip" ? null : h("button", { type: "button",
        text: "Index missing photos", onclick: () => this.rebuild(task) }));
    }));
  }

  renderModels(found) {
    this.models.replaceChildren(...found.models.map((model) => h("li", {},
      h("span", { text: model.name === "default"
        ? "Built in (labels and text, MiniLM)" : `${model.name} (${model.dim}-d)` }),
      model.active ? h("strong", { text: " · in use" })
        : h("button", { type: "button", text: "Use", onclick: () =>
          this.act(() => call("POST",
            `/ml/models/${encodeURIComponent(model.name)}/activate`),
          "Switched; photos are being indexed again.") }))));
  }

  change(ml) {
    return this.act(() => call("PATCH", "/settings/system", { ml }), "Saved.");
  }

  rebuild(task) {
    return this.act(() => call("POST", "/assets/indexing/rebuild", { tasks: [task] }),
      "Queued.");
  }

  async act(work, done) {
    try {
      const answer = await work();
      this.status.textContent = answer?.status === "skipped" ? answer.message : done;
    } catch (error) {
      this.status.textContent = describeError(error);
    }
    await this.refresh();
  }
}

import { API_BASE, call, describeError } from "./api.js";
import { AssetGrid } from "./asset_grid.js";
import { clear, h } from "./dom.js";
import { plural } from "./format.js";
import { mediaUrl } from "./media.js";

// People: the faces the library recognised, grouped by person. Each person has a
// page with their photos, where they can be named (a named person is kept when the
// groups are rebuilt). The address is #/people or #/people/<id>.
export class PeoplePage {
  constructor(root, { shell }) {
    this.root = root;
    this.shell = shell;
    this.grid = null;
  }

  show() {
    this.root.hidden = false;
    // The grid adds a viewer to the page: made on the first visit only.
    this.grid ??= new AssetGrid({ testid: "person-assets", shell: this.shell,
      empty: "No photos of this person." });
    const id = window.location.hash.replace(/^#\/?people\/?/, "").split("/")[0];
    if (/^\d+$/.test(id)) return this.showPerson(Number(id));
    return this.showList();
  }

  hide() {
    this.root.hidden = true;
    this.grid?.viewer.close();
  }

  async showList() {
    const list = h("ul", { class: "people-list", "data-testid": "people-list" });
    const status = h("p", { class: "form-status", role: "status" });
    const rebuild = h("button", { type: "button", text: "Group faces again",
      "data-testid": "people-rebuild", onclick: () => this.rebuild(rebuild, status) });
    clear(this.root).append(h("div", { class: "page page-wide" },
      h("header", { class: "page-header" }, h("h1", { text: "People" }), rebuild),
      status, list));
    try {
      const found = await call("GET", "/people?limit=100");
      if (!found.people.length) {
        status.textContent = "No people yet. Faces are grouped once a few photos"
          + " of the same person are in the library.";
      }
      list.append(...found.people.map((person) => personCard(person)));
    } catch (error) {
      status.textContent = `The people could not be loaded. ${describeError(error)}`;
    }
  }

  async rebuild(button, status) {
    button.disabled = true;
    status.textContent = "Grouping faces…";
    try {
      const done = await call("POST", "/people/rebuild");
      status.textContent = `${plural(done.clusters_total, "person")} from `
        + `${plural(done.candidate_faces, "face")}.`;
      await this.showList();
    } catch (error) {
      status.textContent = `Grouping failed. ${describeError(error)}`;
    } finally {
      button.disabled = false;
    }
  }

  async showPerson(id) {
    const title = h("h1", { "data-testid": "person-name" });
    const count = h("p", { class: "page-lead" });
    const name = h("input", { name: "name", "aria-label": "Name",
      placeholder: "Who is this?", "data-testid": "person-name-input" });
    const status = h("p", { class: "form-status", role: "status" });
    const form = h("form", { class: "inline-form", onsubmit: async (event) => {
      event.preventDefault();
      try {
        const person = await call("PATCH", `/people/${id}`,
          { name: name.value.trim() });
        title.textContent = person.name;
        status.textContent = "Saved.";
      } catch (error) {
        status.textContent = describeError(error);
      }
    } }, name, h("button", { type: "submit", text: "Name" }));
    clear(this.root).append(h("div", { class: "page page-wide" },
      h("a", { class: "back-link", href: "#/people", text: "‹ People" }),
      h("header", { class: "page-header" }, h("div", {}, title, count), form),
      status, this.grid.element));
    try {
      const [person, assets] = await Promise.all([
        call("GET", `/people/${id}`),
        call("POST", `/people/${id}/assets/list`, {
          stack_mode: "expanded", pagination: { limit: 100, offset: 0 } })]);
      title.textContent = person.name || "Unnamed person";
      name.value = person.name ?? "";
      count.textContent = plural(person.asset_count, "photo");
      this.grid.show(assets.items ?? []);
    } catch (error) {
      title.textContent = "Person";
      this.grid.showError(`This person could not be loaded. ${describeError(error)}`);
    }
  }
}

// A person's cover is read like a thumbnail, with the same media token.
function coverUrl(personId) {
  const query = new URL(mediaUrl("cover", "cover"), window.location.origin).search;
  return `${API_BASE}/people/${personId}/cover${query}`;
}

function personCard(person) {
  const img = h("img", { alt: "", loading: "lazy" });
  if (person.cover_face_image_path) img.src = coverUrl(person.person_id);
  return h("li", { class: "person-card", "data-testid": "person-card" },
    h("a", { href: `#/people/${person.person_id}` }, img,
      h("span", { class: "person-name", text: person.name || "Unnamed person" }),
      h("span", { class: "person-count", text: plural(person.asset_count,
        "photo") })));
}

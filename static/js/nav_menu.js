// The "More" button in the top bar: the sections that do not fit as links sit in
// a list it opens. A plain disclosure rather than an ARIA menu, so the list is
// walked with Tab like any other links and needs no arrow-key handling.
export class MoreMenu {
  constructor(root) {
    this.root = root;
    this.button = root.querySelector(".nav-more-button");
    this.list = root.querySelector(".nav-more-list");
    this.current = root.querySelector(".nav-more-current");

    this.button.addEventListener("click", () => this.toggle());
    this.list.addEventListener("click", (event) => {
      if (event.target.closest("a")) this.close();
    });
    root.addEventListener("keydown", (event) => this.onKey(event));
    // Leaving the menu, by pointer or by Tab, puts it away.
    root.addEventListener("focusout", (event) => {
      if (!root.contains(event.relatedTarget)) this.close();
    });
    document.addEventListener("pointerdown", (event) => {
      if (!root.contains(event.target)) this.close();
    });
  }

  get isOpen() {
    return this.button.getAttribute("aria-expanded") === "true";
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  open() {
    this.button.setAttribute("aria-expanded", "true");
    this.list.hidden = false;
  }

  close({ focusButton = false } = {}) {
    if (!this.isOpen) return;

    this.button.setAttribute("aria-expanded", "false");
    this.list.hidden = true;
    if (focusButton) this.button.focus();
  }

  onKey(event) {
    if (event.key !== "Escape" || !this.isOpen) return;

    event.stopPropagation();
    this.close({ focusButton: true });
  }

  // Called on every change of page, which also puts the list away. Names the
  // section on the button when it is one of the listed ones, so the bar still
  // says where the reader is.
  showCurrent(route) {
    this.close();
    const link = this.list.querySelector(`[data-route="${route}"]`);
    this.current.hidden = !link;
    this.current.textContent = link ? link.textContent : "";
    this.button.classList.toggle("is-current", Boolean(link));
  }

  showUser(name) {
    this.root.querySelector(".nav-more-user").textContent = `Signed in as ${name}`;
  }
}

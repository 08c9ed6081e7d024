import { h } from "./dom.js";

// A run that wants to change the library (make an album, add to one, like photos)
// stops before doing it: a message's `action` says what it would do, under an id.
// The answer goes back as `targets: {<action id>: {approved}}` on the resume
// request, which carries the change out (or not) and lets the run go on.

// The change a message asks to confirm, or null.
export function confirmationOf(message) {
  const action = message?.action;
  if (action?.type !== "confirmation_required" || !action.action_id) return null;
  return action;
}

// What the change would do, in a sentence: the server's own words when it gave
// them.
export function describeChange(action) {
  if (action.summary) return `${action.summary.replace(/[.]$/, "")}.`;
  return `The assistant wants to use ${action.tool ?? "a tool"} that changes your`
    + " library.";
}

// The card asking the person. onAnswer(approved) resolves to whether the answer
// reached the server; until it has, the buttons stay disabled, and if it has not
// they come back for another try.
export function confirmationCard(action, { onAnswer }) {
  const outcome = h("p", { class: "confirm-outcome", role: "status",
    "data-testid": "confirmation-outcome" });
  const confirm = h("button", { type: "button", class: "primary", text: "Confirm",
    "data-testid": "confirm-change", onclick: () => answer(true) });
  const cancel = h("button", { type: "button", text: "Cancel",
    "data-testid": "cancel-change", onclick: () => answer(false) });
  const buttons = h("div", { class: "confirm-actions" }, confirm, cancel);
  const element = h("section", { class: "confirm-card", role: "group",
    "aria-labelledby": `confirm-${action.action_id}`,
    "data-testid": "assistant-confirmation", dataset: { actionId: action.action_id } },
  h("h3", { id: `confirm-${action.action_id}`, text: "Confirm this change" }),
  h("p", { class: "confirm-text", "data-testid": "confirmation-text",
    text: describeChange(action) }),
  albumDescription(action),
  buttons, outcome);

  async function answer(approved) {
    confirm.disabled = true;
    cancel.disabled = true;
    outcome.textContent = approved ? "Confirmed." : "Cancelled: nothing was changed.";
    if (await onAnswer(approved)) {
      buttons.remove();
      return;
    }
    outcome.textContent = "The answer did not reach the server. Try again.";
    confirm.disabled = false;
    cancel.disabled = false;
  }

  // Asking something new leaves the change unanswered; the server drops it.
  function dismiss() {
    if (!buttons.isConnected) return;
    buttons.remove();
    outcome.textContent = "Not answered: nothing was changed.";
  }

  function focus() {
    confirm.focus();
  }

  return { element, dismiss, focus };
}

// The album's description, when the change makes one with a description.
function albumDescription(action) {
  const text = action.album_description ?? action.description;
  if (typeof text !== "string" || !text.trim()) return null;
  return h("p", { class: "confirm-description",
    "data-testid": "confirmation-description", text: `Description: ${text.trim()}` });
}

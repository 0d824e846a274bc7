// What the page says in passing: the tooltip beside the pointer, and the error toast (fixed
// over the page, so it never moves the workspace; it fades after 12 s).

/** The tooltip element #tooltip: show(text, pointerEvent) beside the pointer, hide(). */
export const tooltip = {
  node: document.getElementById("tooltip"),
  show(text, e) {
    this.node.textContent = text;
    this.node.hidden = false;
    this.node.style.left = `${e.clientX + 12}px`;
    this.node.style.top = `${e.clientY + 12}px`;
  },
  hide() {
    this.node.hidden = true;
  },
};

let errorTimer = null;
/** Show `message` in the error toast (#error); "" hides it. */
export function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = !message;
  clearTimeout(errorTimer);
  if (message) errorTimer = setTimeout(() => (box.hidden = true), 12000);
}

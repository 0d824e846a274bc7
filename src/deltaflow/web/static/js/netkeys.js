// The network by keyboard: arrow keys move between neurons (one tab stop for the whole
// network), and the editor of a neuron's incoming weights W⁽ˡ⁾[i, ·] and bias b⁽ˡ⁾[i]
// (or of one weight, after a click on its edge).
import { el } from "./util.js";

/**
 * The neuron an arrow key moves to from neuron j of column c: up/down within the column,
 * left/right to the same height in the next column. cols: neurons per column. → [c, j] or null.
 */
export function moveFrom(key, c, j, cols) {
  if (key === "ArrowUp") return [c, Math.max(0, j - 1)];
  if (key === "ArrowDown") return [c, Math.min(cols[c] - 1, j + 1)];
  if (key !== "ArrowLeft" && key !== "ArrowRight") return null;
  const d = key === "ArrowLeft" ? -1 : 1;
  const next = Math.max(0, Math.min(cols.length - 1, c + d));
  // the same relative height: neuron 3 of 8 goes to neuron 1 of 2, not always the top one
  const k = cols[c] > 1 ? Math.round((j / (cols[c] - 1)) * (cols[next] - 1)) : 0;
  return [next, Math.max(0, Math.min(cols[next] - 1, k))];
}

/**
 * An editor of numbers near (x, y) (viewport px): rows [{label, value, testid, onSet(v)}].
 * Tab moves between the inputs, Enter sets the focused one (and, with one row, closes),
 * Escape closes; onClose() then gives the focus back. → the form element.
 */
export function openEditor({ title, rows, x, y, onClose }) {
  document.querySelectorAll(".editor").forEach((e) => e.remove());
  const single = rows.length === 1;
  const inputs = rows.map((r) => el("input", { type: "number", step: "any", value: r.value ?? 0, "aria-label": r.label, "data-testid": r.testid }));
  const box = el("form", { class: `editor${single ? "" : " many"}`, role: "dialog", "aria-label": title, "data-testid": "net-editor" },
    el("div", { class: "editor-title", text: title }));
  rows.forEach((r, k) => box.append(el("label", { class: "editor-row" }, el("span", { text: r.label }), inputs[k])));
  if (single) box.append(el("button", { type: "submit", text: "set" }));
  else box.append(el("p", { class: "editor-hint", text: "Enter sets the value · Tab moves on · Escape closes" }));
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    box.remove();
    onClose && onClose();
  };
  const set = (k) => {
    const v = Number(inputs[k].value);
    if (inputs[k].value.trim() !== "" && Number.isFinite(v)) rows[k].onSet(v);
  };
  box.addEventListener("submit", (e) => {
    e.preventDefault(); // the "set" button of a one-weight editor
    set(0);
    close();
  });
  box.addEventListener("keydown", (e) => {
    const k = inputs.indexOf(e.target);
    if (e.key === "Enter" && k >= 0) {
      e.preventDefault();
      set(k);
      if (single) close();
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });
  // leaving the editor (a click elsewhere, Tab past its end) closes it
  box.addEventListener("focusout", (e) => {
    if (!e.relatedTarget || !box.contains(e.relatedTarget)) setTimeout(() => box.contains(document.activeElement) || close(), 150);
  });
  document.body.append(box);
  const r = box.getBoundingClientRect();
  box.style.left = `${Math.max(4, Math.min(x, window.innerWidth - r.width - 4))}px`;
  box.style.top = `${Math.max(4, Math.min(y, window.innerHeight - r.height - 4))}px`;
  inputs[0].focus();
  inputs[0].select();
  return box;
}

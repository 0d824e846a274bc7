// The output view's input: a click on the plane, and the keyboard cursor (arrow keys move
// it by 1/40 of the plane, with Shift by 1/8; Enter or Space acts there; Escape ends pick mode).
import { fmt } from "./util.js";

const STEPS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
const clamp = (x, lo, hi) => Math.max(lo, Math.min(hi, x));

function onKey(v, { act, extent, paintFront, setPicking }, e) {
  if (!v.data) return;
  const ex = extent(v), big = e.shiftKey ? 5 : 1;
  if (!v.cursor) v.cursor = [(ex[0] + ex[1]) / 2, (ex[2] + ex[3]) / 2];
  if (STEPS[e.key]) {
    const [dx, dy] = STEPS[e.key];
    v.cursor = [clamp(v.cursor[0] + (dx * big * (ex[1] - ex[0])) / 40, ex[0], ex[1]),
      clamp(v.cursor[1] + (dy * big * (ex[3] - ex[2])) / 40, ex[2], ex[3])];
    v.live.textContent = `cursor at ${fmt(v.cursor[0], 2)}, ${fmt(v.cursor[1], 2)}`;
  } else if (e.key === "Enter" || e.key === " ") {
    act(v, ...v.cursor);
  } else if (e.key === "Escape" && v.picking) {
    setPicking(v, false);
  } else {
    return;
  }
  e.preventDefault();
  paintFront(v);
}

function onClick(v, { act, extent }, e) {
  if (!v.data) return;
  const b = v.fg.getBoundingClientRect(), r = v.rect, ex = extent(v);
  const u = (e.clientX - b.left - r.x) / r.side, w = (e.clientY - b.top - r.y) / r.side;
  if (u < 0 || u > 1 || w < 0 || w > 1) return; // on the axes, not the plane
  act(v, ex[0] + u * (ex[1] - ex[0]), ex[3] - w * (ex[3] - ex[2]));
}

/** Wires the view `v` to the mouse and the keyboard; `view` holds heatmap.js's
 * {act(v, x, y), extent(v), paintFront(v), setPicking(v, on)}. */
export function bindInput(v, view) {
  v.fg.addEventListener("click", (e) => onClick(v, view, e));
  v.fg.addEventListener("keydown", (e) => onKey(v, view, e));
  v.fg.addEventListener("focus", () => view.paintFront(v));
  v.fg.addEventListener("blur", () => view.paintFront(v));
  v.pickBtn.addEventListener("click", () => view.setPicking(v, !v.picking));
}

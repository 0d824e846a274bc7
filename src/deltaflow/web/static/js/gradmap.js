// The layer × time map of log₁₀‖δ⁽ˡ⁾‖: one row per unit layer (1 at the top, the output layer
// L at the bottom), one column per frame with statistics, the newest at the right. Its colour
// range only widens, by whole decades (decades.js); a new frame shifts the image one column and
// paints the new column only, and the whole image is repainted only when the range widens.
import { createDecades, decade } from "./decades.js";
import { describe } from "./statwords.js";
import { el, sequential } from "./util.js";

export const HISTORY = 240; // frames kept in the map
const BAD = [179, 38, 30]; // a non-finite ‖δ‖: the NaN alarm's red

/** createGradmap() → {node, build(labels), push(deltaNorms), resetScale(), range}. */
export function createGradmap() {
  const range = createDecades(2);
  const canvas = el("canvas", { class: "gm-canvas", width: HISTORY, height: 1, "data-testid": "delta-map", role: "img" });
  const rows = el("div", { class: "gm-rows", "aria-hidden": "true" });
  const legend = el("div", { class: "delta-legend" });
  const caption = describe(el("p", { class: "gf-caption", text: "‖δ‖: the error signal reaching each layer, over time" }), "delta_norm");
  const node = el("div", { class: "gm" }, caption,
    el("div", { class: "gm-plot" }, el("span", { class: "gm-ytitle", text: "layer" }), rows, canvas), legend);
  let columns = []; // columns[t][l] = ‖δ^(l)‖ of frame t, oldest first
  let L = 0;

  /** labels: one short label per unit layer, "1" … "L" */
  function build(labels) {
    L = labels.length;
    columns = [];
    range.reset();
    canvas.height = Math.max(1, L);
    canvas.getContext("2d").clearRect(0, 0, HISTORY, canvas.height);
    rows.replaceChildren(...labels.map((t, l) => el("span", { text: t, "data-layer": String(l + 1) })));
    rows.style.gridTemplateRows = `repeat(${Math.max(1, L)}, minmax(0, 1fr))`;
    canvas.setAttribute("aria-label", "map of the error-signal norm ‖δ‖ per layer (rows 1 to L) over the last frames");
    legend.textContent = "";
  }

  const colour = (v) => (Number.isFinite(v) ? sequential(range.span(v)) : BAD);

  function paintColumn(img, x, col) {
    for (let l = 0; l < L; l++) img.data.set([...colour(col[l]), 255], 4 * (l * HISTORY + x));
  }

  function repaint(ctx) {
    const img = ctx.createImageData(HISTORY, L);
    const offset = HISTORY - columns.length;
    columns.forEach((col, t) => paintColumn(img, offset + t, col));
    ctx.putImageData(img, 0, 0);
  }

  /** deltaNorms: ‖δ^(l)‖ per unit layer, l = 1 … L, of one frame */
  function push(deltaNorms) {
    if (deltaNorms.length !== L) return;
    columns.push(Array.from(deltaNorms));
    if (columns.length > HISTORY) columns.shift();
    const ctx = canvas.getContext("2d");
    if (range.fit(deltaNorms) || columns.length === 1) repaint(ctx);
    else {
      ctx.drawImage(canvas, -1, 0);
      const img = ctx.createImageData(1, L);
      for (let l = 0; l < L; l++) img.data.set([...colour(deltaNorms[l]), 255], 4 * l);
      ctx.putImageData(img, HISTORY - 1, 0);
    }
    showLegend();
  }

  function showLegend() {
    if (range.empty) return;
    // the swatches are CSS (::before): the text stays "dark: ‖δ‖ = …", the norms themselves
    const norm = (e) => (10 ** e).toExponential(1).replace("e+", "e");
    legend.replaceChildren(
      el("span", { class: "lo", "data-testid": "delta-scale-lo", "data-decade": String(range.lo), text: `dark: ‖δ‖ = ${norm(range.lo)}` }),
      el("span", { class: "axis", text: `← ${columns.length} frames → now` }),
      el("span", { class: "hi", "data-testid": "delta-scale-hi", "data-decade": String(range.hi), text: `bright: ‖δ‖ = ${norm(range.hi)}` }));
    legend.title = `colour: log scale from ${decade(range.lo)} (dark) to ${decade(range.hi)} (bright); red: not finite`;
  }

  return {
    node, build, push, range,
    resetScale() {
      range.reset();
      const last = columns[columns.length - 1];
      // re-fit to the newest frame; older columns outside it show at the ends of the scale
      if (last) range.fit(last);
      if (columns.length) repaint(canvas.getContext("2d"));
      showLegend();
    },
  };
}

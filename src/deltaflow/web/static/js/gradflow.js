// The backpropagation visualiser's per-layer view: ‖∂L/∂W⁽ˡ⁾‖ as bars on a logarithmic scale
// that only widens (decades.js), the layer × time map of ‖δ⁽ˡ⁾‖ (gradmap.js), and behind a tab
// the table of every statistic. Layers are numbered as everywhere on the page: unit layers
// 1 … L, L the output layer. A compared run (compare.js) adds a marker per layer.
import { createDecades, decade } from "./decades.js";
import { createGradmap } from "./gradmap.js";
import { createGradtable } from "./gradtable.js";
import { describe } from "./statwords.js";
import { el, fmt } from "./util.js";

const MIN_DECADES = 4; // the bars' first range spans at least this many decades

/** Layer l's short label (1-based), as the network diagram and the alarm banner number it. */
export const layerLabel = (l, L) => (l === L ? `W(${l}) · output` : `W(${l})`);

function tabs(onSelect) {
  const make = (id, text) => el("button", { type: "button", class: "gf-tab", "data-testid": `gf-tab-${id}`, "aria-pressed": String(id === "bars"), text, onclick: () => onSelect(id) });
  const buttons = { bars: make("bars", "Bars + map"), table: make("table", "Table") };
  return { node: el("div", { class: "gf-tabs", role: "group", "aria-label": "Gradient view" }, buttons.bars, buttons.table), buttons };
}

/** createGradflow(root) → {build(layerNames, vanishingRatio), update(frame), compare(frame|null, label), resetScale(), compareSlot}. */
export function createGradflow(root) {
  const scale = createDecades(MIN_DECADES);
  const gradmap = createGradmap();
  const barList = el("div", { class: "gf-bars", "data-testid": "grad-bars" });
  const lo = el("span", { "data-testid": "grad-scale-lo" });
  const hi = el("span", { "data-testid": "grad-scale-hi" });
  const axis = el("div", { class: "gf-axis" }, lo, describe(el("span", { class: "gf-xtitle", text: "‖∂L/∂W‖, log scale" }), "grad_W_norm"), hi);
  const otherKey = el("span", { class: "gf-key other", hidden: true });
  const thisKey = el("span", { class: "gf-key this", text: "‖∂L/∂W‖" });
  const lowKey = el("span", { class: "gf-key low" });
  const keys = el("div", { class: "gf-keys" }, thisKey, lowKey,
    el("span", { class: "gf-key bad", text: "not finite" }), otherKey);
  const barsPane = el("div", { class: "gf-pane" },
    describe(el("p", { class: "gf-caption", text: "‖∂L/∂W‖: how strongly the loss reacts to each layer's weights" }), "grad_W_norm"),
    keys, barList, axis);
  const table = createGradtable();
  const views = { bars: el("div", { class: "gf-split" }, barsPane, el("div", { class: "gf-pane" }, gradmap.node)), table: el("div", { class: "gf-tablebox", hidden: true }, table.node) };
  const tab = tabs((id) => {
    for (const [k, v] of Object.entries(views)) v.hidden = k !== id;
    for (const [k, b] of Object.entries(tab.buttons)) b.setAttribute("aria-pressed", String(k === id));
  });
  const reset = el("button", { type: "button", class: "gf-reset", "data-testid": "grad-reset-scale", text: "Reset scale",
    title: "Fit the bars' and the map's scales to the current values; from then on they only widen again", onclick: () => resetScale() });
  const compareSlot = el("div", { class: "gf-compare" });
  root.replaceChildren(el("div", { class: "gf-view" }, el("div", { class: "gf-toolbar" }, tab.node, reset, compareSlot), views.bars, views.table));

  let bars = [], vanishing = 0, last = null, other = null;
  // rows share the box's height: the labels' size follows the rows', not the reverse
  function fitRows() {
    const h = barList.clientHeight / Math.max(1, bars.length);
    root.style.setProperty("--gf-row", `${Math.max(6, Math.min(11, Math.floor(h - 1)))}px`);
  }
  new ResizeObserver(fitRows).observe(barList);

  function buildBars(names) {
    const L = names.length;
    bars = names.map((name, i) => {
      const l = i + 1;
      const fill = el("div", { class: "fill" });
      const marker = el("div", { class: "marker", hidden: true, "data-testid": `grad-compare-${l}` });
      const value = el("output", { "data-testid": `grad-norm-${l}`, text: "–" });
      barList.append(el("div", { class: "gf-bar", "data-layer": String(l), title: `layer ${l}: ${name}` },
        el("span", { class: "gf-label", text: layerLabel(l, L) }), el("div", { class: "track" }, fill, marker), value));
      return { fill, marker, value };
    });
    barList.style.gridTemplateRows = `repeat(${Math.max(1, L)}, minmax(0, 1fr))`;
  }

  /** layerNames: one per unit layer; vanishingRatio: hello.frame.vanishing_ratio */
  function build(layerNames, vanishingRatio) {
    vanishing = vanishingRatio;
    const L = layerNames.length;
    lowKey.textContent = `< ${fmt(vanishing, 1)} × layer ${L}`;
    lowKey.title = `vanishing: ‖∂L/∂W⁽ˡ⁾‖ < ${fmt(vanishing)} · ‖∂L/∂W⁽${L}⁾‖, the output layer's (the alarm's threshold)`;
    last = null;
    scale.reset();
    barList.replaceChildren();
    buildBars(layerNames);
    fitRows();
    table.build(layerNames);
    gradmap.build(layerNames.map((_, i) => String(i + 1)));
    showScale();
    showOther();
  }

  function showScale() {
    lo.textContent = scale.empty ? "" : decade(scale.lo);
    hi.textContent = scale.empty ? "" : decade(scale.hi);
    barList.style.setProperty("--decades", String(scale.empty ? 1 : scale.hi - scale.lo));
  }

  function drawBars(layers) {
    const g = layers.map((s) => s.grad_W_norm);
    const top = g[g.length - 1];
    layers.forEach((s, l) => {
      const v = s.grad_W_norm, bad = !Number.isFinite(v) || s.nonfinite;
      bars[l].fill.style.width = `${(bad ? 1 : scale.span(v)) * 100}%`;
      bars[l].fill.className = `fill${bad ? " bad" : v < vanishing * top ? " low" : ""}`;
      bars[l].value.textContent = fmt(v, 3);
      bars[l].value.dataset.value = String(v);
    });
  }

  function showOther() {
    otherKey.hidden = !other;
    thisKey.textContent = other ? "this run" : "‖∂L/∂W‖";
    if (other) otherKey.textContent = other.label;
    bars.forEach((b, l) => {
      const v = other && other.layers.length === bars.length ? other.layers[l].grad_W_norm : NaN;
      b.marker.hidden = !Number.isFinite(v);
      if (!b.marker.hidden) {
        b.marker.style.left = `${scale.span(v) * 100}%`;
        b.marker.title = `${other.label}: ‖∂L/∂W‖ = ${fmt(v, 3)}`;
      }
    });
  }

  function redraw() {
    // the scale takes both runs' values: the compared run's markers stay on the same axis
    if (last) scale.fit(last.layers.map((s) => s.grad_W_norm));
    if (other && other.layers.length === bars.length) scale.fit(other.layers.map((s) => s.grad_W_norm));
    showScale();
    if (last) drawBars(last.layers);
    showOther();
  }

  function resetScale() {
    scale.reset();
    gradmap.resetScale();
    redraw();
  }

  function update(frame) {
    if (frame.layers.length !== bars.length) return;
    last = frame;
    redraw();
    table.update(frame.layers);
    gradmap.push(frame.layers.map((s) => s.delta_norm));
  }

  return {
    build, update, resetScale, compareSlot,
    /** frame: the compared run's latest frame with statistics, or null to stop; label: its change */
    compare(frame, label) {
      other = frame ? { layers: frame.layers, label } : null;
      redraw();
    },
  };
}

// The backpropagation visualiser: per-layer ‖∂L/∂W‖ on a log scale, a layer × time map of
// log10‖δ‖, saturation and dead-unit percentages, update-to-weight ratios, and the alarms.
import { clear, el, fmt, pct, sequential } from "./util.js";

const HISTORY = 240; // frames kept in the layer × time map

const log10 = (v) => (v > 0 ? Math.log10(v) : -Infinity);
export function createGradflow(root) {
  let names = [];
  let bars = [];
  let rows = [];
  let deltas = []; // deltas[t][l] = log10‖δ^(l)‖
  let vanishing = 0; // the server's threshold: first layer's ‖∂L/∂W‖ below this fraction of the last's
  const map = el("canvas", { class: "delta-map", width: HISTORY, height: 1, "data-testid": "delta-map", "aria-label": "log10 of the delta norm per layer over time" });
  const mapLegend = el("div", { class: "delta-legend" });
  const barBox = el("div", { class: "bars", "data-testid": "grad-bars" });
  const table = el("table", { class: "stats", "data-testid": "grad-stats" });

  /** layerNames: one per unit layer; vanishingRatio: hello.frame.vanishing_ratio */
  function build(layerNames, vanishingRatio) {
    names = layerNames;
    vanishing = vanishingRatio;
    deltas = [];
    clear(root);
    clear(barBox);
    bars = names.map((n, l) => {
      const fill = el("div", { class: "fill" });
      const value = el("output", { "data-testid": `grad-norm-${l + 1}`, text: "–" });
      barBox.append(el("div", { class: "bar", title: n }, el("span", { text: `W(${l + 1})` }), el("div", { class: "track" }, fill), value));
      return { fill, value };
    });
    barBox.append(el("div", { class: "scale" }, el("span"), el("span", {}, el("span", { "data-testid": "grad-scale-lo" }), el("span", { "data-testid": "grad-scale-hi" })), el("span")));
    clear(table);
    table.append(el("thead", {}, el("tr", {}, ...["layer", "‖W‖", "‖δ‖", "mean σ′", "saturated", "dead", "update/weight"].map((t) => el("th", { text: t })))));
    const body = el("tbody");
    rows = names.map((n, l) => {
      const cells = Array.from({ length: 6 }, () => el("td", { text: "–" }));
      cells[3].dataset.testid = `saturated-${l + 1}`;
      cells[4].dataset.testid = `dead-${l + 1}`;
      cells[5].dataset.testid = `update-ratio-${l + 1}`;
      body.append(el("tr", {}, el("td", { text: `${l + 1} ${n}` }), ...cells));
      return cells;
    });
    table.append(body);
    map.height = Math.max(1, names.length);
    root.append(el("div", { class: "gf-grid" },
      el("div", {}, el("h3", { text: "‖∂L/∂W‖ per layer (log scale)" }), barBox),
      el("div", {}, el("h3", { text: "log₁₀‖δ‖: layers (top = input side) × time" }), map, mapLegend)),
      el("h3", { text: "Layer statistics", style: "margin-top:10px" }), el("div", { class: "stats-box" }, table));
  }

  function update(frame) {
    if (frame.layers.length !== names.length) return;
    const g = frame.layers.map((s) => s.grad_W_norm);
    const logs = g.map(log10).filter(Number.isFinite);
    const hi = Math.ceil(Math.max(0, ...logs));
    const lo = Math.min(hi - 6, Math.floor(Math.min(...logs, hi)));
    frame.layers.forEach((s, l) => {
      const v = s.grad_W_norm;
      const t = Number.isFinite(v) ? (log10(v) - lo) / (hi - lo) : 1;
      bars[l].fill.style.width = `${Math.max(0, Math.min(1, t)) * 100}%`;
      bars[l].fill.className = `fill${!Number.isFinite(v) || s.nonfinite ? " bad" : v < vanishing * g[g.length - 1] ? " low" : ""}`;
      bars[l].value.textContent = fmt(v, 3);
      bars[l].value.dataset.value = String(v);
      const c = rows[l];
      c[0].textContent = fmt(s.W_norm);
      c[1].textContent = fmt(s.delta_norm);
      c[2].textContent = fmt(s.sigma_prime_mean);
      c[3].textContent = pct(s.saturated_pct);
      c[3].className = s.saturated_pct > 50 ? "warn" : "";
      c[4].textContent = pct(s.dead_pct);
      c[4].className = s.dead_pct > 50 ? "warn" : "";
      c[5].textContent = fmt(s.update_ratio);
      c[5].className = s.update_ratio > 1e-1 ? "warn" : "";
    });
    barBox.querySelector("[data-testid=grad-scale-lo]").textContent = `1e${lo}`;
    barBox.querySelector("[data-testid=grad-scale-hi]").textContent = `1e${hi}`;
    deltas.push(frame.layers.map((s) => log10(s.delta_norm)));
    if (deltas.length > HISTORY) deltas.shift();
    drawMap();
  }

  function drawMap() {
    const L = names.length;
    const finite = deltas.flat().filter(Number.isFinite);
    if (!finite.length) return;
    const lo = Math.min(...finite), hi = Math.max(...finite, lo + 1);
    const ctx = map.getContext("2d");
    const img = ctx.createImageData(HISTORY, L);
    const offset = HISTORY - deltas.length;
    deltas.forEach((col, t) => col.forEach((v, l) => {
      const c = Number.isFinite(v) ? sequential((v - lo) / (hi - lo)) : [179, 38, 30];
      img.data.set([c[0], c[1], c[2], 255], 4 * (l * HISTORY + offset + t));
    }));
    ctx.putImageData(img, 0, 0);
    mapLegend.textContent = "";
    // lo, hi are log₁₀‖δ‖: the legend gives the norms themselves (1e-13.1 reads as no number)
    const norm = (e) => (10 ** e).toExponential(1).replace("e+", "e");
    mapLegend.append(el("span", { text: `dark: ‖δ‖ = ${norm(lo)}` }), el("span", { text: `← ${deltas.length} frames → now` }), el("span", { text: `bright: ‖δ‖ = ${norm(hi)}` }));
  }

  return { build, update };
}

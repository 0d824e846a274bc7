// Chapter "activations": σ, tanh, ReLU, LeakyReLU, ELU and GELU with their derivatives on one
// SVG chart, and a marker dragged along z (pointer, arrow keys or a number) whose reading f(z),
// f′(z) is the engine's answer for that z. Every number shown comes from the lesson.
import { showError } from "../notices.js";
import { el, fmt, svgEl } from "../util.js";
import { challengeBox, field, numberInput, select } from "./depthui.js";

const N = 241; // samples of the interval: z every 0.05 on the default [−6, 6]
const STEP = 0.05, BIG_STEP = 0.5, DEBOUNCE_MS = 80;
const W = 640, H = 312, L = 50, R = 12, T = 36, B = 46; // the SVG's viewBox and its margins
const INK = "#3d4a52", GRID = "#e3e8eb", AXIS = "#9aa7ae", F_COLOUR = "#0877bd", DF_COLOUR = "#f59322";
const SYMBOL = { sigmoid: "σ", tanh: "tanh", relu: "ReLU", leaky_relu: "LeakyReLU", elu: "ELU", gelu: "GELU" };

const hundredths = (z) => Math.round(z * 100) / 100 || 0; // || 0: no −0
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "A layer first computes z = Wx + b and then applies σ to every entry: a = σ(z). Without σ, two layers collapse into one, since W₂(W₁x + b₁) + b₂ = (W₂W₁)x + (W₂b₁ + b₂) is again linear; however deep, such a network draws only straight boundaries. The non-linearity is all the expressive power there is." }),
    el("p", { text: "Backpropagation multiplies the error by σ′(z) at every layer, δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾), so the derivative matters as much as the function. The sigmoid σ(z) = 1/(1 + e⁻ᶻ) squeezes z into (0, 1) and has σ′(z) = σ(z)(1 − σ(z)): a product of two numbers that add up to 1, largest when both are ½, so σ′ is at most ¼ (at z = 0) and almost 0 once |z| > 3. tanh(z) = (eᶻ − e⁻ᶻ)/(eᶻ + e⁻ᶻ) is centred on 0 with range (−1, 1) and tanh′(z) = 1 − tanh²(z) ≤ 1, but it flattens out just the same." }),
    el("p", { text: "ReLU(z) = max(0, z) has slope 1 wherever z > 0, so it does not shrink the error there, and slope 0 for z < 0: such an input sends nothing back, and a unit whose z is negative for every example is dead. The variants keep a little slope on the left: LeakyReLU(z) = 0.01z for z ≤ 0, ELU(z) = eᶻ − 1 there (slope eᶻ), and GELU(z) = zΦ(z), Φ the standard normal CDF, smooth everywhere with GELU′(z) = Φ(z) + zφ(z), slightly above 1 near z ≈ 1.4 (the Transformers' choice)." }));
}

function text(x, y, s, attrs = {}) {
  const t = svgEl("text", { x, y, fill: INK, "font-size": 11, ...attrs });
  t.textContent = s;
  return t;
}

/** Ticks at a 1-2-5 spacing over [lo, hi], about n of them. */
function ticks(lo, hi, n) {
  const e = 10 ** Math.floor(Math.log10((hi - lo) / n));
  const step = [1, 2, 5, 10].find((m) => m * e >= (hi - lo) / n) * e;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(6)));
  return out;
}

/** z and value → SVG coordinates for result r: z over [z_min, z_max], y over f and f′ and 0. */
function scales(r) {
  const values = [...r.f, ...r.df, 0].filter(Number.isFinite);
  let lo = Math.min(...values), hi = Math.max(...values);
  const pad = (hi - lo || 1) * 0.06;
  lo -= pad;
  hi += pad;
  return {
    lo, hi,
    X: (z) => L + ((z - r.z_min) / (r.z_max - r.z_min)) * (W - L - R),
    Y: (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B),
  };
}

/** The grid, tick values, zero lines, z title and the legend of result r. */
function axes(r, s) {
  const g = svgEl("g");
  for (const t of ticks(s.lo, s.hi, 4)) {
    g.append(svgEl("line", { x1: L, x2: W - R, y1: s.Y(t), y2: s.Y(t), stroke: t === 0 ? AXIS : GRID }));
    g.append(text(L - 5, s.Y(t) + 4, fmt(t, 2), { "text-anchor": "end" }));
  }
  for (const t of ticks(r.z_min, r.z_max, 6)) {
    g.append(svgEl("line", { x1: s.X(t), x2: s.X(t), y1: T, y2: H - B, stroke: t === 0 ? AXIS : GRID }));
    g.append(text(s.X(t), H - B + 16, fmt(t, 2), { "text-anchor": "middle" }));
  }
  g.append(text(L + (W - L - R) / 2, H - 4, "z", { "text-anchor": "middle", "font-style": "italic" }));
  // sup f′ over all z (the engine's max_derivative): the sigmoid's ¼ is a ceiling no sample passes
  g.append(svgEl("line", { x1: L, x2: W - R, y1: s.Y(r.sup_derivative), y2: s.Y(r.sup_derivative), stroke: DF_COLOUR,
    "stroke-width": 1, "stroke-dasharray": "1 3", "data-testid": "activations-sup" }));
  g.append(text(W - R - 2, s.Y(r.sup_derivative) - 4, `sup f′ = ${fmt(r.sup_derivative, 4)}`, { "text-anchor": "end" }));
  const name = SYMBOL[r.activation];
  [[`f(z) = ${name}(z)`, F_COLOUR, false], [`f′(z) = ${name}′(z)`, DF_COLOUR, true]].forEach(([label, colour, dashed], i) => {
    const x = L + i * 290;
    g.append(svgEl("line", { x1: x, x2: x + 26, y1: 14, y2: 14, stroke: colour, "stroke-width": 3,
      "stroke-dasharray": dashed ? "6 4" : null }));
    g.append(text(x + 32, 19, label, { "data-testid": `activations-legend-${i}` }));
  });
  return g;
}

function curve(r, values, s, colour, testid, dashed) {
  const d = values.map((v, i) => `${i ? "L" : "M"}${s.X(r.z[i]).toFixed(2)},${s.Y(v).toFixed(2)}`).join("");
  return svgEl("path", { d, fill: "none", stroke: colour, "stroke-width": 2.5, "data-testid": testid,
    "stroke-dasharray": dashed ? "6 4" : null });
}

/** The marker: a vertical line at z, and dots at f(z) and f′(z) once the engine's reading is for this z. */
function drawMarker(g, s, z, reading) {
  g.replaceChildren(svgEl("line", { x1: s.X(z), x2: s.X(z), y1: T - 4, y2: H - B, stroke: INK, "stroke-width": 2,
    "data-testid": "activations-marker", "data-z": String(z) }));
  if (!reading || reading.z !== z) return;
  for (const [v, colour] of [[reading.f, F_COLOUR], [reading.df, DF_COLOUR]]) {
    g.append(svgEl("circle", { cx: s.X(z), cy: s.Y(v), r: 5.5, fill: colour, stroke: "#fff", "stroke-width": 1.5 }));
  }
}

/**
 * createChart(move) → {node, draw(r), mark(z, reading)}: the SVG of the lesson's samples and
 * its marker. Dragging (pointer events) or the arrow keys call move(z, settled): settled is
 * false while the pointer is still moving.
 */
function createChart(move) {
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "lp-svg", role: "slider", tabindex: 0,
    "aria-label": "z: drag the marker, or use the arrow keys", "data-testid": "activations-chart",
    style: "touch-action: none; cursor: ew-resize" });
  const area = svgEl("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "transparent",
    "data-testid": "activations-plot-area" });
  const frame = svgEl("g"), marker = svgEl("g", { "pointer-events": "none" });
  svg.append(frame, area, marker);
  let r = null, s = null, z = 0, dragging = false;
  const fromPointer = (e) => {
    const box = area.getBoundingClientRect();
    return hundredths(clamp(r.z_min + ((e.clientX - box.left) / box.width) * (r.z_max - r.z_min), r.z_min, r.z_max));
  };
  svg.addEventListener("pointerdown", (e) => {
    if (!r) return;
    dragging = true;
    svg.setPointerCapture(e.pointerId);
    svg.focus();
    move(fromPointer(e), false);
  });
  svg.addEventListener("pointermove", (e) => dragging && move(fromPointer(e), false));
  const end = (e) => {
    if (!dragging) return;
    dragging = false;
    move(fromPointer(e), true);
  };
  svg.addEventListener("pointerup", end);
  svg.addEventListener("pointercancel", end);
  svg.addEventListener("keydown", (e) => {
    const by = { ArrowLeft: -STEP, ArrowDown: -STEP, ArrowRight: STEP, ArrowUp: STEP, PageDown: -BIG_STEP, PageUp: BIG_STEP }[e.key];
    if (!r || (by === undefined && e.key !== "Home" && e.key !== "End")) return;
    e.preventDefault();
    const to = e.key === "Home" ? r.z_min : e.key === "End" ? r.z_max : z + by;
    move(hundredths(clamp(to, r.z_min, r.z_max)), true);
  });
  return {
    node: svg,
    draw(result) {
      r = result;
      s = scales(r);
      frame.replaceChildren(axes(r, s), curve(r, r.f, s, F_COLOUR, "activations-curve-f", false),
        curve(r, r.df, s, DF_COLOUR, "activations-curve-df", true));
      svg.setAttribute("aria-valuemin", String(r.z_min));
      svg.setAttribute("aria-valuemax", String(r.z_max));
    },
    mark(at, reading) {
      z = at;
      svg.setAttribute("aria-valuenow", String(z));
      svg.setAttribute("aria-valuetext", reading && reading.z === z
        ? `z = ${z}: f(z) = ${fmt(reading.f, 4)}, f′(z) = ${fmt(reading.df, 4)}` : `z = ${z}`);
      if (s) drawMarker(marker, s, z, reading);
    },
  };
}

const shown = (testid, v, digits) => el("b", { "data-testid": testid, "data-value": String(v), text: fmt(v, digits) });

/** The engine's reading at the marker, and the largest f′ over the samples. */
function readingOf(r) {
  const p = r.point, name = SYMBOL[r.activation];
  const bound = r.activation === "sigmoid" && r.df_max <= 0.25 ? [": ", el("b", { text: "σ′ never exceeds ¼" }), "."] : ["."];
  return [
    el("span", {}, "z = ", shown("activations-z", p.z, 4), `, ${name}(z) = `, shown("activations-f", p.f, 6),
      `, ${name}′(z) = `, shown("activations-df", p.df, 6),
      p.dead ? " — a dead input: no gradient passes back." : p.near_max ? " — at the slope's peak." : "."),
    el("br"),
    el("span", {}, `Largest ${name}′ over the ${r.n} samples on [${fmt(r.z_min, 4)}, ${fmt(r.z_max, 4)}]: `,
      shown("activations-dfmax", r.df_max, 6), ` at z = ${fmt(r.z_at_df_max, 4)} (the engine's formula: ${r.derivative_text})`, ...bound),
  ];
}

/** Tick the parts the engine's answer meets; once both are, "What you saw" with their numbers. */
function check(box, state, r) {
  const p = r.point;
  if (r.activation === "sigmoid" && p.near_max && !state.peak) {
    state.peak = { z: p.z, f: p.f, df: p.df, df_max: r.df_max, n: r.n, z_min: r.z_min, z_max: r.z_max };
    box.meet(0);
  }
  if (r.activation === "relu" && p.dead && !state.dead) {
    state.dead = { z: p.z, f: p.f, df: p.df };
    box.meet(1);
  }
  if (!box.allMet() || state.summarised) return;
  state.summarised = true;
  const { peak, dead } = state;
  box.done({ sigmoid_z: peak.z, sigmoid_prime: peak.df, sigmoid_prime_max: peak.df_max, relu_z: dead.z, relu_prime: dead.df },
    `At z = ${fmt(peak.z, 4)} the sigmoid gave σ(z) = ${fmt(peak.f, 6)} and σ′(z) = ${fmt(peak.df, 6)}, and none of its ${peak.n} samples on [${fmt(peak.z_min, 4)}, ${fmt(peak.z_max, 4)}] had σ′ above ${fmt(peak.df_max, 6)}: a sigmoid layer passes back at most a quarter of the error. ReLU at z = ${fmt(dead.z, 4)} gave ReLU(z) = ${fmt(dead.f, 4)} and ReLU′(z) = ${fmt(dead.df, 4)}: that input sends no gradient back at all.`);
}

/** The form, chart and readout; every change asks the lesson again (debounced while dragging). */
function widget(ctx, box, state) {
  const act = select("activations-name", Object.keys(SYMBOL), "sigmoid");
  const zMin = numberInput("activations-zmin", -6, { min: -10, max: 10, step: 0.5 });
  const zMax = numberInput("activations-zmax", 6, { min: -10, max: 10, step: 0.5 });
  const at = numberInput("activations-point", state.z, { min: -10, max: 10, step: 0.01 });
  const readout = el("p", { class: "lp-readout", "data-testid": "activations-readout", "data-pending": "0", text: "–" });
  let asked = 0, answered = 0, timer = null, drawn = "";
  async function ask() {
    clearTimeout(timer);
    const seq = ++asked;
    readout.dataset.pending = String(asked - answered);
    try {
      const r = await ctx.lesson({ activation: act.value, z_min: Number(zMin.value), z_max: Number(zMax.value), n: N, z: state.z });
      check(box, state, r);
      if (seq !== asked) return; // a newer question is on its way: draw only the last answer
      state.result = r;
      const key = `${r.activation} ${r.z_min} ${r.z_max}`;
      if (key !== drawn) chart.draw(r);
      drawn = key;
      chart.mark(r.point.z, r.point);
      readout.replaceChildren(...readingOf(r));
    } catch (e) {
      showError(String(e.message ?? e));
    } finally {
      readout.dataset.pending = String(asked - ++answered);
    }
  }
  const move = (z, settled) => {
    state.z = z;
    at.value = String(z);
    chart.mark(z, state.result && state.result.point);
    clearTimeout(timer);
    if (settled) ask();
    else timer = setTimeout(ask, DEBOUNCE_MS);
  };
  const chart = createChart(move);
  at.addEventListener("change", () => {
    const z = Number(at.value);
    if (at.value !== "" && Number.isFinite(z)) move(hundredths(clamp(z, Number(zMin.value), Number(zMax.value))), true);
  });
  act.addEventListener("change", ask);
  for (const c of [zMin, zMax]) c.addEventListener("change", () => {
    state.z = hundredths(clamp(state.z, Number(zMin.value), Number(zMax.value)));
    at.value = String(state.z);
    ask();
  });
  ask();
  return el("div", {}, el("h3", { text: "f and f′ on an interval; drag the marker along z" }),
    el("div", { class: "lp-row" }, field("activation f", act), field("z from", zMin), field("to", zMax), field("marker z", at)),
    el("div", { class: "lp-plot" }, chart.node),
    el("p", { class: "lp-note", text: `Solid blue: f(z); dashed orange: f′(z), both from the engine's layer (its forward pass, and its backward pass of a gradient of ones) at ${N} values of z. Drag on the chart, or focus it and use the arrow keys (Page Up/Down for larger steps).` }),
    readout);
}

export default {
  id: "activations",
  title: "Activation functions and their slopes",
  section: "3. Activation Functions",
  render(root, ctx) {
    const state = { z: 2, result: null, peak: null, dead: null, summarised: false };
    const box = challengeBox(ctx, "activations",
      "With the sigmoid, drag the marker to where its slope peaks: a z with σ′(z) ≥ 0.2499 (and see that no sample of σ′ goes past 1/4). Then choose relu and find an input z whose derivative is 0: a dead input.",
      ["σ′(z) ≥ 0.2499 with the sigmoid", "ReLU′(z) = 0: a dead input"]);
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-activations",
      text: "Open in the simulator", onclick: () => {
        const defaults = ctx.hello.defaults;
        const config = JSON.parse(JSON.stringify(defaults.config));
        config.model.activation = state.result ? state.result.activation : "sigmoid";
        ctx.openSimulator(config, defaults.grid);
      } });
    root.append(explanation(), widget(ctx, box, state), box.node, openSim);
  },
};

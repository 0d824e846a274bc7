// Chapter "perceptron": Rosenblatt's unit ŷ = step(w·x + b) trained on AND, OR and XOR, one update
// at a time. Every weight drawn comes from the lesson (the engine's Perceptron); the page only
// draws the line w·x + b = 0 through the history the server sent.
import { showError } from "../notices.js";
import { NEG, POS, el, fmt, rgb, svgEl } from "../util.js";
import { challengeBox, field, numberInput, select } from "./depthui.js";

const INK = "#3d4a52", GRID = "#e3e8eb";
const LO = -0.5, HI = 1.5; // the square's view: the corners {0, 1}² with room around them
const PLAY_MS = 450;
const GATES = ["and", "or", "xor"];

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "Rosenblatt's perceptron (1958) is one unit with a hard threshold. It weighs its inputs, adds a bias and fires when the sum is positive: ŷ = step(w·x + b), that is ŷ = 1 if w₁x₁ + w₂x₂ + b > 0 and ŷ = 0 otherwise. The points where it switches, w·x + b = 0, form a straight line across the plane; (w₁, w₂) points to the side that fires." }),
    el("p", { text: "It learns from one example at a time. After a guess ŷ for an example (x, y) it applies w ← w + η(y − ŷ)x and b ← b + η(y − ŷ). A right guess makes y − ŷ = 0 and changes nothing. A missed 1 adds ηx to w and lifts b, so the line moves so that x gets closer to the firing side; a false alarm subtracts ηx and lowers b. One pass over the data is an epoch." }),
    el("p", { text: "The convergence theorem: if some line puts every 1 on one side and every 0 on the other, the rule makes only finitely many mistakes and then an epoch passes with none. AND and OR have such a line. XOR, 1 exactly when the inputs differ, has none, as Minsky and Papert stressed in 1969: the rule then goes on making mistakes forever. A hidden layer removes the limit." }));
}

/** The square [LO, HI]² cut by the line f(x) = w₁x₁ + w₂x₂ + b = 0: the side f > 0 as a polygon and
 * the line's two ends on the border ([] when the line misses the square or w = 0). */
function cut(w, b) {
  const f = ([x1, x2]) => w[0] * x1 + w[1] * x2 + b;
  const box = [[LO, LO], [HI, LO], [HI, HI], [LO, HI]];
  const pos = [], ends = [];
  box.forEach((p, i) => {
    const q = box[(i + 1) % 4], fp = f(p), fq = f(q);
    if (fp > 0) pos.push(p);
    if ((fp > 0) !== (fq > 0) && fp !== fq) {
      const t = fp / (fp - fq), m = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
      pos.push(m);
      ends.push(m);
    }
  });
  return { pos, ends: ends.length === 2 ? ends : [] };
}

/** The unit square at history step h: the firing side shaded blue, the line, the four points
 * coloured by their class y, the point just visited ringed. */
function square(r, h) {
  const S = 300, M = 34; // plot size and margin, in viewBox units
  const X = (v) => M + ((v - LO) / (HI - LO)) * S, Y = (v) => M + (1 - (v - LO) / (HI - LO)) * S;
  const svg = svgEl("svg", { viewBox: `0 0 ${S + 2 * M} ${S + 2 * M}`, class: "lp-svg", role: "img",
    "aria-label": "the four points and the line w·x + b = 0", "data-testid": "perceptron-square" });
  // ŷ = 0 everywhere underneath, the side f > 0 (ŷ = 1) over it: opaque tints, so they never mix
  svg.append(svgEl("rect", { x: M, y: M, width: S, height: S, fill: tint(NEG) }));
  const { pos, ends } = cut(h.w, h.b);
  if (pos.length) svg.append(svgEl("polygon", { points: pos.map(([a, c]) => `${X(a)},${Y(c)}`).join(" "), fill: tint(POS) }));
  for (const t of [0, 1]) {
    svg.append(svgEl("line", { x1: X(t), x2: X(t), y1: M, y2: M + S, stroke: GRID }));
    svg.append(svgEl("line", { x1: M, x2: M + S, y1: Y(t), y2: Y(t), stroke: GRID }));
    svg.append(label(X(t), M + S + 20, String(t)), label(M - 14, Y(t) + 5, String(t)));
  }
  svg.append(label(M + S / 2, M + S + 30, "x₁"), label(12, M + S / 2, "x₂"));
  const attrs = { "data-testid": "perceptron-line", "data-w1": String(h.w[0]), "data-w2": String(h.w[1]), "data-b": String(h.b) };
  if (ends.length) {
    const [[a1, c1], [a2, c2]] = ends;
    svg.append(svgEl("line", { ...attrs, x1: X(a1), y1: Y(c1), x2: X(a2), y2: Y(c2), stroke: INK, "stroke-width": 2.5 }));
  } else {
    svg.append(svgEl("g", attrs)); // no line inside the square: one side covers it all
    const all = h.w[0] * 0.5 + h.w[1] * 0.5 + h.b > 0 ? 1 : 0;
    svg.append(label(M + S / 2, M - 10, `no line in view: ŷ = ${all} everywhere`));
  }
  r.X.forEach(([a, c], i) => {
    const visited = h.point === i;
    svg.append(svgEl("circle", { cx: X(a), cy: Y(c), r: visited ? 15 : 11, fill: rgb(r.y[i] ? POS : NEG),
      stroke: visited ? (h.mistake ? "#d6455a" : INK) : "#fff", "stroke-width": visited ? 4 : 2,
      "data-testid": `perceptron-point-${i}`, "data-class": String(r.y[i]) }));
  });
  return svg;
}

/** colour c mixed with white, 22% of c: an opaque light shade. */
const tint = (c) => rgb(c.map((v) => Math.round(255 + (v - 255) * 0.22)));

function label(x, y, s) {
  const t = svgEl("text", { x, y, fill: INK, "font-size": 13, "text-anchor": "middle" });
  t.textContent = s;
  return t;
}

/** Bars of mistakes per epoch (0 … 4), the epoch of history step h in orange. */
function mistakeBars(r, epoch) {
  const W = 560, H = 140, L = 30, B = 24, T = 18, n = r.mistakes.length;
  const Y = (v) => T + (1 - v / 4) * (H - T - B), step = (W - L - 8) / Math.max(n, 10);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "lp-svg", role: "img", "aria-label": "mistakes per epoch",
    "data-testid": "perceptron-mistakes" });
  for (let v = 0; v <= 4; v += 2) {
    svg.append(svgEl("line", { x1: L, x2: W - 8, y1: Y(v), y2: Y(v), stroke: GRID }));
    svg.append(label(L - 12, Y(v) + 4, String(v)));
  }
  r.mistakes.forEach((m, e) => {
    const bar = svgEl("rect", { x: L + e * step + step * 0.15, width: step * 0.7, y: Y(m), height: Math.max(Y(0) - Y(m), 0),
      fill: e + 1 === epoch ? "#f59322" : "#7f9aa8", "data-testid": `perceptron-mistakes-bar-${e}`, "data-value": String(m) });
    const tip = svgEl("title");
    tip.textContent = `epoch ${e + 1}: ${m} mistakes`;
    bar.append(tip);
    svg.append(bar);
    if (n <= 20) svg.append(label(L + (e + 0.5) * step, Y(m) - 4, String(m)));
    if (n <= 12 || (e + 1) % 5 === 0 || e === 0) svg.append(label(L + (e + 0.5) * step, H - 6, String(e + 1)));
  });
  return svg;
}

const cell = (testid, v) => el("td", { "data-testid": testid, "data-value": String(v), text: fmt(v, 4) });

/** The weights at step k and what the step changed: Δw = η(y − ŷ)x, Δb = η(y − ŷ). */
function weightTable(r, k) {
  const h = r.history[k], prev = r.history[Math.max(k - 1, 0)];
  const row = (name, key, now, before) => el("tr", {}, el("th", { text: name }), cell(`perceptron-${key}`, now),
    el("td", { text: k ? fmt(now - before, 4) : "–" }));
  return el("table", { class: "lp-table", "data-testid": "perceptron-weights" },
    el("tr", {}, el("th", { text: "" }), el("th", { text: "now" }), el("th", { text: "change" })),
    row("w₁", "w1", h.w[0], prev.w[0]), row("w₂", "w2", h.w[1], prev.w[1]), row("b", "b", h.b, prev.b));
}

function stepText(r, k) {
  const h = r.history[k], n = r.history.length - 1;
  if (!k) return `Start (0 of ${n} updates): the weights before any example.`;
  const [a, c] = r.X[h.point], y = r.y[h.point];
  const what = h.mistake ? `a mistake, so w ← w + ${fmt(r.lr)}·(${y} − ${h.y_hat})·x and b ← b + ${fmt(r.lr)}·(${y} − ${h.y_hat})`
    : "right, so nothing changes";
  return `Update ${k} of ${n}, epoch ${h.epoch}: the point (${a}, ${c}) with y = ${y}; the unit said ŷ = ${h.y_hat}, ${what}.`;
}

function verdict(r) {
  const m = r.mistakes.join(", ");
  if (r.converged) return `Mistakes per epoch: ${m}. Converged: epoch ${r.converged_at} had no mistake.`;
  return `Mistakes per epoch: ${m}. Not converged in ${r.epochs_run} epochs (${r.mistakes[r.mistakes.length - 1]} mistakes in the last).`;
}

function predictions(r) {
  const head = el("tr", {}, el("th", { text: "x = (x₁, x₂)" }), ...r.X.map(([a, c]) => el("th", { text: `(${a}, ${c})` })));
  const row = (name, key, v) => el("tr", {}, el("th", { text: name }),
    ...v.map((t, i) => el("td", { "data-testid": `perceptron-${key}-${i}`, text: String(t) })));
  return el("table", { class: "lp-table", "data-testid": "perceptron-predictions" }, head,
    row(`y (${r.gate.toUpperCase()})`, "y", r.y), row("ŷ, final weights", "pred", r.predictions));
}

/** The step control: a slider over the history, Back / Next update / Play, and what it shows. */
function stepper(view) {
  const slider = el("input", { type: "range", min: "0", max: "0", value: "0", step: "1", "data-testid": "perceptron-step",
    "aria-label": "update", class: "lp-step", disabled: true });
  const timer = { id: null };
  const stop = () => {
    clearInterval(timer.id);
    timer.id = null;
    play.textContent = "Play";
  };
  const go = (k) => {
    const n = Number(slider.max);
    slider.value = String(Math.max(0, Math.min(n, k)));
    view.show(Number(slider.value));
    if (Number(slider.value) >= n) stop();
  };
  const button = (testid, text, onclick) => el("button", { type: "button", "data-testid": testid, text, onclick, disabled: true });
  const back = button("perceptron-prev", "◀ Back", () => { stop(); go(Number(slider.value) - 1); });
  const next = button("perceptron-next", "Next update ▶", () => { stop(); go(Number(slider.value) + 1); });
  const play = button("perceptron-play", "Play", () => {
    if (timer.id) return stop();
    if (Number(slider.value) >= Number(slider.max)) go(0);
    play.textContent = "Pause";
    timer.id = setInterval(() => go(Number(slider.value) + 1), PLAY_MS);
  });
  const end = button("perceptron-end", "End ▶▶", () => { stop(); go(Number(slider.max)); });
  slider.addEventListener("input", () => { stop(); go(Number(slider.value)); });
  return {
    node: el("div", { class: "lp-row" }, back, next, play, end, slider),
    load(n) {
      stop();
      slider.max = String(n);
      [slider, back, next, play, end].forEach((c) => (c.disabled = false));
      go(0);
    },
  };
}

/** The form, the square, the tables; each result met against the challenge (server flags only). */
function trainer(ctx, box, state) {
  const form = { gate: select("perceptron-gate", GATES, "and"), lr: numberInput("perceptron-lr", 1, { min: 0.01, max: 10, step: "any" }),
    epochs: numberInput("perceptron-epochs", 20, { min: 1, max: 50, step: 1 }),
    init: select("perceptron-init", ["zeros", "random"], "zeros"), order: select("perceptron-order", ["fixed", "shuffled"], "fixed"),
    seed: numberInput("perceptron-seed", 0, { min: 0, max: 2 ** 31 - 1, step: 1 }) };
  const plot = el("div", { class: "lp-plot lp-square", "data-testid": "perceptron-plot" },
    el("p", { class: "lp-note", text: "Pick a gate and press Train: the engine trains the perceptron and sends every update." }));
  const table = el("div", {}), says = el("p", { class: "lp-readout", "data-testid": "perceptron-step-label", text: "–" });
  const bars = el("div", { class: "lp-plot" }), out = el("p", { class: "lp-readout", "data-testid": "perceptron-verdict", text: "–" });
  const preds = el("div", { class: "lp-scroll" });
  let r = null;
  const view = { show(k) {
    plot.replaceChildren(square(r, r.history[k]));
    table.replaceChildren(weightTable(r, k));
    says.textContent = stepText(r, k);
    bars.replaceChildren(mistakeBars(r, r.history[k].epoch));
  } };
  const steps = stepper(view);
  async function train() {
    try {
      r = await ctx.lesson({ gate: form.gate.value, lr: Number(form.lr.value), epochs: Number(form.epochs.value),
        init: form.init.value, shuffle: form.order.value === "shuffled", seed: Number(form.seed.value) });
      steps.load(r.history.length - 1);
      out.textContent = verdict(r);
      preds.replaceChildren(predictions(r));
      meet(box, state, r);
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  const chips = GATES.map((g) => el("button", { type: "button", class: "lp-chip", "data-testid": `perceptron-gate-${g}`,
    text: g.toUpperCase(), onclick: () => { form.gate.value = g; train(); } }));
  return el("div", {}, el("h3", { text: "Train it on a gate, then watch every update" }),
    el("div", { class: "lp-row" }, ...chips),
    el("div", { class: "lp-row" }, field("gate", form.gate), field("η", form.lr), field("epochs (≤ 50)", form.epochs),
      field("start", form.init), field("order", form.order), field("seed", form.seed),
      el("button", { type: "button", "data-testid": "perceptron-train", text: "Train", onclick: train })),
    steps.node, el("div", { class: "lp-row lp-perceptron" }, plot, el("div", {}, table, says)),
    el("p", { class: "lp-note", text: "Blue: the side where w·x + b > 0 (ŷ = 1); orange: ŷ = 0. Points: blue y = 1, orange y = 0; the ring marks the point just visited, red when it was a mistake." }),
    el("h4", { text: "Mistakes per epoch" }), bars, out, preds);
}

/** Tick the parts the server's flags say are met; once all are, "What you saw". */
function meet(box, state, r) {
  const part = { and: r.converged ? 0 : null, or: r.converged ? 1 : null, xor: r.never_converged ? 2 : null }[r.gate];
  if (part === null) return;
  state[r.gate] = r;
  box.meet(part);
  if (!box.allMet() || state.summarised) return;
  state.summarised = true;
  const { and, or, xor } = state, w = (q) => `w = (${fmt(q.final.w[0], 4)}, ${fmt(q.final.w[1], 4)}), b = ${fmt(q.final.b, 4)}`;
  const last = xor.mistakes[xor.mistakes.length - 1];
  box.done({ and_epochs: and.converged_at, or_epochs: or.converged_at, and_final: and.final, or_final: or.final,
    xor_epochs: xor.epochs_run, xor_last_mistakes: last, xor_final: xor.final },
  `AND converged in epoch ${and.converged_at} at ${w(and)}; OR in epoch ${or.converged_at} at ${w(or)}. XOR ran all ${xor.epochs_run} epochs and still made ${last} mistake${last === 1 ? "" : "s"} in the last one (final ${w(xor)}): no line separates it.`);
}

export default {
  id: "perceptron",
  title: "The perceptron",
  section: "1. From Perceptron to MLP",
  render(root, ctx) {
    const state = { and: null, or: null, xor: null, summarised: false };
    const box = challengeBox(ctx, "perceptron",
      "Train AND and OR until an epoch passes with no mistake, then give XOR all 50 epochs and see that no epoch is ever free of mistakes.",
      ["AND converges", "OR converges", "XOR, 50 epochs: never zero mistakes"]);
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-perceptron",
      text: "Open in the simulator: XOR with one hidden layer", onclick: () => {
        const p = (ctx.hello.presets || []).find((q) => q.name === "xor_hidden");
        if (p) ctx.openSimulator(p.config, p.grid, p.pause_at);
      } });
    root.append(explanation(), trainer(ctx, box, state), box.node,
      el("p", { class: "lp-note", text: "In the simulator: the XOR quadrants with one hidden layer of four tanh units, trained by backpropagation. Each hidden unit draws its own line and the output combines them into a boundary no single perceptron can draw." }),
      openSim);
  },
};

// Chapter "backprop": one training example's δ recursion, revealed one layer at a time from the
// output back to layer 1, every number from the engine's explain(); then the server's
// finite-difference check of every weight.
import { showError } from "../notices.js";
import { el, fmt, svgEl } from "../util.js";
import { challengeBox, field, numberInput, select } from "./depthui.js";
import { column, matrix } from "./matrix.js";

const SUP = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹" };
const sup = (l) => `⁽${String(l).replace(/\d/g, (d) => SUP[d])}⁾`;
const ACCENT = "#f59322", FLOW = "#0877bd", QUIET = "#c9d1d6";

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "Gradient descent needs ∂L/∂w for every weight. The chain rule gives each one as a product of local derivatives, and backpropagation organises that product so that nothing is computed twice: it carries one vector per layer, the error signal δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾, from the output back to the input." }),
    el("p", { text: "At the output, softmax and cross-entropy together have the simple derivative δ⁽ᴸ⁾ = ŷ − y. Each earlier layer takes the signal of the layer above, sends it back through the same weights the forward pass used (transposed), and scales it by the slope of its own activation: δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾), ⊙ being the entry-by-entry product." }),
    el("p", { text: "Once a layer's δ is known its gradients need only what the forward pass left behind: ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ, an outer product, and ∂L/∂b⁽ˡ⁾ = δ⁽ˡ⁾. One forward and one backward pass give them all, however deep the network." }),
    el("p", { class: "lp-note", text: "Below: one example of the training set through a small network whose weights are drawn from the seed exactly as the simulator draws them. Press Next to take one step of the recursion; every number is the engine's, in float64." }));
}

function form() {
  return {
    dataset: select("backprop-dataset", ["xor", "circle", "gauss", "moons"], "xor"),
    index: numberInput("backprop-index", 0, { min: 0, max: 399, step: 1 }),
    activation: select("backprop-activation", ["tanh", "sigmoid", "relu"], "tanh"),
    width: numberInput("backprop-width", 3, { min: 1, max: 4, step: 1 }),
    depth: numberInput("backprop-depth", 2, { min: 1, max: 3, step: 1 }),
    seed: numberInput("backprop-seed", 0, { min: 0, max: 2 ** 31 - 1, step: 1 }),
  };
}

const request = (f) => ({ dataset: f.dataset.value, index: Number(f.index.value), activation: f.activation.value,
  width: Number(f.width.value), depth: Number(f.depth.value), seed: Number(f.seed.value) });

/** The network's units as circles, layer 0 (x) to L (ŷ); the layer of step `l` and its two sets of weights drawn bright. */
function networkSvg(sizes, l) {
  const W = 360, H = 150, L = sizes.length - 1, top = 16, bottom = 30;
  const X = (k) => 24 + (k * (W - 48)) / L;
  const Y = (k, j) => top + ((j + 0.5) * (H - top - bottom)) / sizes[k];
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "lp-svg", role: "img", "data-testid": "backprop-net",
    "aria-label": l ? `network, layer ${l} highlighted` : "network" });
  for (let k = 1; k <= L; k++) {
    const colour = l === null ? QUIET : k === l ? FLOW : k === l + 1 ? ACCENT : QUIET;
    for (let i = 0; i < sizes[k]; i++) for (let j = 0; j < sizes[k - 1]; j++) {
      svg.append(svgEl("line", { x1: X(k - 1), y1: Y(k - 1, j), x2: X(k), y2: Y(k, i), stroke: colour,
        "stroke-width": colour === QUIET ? 1 : 1.8 }));
    }
  }
  sizes.forEach((n, k) => {
    for (let j = 0; j < n; j++) {
      svg.append(svgEl("circle", { cx: X(k), cy: Y(k, j), r: 8, fill: k === l ? ACCENT : "#fff",
        stroke: "#3d4a52", "data-testid": `backprop-node-${k}-${j}`, "data-current": String(k === l) }));
    }
    const label = svgEl("text", { x: X(k), y: H - 10, "text-anchor": "middle", "font-size": 11, fill: "#3d4a52" });
    label.textContent = k === 0 ? "x" : k === L ? `ŷ (${k})` : `layer ${k}`;
    svg.append(label);
  });
  return svg;
}

// an operator and the factor after it wrap together: a line never ends on "·" or "="
const op = (s, factor) => el("span", { class: "bp-term" }, el("span", { class: "bp-op", text: s }), factor);
const transpose = (M) => M[0].map((_, j) => M.map((row) => row[j]));

/** The forward pass the recursion starts from: x, every z⁽ˡ⁾ and a⁽ˡ⁾, ŷ, y and L. */
function forwardView(r) {
  const up = [...r.layers].reverse();
  const parts = [column("backprop-x", r.x, { name: "x = a⁽⁰⁾" })];
  for (const layer of up) {
    const l = layer.l, last = l === r.steps;
    parts.push(column(`backprop-z-${l}`, layer.z, { name: `z${sup(l)}` }),
      column(`backprop-a-${l}`, layer.a, { name: last ? "ŷ = softmax(z)" : `a${sup(l)} = ${r.activation}(z)` }));
  }
  parts.push(column("backprop-y", r.y, { name: `y = one-hot(${r.label})` }));
  return el("div", {}, el("h3", { text: "The forward pass" }),
    el("p", { class: "lp-note", text: `Example ${r.index} of the ${r.dataset} training set (standardised inputs), class ${r.label}; network ${r.sizes.join("-")}, σ = ${r.activation}, seed ${r.seed}.` }),
    el("div", { class: "bp-eq" }, ...parts),
    el("p", { class: "lp-readout" }, "Cross-entropy L = −log ŷ", el("sub", { text: String(r.label) }), " = ",
      el("b", { "data-testid": "backprop-loss", "data-value": String(r.loss), text: fmt(r.loss, 5) })));
}

/** Step for layer l: δ⁽ˡ⁾ from δ⁽ˡ⁺¹⁾ (or ŷ − y at the output), then its gradients. */
function stepView(r, l) {
  const at = (k) => r.layers.find((layer) => layer.l === k);
  const layer = at(l), delta = column(`backprop-delta-${l}`, layer.delta, { name: `δ${sup(l)}`, digits: 4 });
  let recursion;
  if (l === r.steps) {
    recursion = [el("p", { class: "lp-readout", text: `The output layer: δ${sup(l)} = ∂L/∂z${sup(l)} = ŷ − y (softmax's Jacobian times ∂L/∂ŷ = −y/ŷ collapses to this).` }),
      el("div", { class: "bp-eq" }, column("backprop-yhat", layer.a, { name: "ŷ", digits: 4 }),
        op("−", column("backprop-target", r.y, { name: "y" })), op("=", delta))];
  } else {
    const above = at(l + 1);
    recursion = [el("p", { class: "lp-readout", text: `Layer ${l}: δ${sup(l)} = (W${sup(l + 1)})ᵀ δ${sup(l + 1)} ⊙ σ′(z${sup(l)}), σ = ${r.activation}.` }),
      el("div", { class: "bp-eq" }, matrix("backprop-Wt", transpose(above.W), { name: `(W${sup(l + 1)})ᵀ` }),
        op("·", column("backprop-upstream", above.delta, { name: `δ${sup(l + 1)}`, digits: 4 })),
        op("⊙", column("backprop-dsigma", layer.dsigma, { name: `σ′(z${sup(l)})` })), op("=", delta))];
  }
  const gradients = el("div", { class: "bp-eq" },
    column("backprop-delta-again", layer.delta, { name: `δ${sup(l)}`, digits: 4 }),
    op("·", matrix("backprop-aprev-t", [layer.a_prev], { name: `(a${sup(l - 1)})ᵀ` })),
    op("=", matrix(`backprop-dW-${l}`, layer.dW, { name: `∂L/∂W${sup(l)}`, digits: 4 })),
    el("span", { class: "bp-term" }, el("span", { class: "lp-note", text: "and" }),
      column(`backprop-db-${l}`, layer.db, { name: `∂L/∂b${sup(l)} = δ${sup(l)}`, digits: 4 })));
  const fd = layer.fd_dW ? el("div", { class: "bp-eq" },
    matrix(`backprop-fd-dW-${l}`, layer.fd_dW, { name: "finite differences", digits: 4 }),
    el("span", { class: "lp-note", text: `largest |analytic − FD| in this layer: ${fmt(layer.fd_max_diff)}` })) : null;
  return el("div", { "data-testid": `backprop-layer-${l}` }, ...recursion,
    el("p", { class: "lp-readout", text: `Its gradients: ∂L/∂W${sup(l)} = δ${sup(l)} (a${sup(l - 1)})ᵀ and ∂L/∂b${sup(l)} = δ${sup(l)}.` }),
    gradients, fd);
}

/** Next / Previous through the steps 0 (the forward pass only) … L (layer 1). */
function stepper(state, onStep) {
  const prev = el("button", { type: "button", "data-testid": "backprop-prev", text: "← Previous" });
  const next = el("button", { type: "button", "data-testid": "backprop-next", text: "Next →" });
  const indicator = el("span", { class: "lp-readout", "data-testid": "backprop-step", "aria-live": "polite" });
  const view = el("div", { class: "lp-scroll", "data-testid": "backprop-step-view" });
  const plot = el("div", { class: "lp-plot bp-net" });
  prev.disabled = next.disabled = true; // until the first result
  function draw() {
    const r = state.result, k = state.step, L = r.steps, l = k === 0 ? null : L - k + 1;
    prev.disabled = k === 0;
    next.disabled = k === L;
    indicator.dataset.step = String(k);
    indicator.dataset.steps = String(L);
    indicator.textContent = k === 0 ? `Step 0 of ${L}: forward pass done, press Next`
      : `Step ${k} of ${L}: layer ${l}${l === L ? " (output)" : ""}`;
    plot.replaceChildren(networkSvg(r.sizes, l));
    view.replaceChildren(k === 0 ? el("p", { class: "lp-note", text: "The backward pass starts at the output layer." }) : stepView(r, l));
  }
  const move = (d) => {
    state.step = Math.max(0, Math.min(state.result.steps, state.step + d));
    state.revealed = Math.max(state.revealed, state.step);
    draw();
    onStep();
  };
  prev.addEventListener("click", () => move(-1));
  next.addEventListener("click", () => move(1));
  return { draw, node: el("div", {}, el("h3", { text: "The backward pass, one layer at a time" }), plot,
    el("p", { class: "lp-note", text: "Orange: the current layer l and the weights W⁽ˡ⁺¹⁾ that carry δ⁽ˡ⁺¹⁾ back to it; blue: the weights W⁽ˡ⁾ whose gradient this step gives." }),
    el("div", { class: "lp-row" }, prev, next, indicator), view) };
}

/** "What you saw", once both parts are met: the numbers of the runs that met them. */
function summarise(box, state) {
  const s = state.stepped, c = state.checked;
  if (!box.allMet() || !s || !c) return;
  const name = (r) => `example ${r.index} of ${r.dataset} through ${r.sizes.join("-")} ${r.activation} (seed ${r.seed})`;
  const same = JSON.stringify(s.config) === JSON.stringify(c.config) && s.index === c.index;
  const summary = { dataset: s.dataset, index: s.index, network: `${s.sizes.join("-")} ${s.activation}`, seed: s.seed,
    loss: s.loss, delta_norm_first: s.delta_norm_first, fd_max_diff: c.fd_max_diff };
  box.done(summary, `Stepping ${name(s)} back from the output: L = ${fmt(s.loss, 4)}, and after ${s.steps} steps of δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾) the first layer's signal had ‖δ⁽¹⁾‖ = ${fmt(s.delta_norm_first, 4)}. Central differences (h = 10⁻⁶) on ${same ? "the same network" : name(c)} matched every analytic ∂L/∂W and ∂L/∂b to within ${fmt(c.fd_max_diff)}.`);
}

/** The finite-difference check of the network on screen. */
function checkSection(ctx, box, state, redraw) {
  const out = el("p", { class: "lp-readout", "data-testid": "backprop-fd-readout", text: "Not checked yet." });
  async function check() {
    const asked = state.request;
    if (!state.result) return;
    try {
      const r = await ctx.lesson({ ...asked, check: true });
      if (state.request !== asked) return; // the learner moved to another network meanwhile
      state.result = r;
      out.replaceChildren(`Every one of the ${r.layers.reduce((n, q) => n + q.dW.flat().length + q.db.length, 0)} weights and biases nudged by ±h = ${fmt(r.fd_h, 1)}: the largest |analytic − finite difference| is `,
        el("b", { "data-testid": "backprop-fd-diff", "data-value": String(r.fd_max_diff), text: fmt(r.fd_max_diff) }),
        r.fd_agrees ? `, within ${fmt(r.fd_tolerance, 1)}: backpropagation computed the true gradient.`
          : `, over ${fmt(r.fd_tolerance, 1)}. A z exactly at a ReLU's kink (z = 0) has no derivative: the engine takes σ′(0) = 0, the difference sees the average of the two slopes.`);
      redraw();
      if (r.fd_agrees) {
        state.checked = r;
        box.meet(1);
      }
      summarise(box, state);
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  return el("div", {}, el("h3", { text: "Is it the true gradient?" }),
    el("p", { class: "lp-note", text: "The server perturbs each parameter θ by ±h, runs the forward pass again and compares (L(θ + h) − L(θ − h)) / 2h with the backpropagated ∂L/∂θ." }),
    el("div", { class: "lp-row" }, el("button", { type: "button", "data-testid": "backprop-fd-check",
      text: "Check with finite differences", onclick: check })), out);
}

export default {
  id: "backprop",
  title: "Backpropagation, step by step",
  section: "5. Backpropagation and the Chain Rule",
  render(root, ctx) {
    const f = form(), state = { request: null, result: null, step: 0, revealed: 0, stepped: null, checked: null };
    const box = challengeBox(ctx, "backprop",
      "Step the error signal back from the output to layer 1, then check the gradients the recursion gave against finite differences.",
      ["every layer's δ revealed, output to layer 1", "finite differences agree within 10⁻⁶"]);
    const onStep = () => {
      const r = state.result;
      if (state.revealed === r.steps && r.complete) {
        state.stepped = r;
        box.meet(0);
        summarise(box, state);
      }
    };
    const steps = stepper(state, onStep);
    const forward = el("div", { "data-testid": "backprop-forward" });
    const redraw = () => {
      forward.replaceChildren(forwardView(state.result));
      steps.draw();
    };
    async function compute() {
      const asked = request(f);
      state.request = asked;
      try {
        const r = await ctx.lesson(asked);
        if (state.request !== asked) return;
        Object.assign(state, { result: r, step: 0, revealed: 0 });
        redraw();
      } catch (e) {
        showError(String(e.message ?? e));
      }
    }
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-backprop",
      text: "Open in the simulator", onclick: () => {
        const p = (ctx.hello.presets || []).find((q) => q.name === "xor_hidden");
        if (state.result) ctx.openSimulator(state.result.config, p ? p.grid : null, null);
      } });
    compute();
    root.append(explanation(),
      el("div", { class: "lp-row" }, field("data set", f.dataset), field("example", f.index), field("σ", f.activation),
        field("hidden units", f.width), field("hidden layers", f.depth), field("seed", f.seed),
        el("button", { type: "button", "data-testid": "backprop-run", text: "Compute", onclick: compute })),
      forward, steps.node, checkSection(ctx, box, state, redraw), box.node, openSim);
  },
};

// Chapter "vanishing": per-layer ‖∂L/∂W⁽ˡ⁾‖ through 20 layers for three set-ups, then an
// exploding run with and without gradient clipping. Every number comes from the lesson.
import { createLineChart } from "../linechart.js";
import { showError } from "../notices.js";
import { el, fmt } from "../util.js";
import { logBars } from "./depthplots.js";
import { challengeBox, field, numberInput, select } from "./depthui.js";

const SETUPS = {
  sigmoid: { label: "20 sigmoid layers", activation: "sigmoid", init: "xavier", norm: "none", preset: "vanishing_sigmoid" },
  relu: { label: "ReLU + He", activation: "relu", init: "he", norm: "none", preset: "deep_relu_he" },
  batchnorm: { label: "sigmoid + BatchNorm", activation: "sigmoid", init: "xavier", norm: "batch", preset: "deep_sigmoid_batchnorm" },
};

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "Backpropagation hands the error back one layer at a time: δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾), and a layer's weight gradient is ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ. Between the output and layer 1 the signal is multiplied by every layer's Wᵀ and σ′(z)." }),
    el("p", { text: "A sigmoid never has a slope above σ′(0) = 1/4, so twenty such factors can shrink the first layer's gradient by ten orders of magnitude or more: the early layers hardly learn. ReLU has slope 1 where it is active, and He's initialisation (Var W = 2/n) keeps the signal's size from layer to layer; BatchNorm re-centres every z⁽ˡ⁾ where σ′ is largest." }),
    el("p", { text: "The opposite failure is a product of factors above 1: with large weights the gradient grows at every layer until it overflows. Clipping rescales the whole gradient before each step, g ← g · min(1, τ/‖g‖), so no step is longer than η·τ." }));
}

/** The three set-ups and the custom one: bars of ‖∂L/∂W⁽ˡ⁾‖ from the lesson's "gradients" part. */
function gradientsSection(ctx, box, state, check) {
  const act = select("vanishing-activation", ["sigmoid", "tanh", "relu"], "sigmoid");
  const init = select("vanishing-init", ["naive", "xavier", "he"], "xavier");
  const norm = select("vanishing-norm", ["none", "batch"], "none");
  const depth = numberInput("vanishing-depth", 20, { min: 1, max: 30, step: 1 });
  const bars = el("div", { class: "lp-plot", "data-testid": "vanishing-bars" });
  const readout = el("p", { class: "lp-readout", "data-testid": "vanishing-readout", text: "–" });
  async function measure() {
    try {
      const r = await ctx.lesson({ part: "gradients", activation: act.value, init: init.value, norm: norm.value,
        depth: Number(depth.value) });
      state.gradients = r;
      const labels = r.grad_W_norm.map((_, i) => String(i + 1)), last = labels.length - 1;
      bars.replaceChildren(logBars(r.grad_W_norm, { labels, yName: "‖∂L/∂W⁽ˡ⁾‖", testid: "vanishing-chart",
        colour: (i) => (i === 0 ? "#f59322" : i === last ? "#0877bd" : "#7f9aa8") }));
      readout.replaceChildren(
        `${r.depth} ${r.activation} layers, ${r.init} init, norm ${r.norm}: ‖∂L/∂W⁽¹⁾‖ (orange) = `,
        el("b", { "data-testid": "vanishing-first", text: fmt(r.grad_W_norm[0]) }), ", ‖∂L/∂W⁽ᴸ⁾‖ (blue) = ",
        el("b", { "data-testid": "vanishing-last", text: fmt(r.grad_W_norm[last]) }), ", ratio ",
        el("b", { "data-testid": "vanishing-ratio", text: fmt(r.ratio) }),
        r.within_100x ? ": within 100×." : ": not within 100×.");
      if (r.within_100x && r.depth >= 20) box.meet(0);
      check();
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  const setupButtons = Object.entries(SETUPS).map(([key, s]) => el("button", {
    type: "button", class: "lp-chip", "data-testid": `vanishing-setup-${key}`, text: s.label,
    onclick: () => {
      state.setup = key;
      [act.value, init.value, norm.value, depth.value] = [s.activation, s.init, s.norm, "20"];
      measure();
    },
  }));
  measure();
  return el("div", {}, el("h3", { text: "Gradient norms layer by layer, at initialisation" }),
    el("div", { class: "lp-row" }, ...setupButtons),
    el("div", { class: "lp-row" }, field("activation", act), field("init", init), field("norm", norm),
      field("hidden layers", depth),
      el("button", { type: "button", "data-testid": "vanishing-measure", text: "Measure", onclick: measure })),
    bars, readout);
}

/** The exploding network trained plain and clipped: the lesson's "clipping" part. */
function clippingSection(ctx, box, state, check) {
  const scale = numberInput("vanishing-scale", 1, { min: 0.01, max: 3, step: 0.01 });
  const maxNorm = numberInput("vanishing-max-norm", 100, { min: 0.001, max: 1e6, step: "any" });
  const chart = createLineChart({ title: "global gradient norm ‖∇L‖ per step", yTitle: "‖∇L‖" });
  chart.setLog(true);
  const out = el("p", { class: "lp-readout", "data-testid": "vanishing-clip-readout", text: "–" });
  async function train() {
    try {
      const r = await ctx.lesson({ part: "clipping", scale: Number(scale.value), max_norm: Number(maxNorm.value),
        steps: 100 });
      state.clipping = r;
      const { plain, clipped } = r.runs;
      const pts = (a) => a.map((v, i) => [i, v]);
      chart.resetRange();
      chart.draw([
        { name: "plain", colour: "#d6455a", points: pts(plain.grad_norm) },
        { name: "clipped: before clipping", colour: "#0877bd", points: pts(clipped.grad_norm) },
        { name: "clipped: applied", colour: "#0877bd", dashed: true, points: pts(clipped.applied_norm) },
      ]);
      out.replaceChildren("Without clipping: ", el("b", { "data-testid": "vanishing-plain-end",
        text: plain.diverged_at === null ? `finite after ${plain.loss.length} steps` : `non-finite at step ${plain.diverged_at}` }),
      `. With τ = ${fmt(r.max_norm)}: largest applied norm `, el("b", { "data-testid": "vanishing-applied", text: fmt(r.largest_applied) }),
      ", final training accuracy ", el("b", { "data-testid": "vanishing-accuracy", text: fmt(clipped.accuracy) }),
      r.clipping_saves ? ": the blow-up is stopped and training goes on." : ": not yet, the run must stay finite and reach 70%.");
      if (r.clipping_saves && r.scale === 1) box.meet(1);
      check();
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  return el("div", {}, el("h3", { text: "Exploding gradients and clipping" }),
    el("p", { class: "lp-note", text: "12 ReLU layers of 32 units, every weight drawn from N(0, scale²); full-batch SGD with η = 0.1 for 100 steps on the circle set, from the same weights with and without clipping." }),
    el("div", { class: "lp-row" }, field("scale", scale), field("clip threshold τ", maxNorm),
      el("button", { type: "button", "data-testid": "vanishing-train", text: "Train both", onclick: train })),
    el("div", { class: "lp-chart" }, chart.node), out);
}

/** "What you saw", once both parts are met: the numbers of the runs that met them. */
function summarise(box, state) {
  const g = state.gradients, c = state.clipping;
  if (!box.allMet() || !g || !c) return;
  const summary = { setup: `${g.activation}, ${g.init} init, norm ${g.norm}`, depth: g.depth, ratio: g.ratio,
    grad_first: g.grad_W_norm[0], max_norm: c.max_norm, plain_diverged_at: c.runs.plain.diverged_at,
    largest_applied: c.largest_applied, accuracy: c.runs.clipped.accuracy };
  box.done(summary, `With ${summary.setup} over ${summary.depth} layers the first layer's gradient was ${fmt(summary.ratio)} × the last layer's. Without clipping the exploding network went non-finite at step ${summary.plain_diverged_at}; clipped at τ = ${fmt(summary.max_norm)}, no applied gradient was longer than ${fmt(summary.largest_applied)} and it reached training accuracy ${fmt(summary.accuracy)}.`);
}

export default {
  id: "vanishing",
  title: "Vanishing and exploding gradients",
  section: "7. The Vanishing Gradient Problem",
  render(root, ctx) {
    const state = { gradients: null, clipping: null, setup: "sigmoid" };
    const box = challengeBox(ctx, "vanishing",
      "Find a set-up of 20 layers whose first-layer gradient ‖∂L/∂W⁽¹⁾‖ is within 100× of the last layer's, and a clipping threshold τ that keeps the exploding network (scale 1) finite and training on (accuracy ≥ 70%).",
      ["a set-up within 100×", "a threshold that stops the blow-up"]);
    const check = () => summarise(box, state);
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-vanishing",
      text: "Open in the simulator", onclick: () => {
        const name = state.clipping && state.clipping.clipping_saves ? "exploding_clipped" : SETUPS[state.setup].preset;
        const p = (ctx.hello.presets || []).find((q) => q.name === name);
        if (p) ctx.openSimulator(p.config, p.grid, p.pause_at);
      } });
    root.append(explanation(), gradientsSection(ctx, box, state, check), clippingSection(ctx, box, state, check),
      box.node, openSim);
  },
};

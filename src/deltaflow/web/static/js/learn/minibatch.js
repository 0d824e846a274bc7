// Chapter "minibatch": SGD's gradient from B examples is a noisy estimate of the whole set's.
// The loss curves of several batch sizes over the same number of examples, and the measured
// E‖g_B − ∇L‖² against σ²(N − B)/(B(N − 1)). Every number comes from the engine.
import { createLineChart } from "../linechart.js";
import { showError } from "../notices.js";
import { el, fmt } from "../util.js";
import { logBars } from "./depthplots.js";
import { challengeBox } from "./depthui.js";

const SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const COLOURS = ["#d6455a", "#f59322", "#0877bd", "#2a9d5c", "#6a3d9a"];

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "Gradient descent steps w ← w − η·∂L/∂w along the gradient of the loss over all N training examples. Stochastic gradient descent estimates it from a mini-batch of B examples: g_B = (1/B)·Σᵢ∈batch ∂Lᵢ/∂w. On average g_B is the true gradient, but each batch misses it by a random amount." }),
    el("p", { text: "How much? Drawing B of N examples without replacement, E‖g_B − ∇L‖² = (σ²/B)·(N − B)/(N − 1), with σ² the spread of single examples' gradients: the noise falls like 1/B and vanishes at B = N. Each step is cheaper and noisier the smaller B is; the same number of examples buys more, noisier steps." }));
}

/** Chips choosing up to five batch sizes; returns {node, chosen()}. */
function sizeChips(testid, initial) {
  const on = new Set(initial);
  const chips = SIZES.map((B) => el("button", { type: "button", class: "lp-chip", "data-testid": `${testid}-${B}`,
    "aria-pressed": String(on.has(B)), text: B === 256 ? "B = N = 256" : `B = ${B}`,
    onclick: (e) => {
      if (on.has(B)) on.delete(B);
      else if (on.size < 5) on.add(B);
      e.currentTarget.setAttribute("aria-pressed", String(on.has(B)));
    } }));
  return { node: el("div", { class: "lp-row", role: "group", "aria-label": "batch sizes" }, ...chips), chosen: () => [...on].sort((a, b) => a - b) };
}

/** The train part: a loss curve per batch size by examples seen, and each curve's noise. */
function trainSection(ctx, box, state, check) {
  const sizes = sizeChips("minibatch-size", [1, 16, 256]);
  const chart = createLineChart({ title: "mini-batch loss (whole-set loss dashed)", yTitle: "loss", xTitle: "examples seen before the step" });
  const table = el("div", { class: "lp-scroll" });
  const out = el("p", { class: "lp-readout", "data-testid": "minibatch-train-readout", text: "–" });
  async function train() {
    try {
      const r = await ctx.lesson({ part: "train", batch_sizes: sizes.chosen(), epochs: 2 });
      state.train = r;
      chart.resetRange();
      chart.draw(r.runs.flatMap((run, k) => [
        { name: `B = ${run.B}`, colour: COLOURS[k], points: run.batch_loss.map((v, i) => [run.seen[i], v]) },
        { name: `B = ${run.B}, whole set`, legend: null, colour: COLOURS[k], dashed: true,
          points: run.sampled_steps.map((s, i) => [run.seen[s], run.set_loss[i]]) },
      ]));
      table.replaceChildren(el("table", { class: "lp-table" },
        el("tr", {}, el("th", { text: "batch size B" }), el("th", { text: "steps" }), el("th", { text: "noise: RMS(batch − whole-set loss)" }), el("th", { text: "final whole-set loss" })),
        ...r.runs.map((run) => el("tr", {}, el("th", { text: String(run.B) }), el("td", { text: String(run.steps) }),
          el("td", { "data-testid": `minibatch-noise-${run.B}`, "data-value": String(run.noise), text: fmt(run.noise) }),
          el("td", { text: fmt(run.final_set_loss) })))));
      out.textContent = r.quieter ? "The larger the batch, the quieter the curve: the noise falls with every step up in B."
        : r.runs.length < 2 ? "Choose at least two batch sizes to compare." : "Not strictly quieter with each larger B this time.";
      if (r.quieter) box.meet(0);
      check();
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  return el("div", {}, el("h3", { text: "Batch size against noise" }),
    el("p", { class: "lp-note", text: "A 2-16-2 tanh network on 256 training points of the moons set, plain SGD with η = 0.1 for 2 epochs (512 examples) at each batch size, from the same initial weights." }),
    sizes.node, el("div", { class: "lp-row" }, el("button", { type: "button", "data-testid": "minibatch-train", text: "Train each", onclick: train })),
    el("div", { class: "lp-chart" }, chart.node), table, out);
}

/** The noise part: measured E‖g_B − ∇L‖² beside the formula at the initial weights. */
function noiseSection(ctx, box, state, check) {
  const sizes = sizeChips("minibatch-noise-size", [1, 4, 16, 64]);
  const plot = el("div", { class: "lp-plot" });
  const out = el("p", { class: "lp-readout", "data-testid": "minibatch-noise-readout", text: "–" });
  async function measure() {
    try {
      const r = await ctx.lesson({ part: "noise", batch_sizes: sizes.chosen() });
      state.noise = r;
      plot.replaceChildren(logBars(r.rows.map((row) => row.measured), { labels: r.rows.map((row) => `B=${row.B}`),
        yName: "measured E‖g_B − ∇L‖²", testid: "minibatch-noise-chart" }),
      el("table", { class: "lp-table" },
        el("tr", {}, el("th", { text: "B" }), el("th", { text: `measured (${r.draws} batches)` }), el("th", { text: "σ²(N − B)/(B(N − 1))" })),
        ...r.rows.map((row) => el("tr", {}, el("th", { text: String(row.B) }),
          el("td", { "data-testid": `minibatch-measured-${row.B}`, "data-value": String(row.measured), text: fmt(row.measured) }),
          el("td", { "data-testid": `minibatch-predicted-${row.B}`, "data-value": String(row.predicted), text: fmt(row.predicted) })))));
      out.textContent = `σ² = ${fmt(r.sigma2)} over N = ${r.n_train} examples; ‖∇L‖ = ${fmt(r.grad_norm)}. `
        + (r.follows ? "Every measurement is within 15% of the formula: the noise falls like 1/B." : "Choose at least two sizes.");
      if (r.follows) box.meet(1);
      check();
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  return el("div", {}, el("h3", { text: "How noisy is one mini-batch's gradient?" }), sizes.node,
    el("div", { class: "lp-row" }, el("button", { type: "button", "data-testid": "minibatch-measure", text: "Measure", onclick: measure })),
    plot, out);
}

function summarise(box, state) {
  const t = state.train, n = state.noise;
  if (!box.allMet() || !t || !n) return;
  const small = t.runs[0], large = t.runs[t.runs.length - 1], first = n.rows[0], last = n.rows[n.rows.length - 1];
  const numbers = { small_B: small.B, small_noise: small.noise, large_B: large.B, large_noise: large.noise,
    noise_B: [first.B, last.B], measured: [first.measured, last.measured] };
  box.done(numbers, `The loss curve's noise was ${fmt(small.noise)} at B = ${small.B} and ${fmt(large.noise)} at B = ${large.B}. One batch's gradient missed ∇L by ${fmt(first.measured)} (squared) at B = ${first.B} and ${fmt(last.measured)} at B = ${last.B}, as σ²(N − B)/(B(N − 1)) says.`);
}

export default {
  id: "minibatch",
  title: "SGD and mini-batches",
  section: "6. Stochastic Gradient Descent",
  render(root, ctx) {
    const state = { train: null, noise: null };
    const box = challengeBox(ctx, "minibatch",
      "Train with two or more batch sizes and see the curve get quieter as B grows; then measure one batch's gradient error at two or more sizes against the 1/B formula.",
      ["larger batches, quieter loss curves", "the gradient's noise follows σ²(N − B)/(B(N − 1))"]);
    const check = () => summarise(box, state);
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-minibatch",
      text: "Open in the simulator", onclick: () => {
        const base = ctx.hello.defaults.config;
        const B = state.train ? state.train.runs[0].B : 1;
        ctx.openSimulator({ ...base, data: { ...base.data, name: "moons" }, optimizer: { ...base.optimizer, name: "sgd", lr: 0.1 }, batch_size: B });
      } });
    root.append(explanation(), trainSection(ctx, box, state, check), noiseSection(ctx, box, state, check), box.node, openSim);
  },
};

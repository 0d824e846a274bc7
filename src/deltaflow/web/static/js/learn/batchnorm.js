// Chapter "batchnorm": one learning rate for a network with and without BatchNorm (loss curves
// from the engine), then one batch through a BatchNorm layer in training and in eval mode.
import { createLineChart } from "../linechart.js";
import { showError } from "../notices.js";
import { el, fmt } from "../util.js";
import { challengeBox, field, numberInput } from "./depthui.js";

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "Batch normalisation rescales each unit's pre-activation over the mini-batch of B examples: μ_B = (1/B) Σᵢ zᵢ, σ²_B = (1/B) Σᵢ (zᵢ − μ_B)², ẑᵢ = (zᵢ − μ_B)/√(σ²_B + ε), and then BN(zᵢ) = γ ẑᵢ + β with γ and β learned." }),
    el("p", { text: "Because every layer's input keeps mean 0 and variance 1 whatever the weights before it did, a larger step η does less damage: a network that overflows without it can still train with it." }),
    el("p", { text: "A single test example has no batch to average over, so in eval mode the layer uses running averages gathered in training: running ← 0.9 · running + 0.1 · (batch statistic), momentum 0.1 (the variance is the unbiased one, × B/(B − 1))." }));
}

function statsTable(r) {
  const n = r.batch_mean.length;
  const head = el("tr", {}, el("th", { text: "" }), ...Array.from({ length: n }, (_, j) => el("th", { text: `unit ${j + 1}` })));
  const row = (name, key, values) => el("tr", {}, el("th", { text: name }),
    ...values.map((v, j) => el("td", { "data-testid": `batchnorm-${key}-${j}`, text: fmt(v, 4) })));
  return el("table", { class: "lp-table", "data-testid": "batchnorm-stats" }, head,
    row("μ_B (this batch)", "batch-mean", r.batch_mean), row("σ²_B (this batch)", "batch-var", r.batch_var),
    row("running mean", "running-mean", r.running_mean), row("running var", "running-var", r.running_var),
    row("example 1 in", "x0", r.x[0]), row("→ train mode", "train0", r.train_out[0]),
    row("→ eval mode", "eval0", r.eval_out[0]));
}

const status = (run) => (run.diverged_at !== null ? `non-finite loss at step ${run.diverged_at}`
  : `test accuracy ${fmt(run.test_accuracy[run.test_accuracy.length - 1])}`);

/** Both networks at the learner's η: the lesson's "rate" part; meets the challenge when only BN trains. */
function rateSection(ctx, box, lr) {
  const chart = createLineChart({ title: "mini-batch loss per step, digits", yTitle: "loss" });
  chart.setLog(true);
  const out = el("p", { class: "lp-readout", "data-testid": "batchnorm-rate-readout", text: "–" });
  async function train() {
    try {
      const r = await ctx.lesson({ part: "rate", lr: Number(lr.value), epochs: 3 });
      const { plain, batchnorm } = r.runs;
      const pts = (a) => a.map((v, i) => [i, v]);
      chart.resetRange();
      chart.draw([{ name: "without BatchNorm", colour: "#d6455a", points: pts(plain.step_loss) },
        { name: "with BatchNorm", colour: "#0877bd", points: pts(batchnorm.step_loss) }]);
      out.replaceChildren(`SGD, η = ${fmt(r.lr)}, ${r.epochs} epochs of mini-batches of ${r.batch_size}. Without BatchNorm: `,
        el("b", { "data-testid": "batchnorm-plain-status", text: status(plain) }), ". With BatchNorm: ",
        el("b", { "data-testid": "batchnorm-bn-status", text: status(batchnorm) }),
        r.only_batchnorm ? ". Only the BatchNorm network trained." : ".");
      if (!r.only_batchnorm) return;
      box.meet(0);
      const summary = { lr: r.lr, plain_diverged_at: plain.diverged_at,
        plain_accuracy: plain.test_accuracy.at(-1) ?? null, bn_accuracy: batchnorm.test_accuracy.at(-1) };
      const plainWords = plain.diverged_at !== null ? `went non-finite at step ${plain.diverged_at}`
        : `reached only ${fmt(summary.plain_accuracy)} test accuracy`;
      box.done(summary, `At η = ${fmt(r.lr)} the plain network ${plainWords}, while the same network with BatchNorm, on the same batches from the same weights, reached ${fmt(summary.bn_accuracy)}.`);
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  train();
  return el("div", {}, el("h3", { text: "The same high learning rate, with and without BatchNorm" }),
    el("p", { class: "lp-note", text: "A 64-64-64-64-10 ReLU network on the 8×8 digits, softmax cross-entropy, plain SGD, the same initial weights and the same mini-batches; the second has BatchNorm after each hidden Dense." }),
    el("div", { class: "lp-row" }, field("learning rate η", lr),
      el("button", { type: "button", "data-testid": "batchnorm-train", text: "Train both", onclick: train })),
    el("div", { class: "lp-chart" }, chart.node), out);
}

/** One batch through a BatchNorm layer in both modes: the lesson's "statistics" part. */
function statsSection(ctx) {
  const passes = numberInput("batchnorm-passes", 0, { min: 0, max: 200, step: 1 });
  const batch = numberInput("batchnorm-batch", 8, { min: 2, max: 32, step: 1 });
  const table = el("div", { class: "lp-scroll" });
  const out = el("p", { class: "lp-readout", "data-testid": "batchnorm-stats-readout", text: "–" });
  async function compare() {
    try {
      const r = await ctx.lesson({ part: "statistics", passes: Number(passes.value), batch: Number(batch.value) });
      table.replaceChildren(statsTable(r));
      out.replaceChildren(`After ${r.passes} training batches (momentum ${r.momentum}), one more batch of ${r.batch} through the layer: the largest difference between its train-mode and eval-mode outputs is `,
        el("b", { "data-testid": "batchnorm-gap", text: fmt(r.gap) }), ".");
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  compare();
  return el("div", {}, el("h3", { text: "Batch statistics against running statistics" }),
    el("p", { class: "lp-note", text: "A BatchNorm layer of two units whose inputs come from N(3, 2²) and N(−1, 0.5²). It first sees some training batches, then one more batch goes through it in both modes." }),
    el("div", { class: "lp-row" }, field("training batches seen", passes), field("batch size B", batch),
      el("button", { type: "button", "data-testid": "batchnorm-stats-run", text: "Compare modes", onclick: compare })),
    table, out);
}

export default {
  id: "batchnorm",
  title: "Batch normalisation",
  section: "8. Batch Normalisation",
  render(root, ctx) {
    const lr = numberInput("batchnorm-lr", 0.1, { min: 0.001, max: 10, step: "any" });
    const box = challengeBox(ctx, "batchnorm",
      "Find a learning rate η at which only the BatchNorm network trains (test accuracy ≥ 90% after 3 epochs) while the plain one does not.",
      ["only the BatchNorm network trains"]);
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-batchnorm",
      text: "Open in the simulator", onclick: () => ctx.openSimulator({
        data: { name: "circle" }, model: { hidden: [16, 16, 16], activation: "relu", norm: "batch" },
        optimizer: { name: "sgd", lr: Number(lr.value) }, batch_size: 32, epochs: 100 }, 24, null) });
    root.append(explanation(), rateSection(ctx, box, lr), statsSection(ctx), box.node, openSim);
  },
};

// Chapter "softmax": logits → probabilities ŷ, cross-entropy −log ŷ_y and its gradient ŷ − y, and
// squared error on the same ŷ, whose gradient vanishes on a confidently wrong output. Every number
// comes from the lesson (the engine's SoftmaxCrossEntropy and MeanSquaredError).
import { createLineChart } from "../linechart.js";
import { showError } from "../notices.js";
import { classRgb, el, fmt, rgb, svgEl } from "../util.js";
import { challengeBox, field, numberInput, select } from "./depthui.js";

const DEFAULT_LOGITS = [2, 1, -1, 0.5, -0.5, 0];
const SUB = "₀₁₂₃₄₅";
const INK = "#3d4a52", GRID = "#e3e8eb";

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "A classifier's last layer gives one raw score per class, the logits z₀, z₁, …, one for each of the C classes. Softmax turns them into probabilities: ŷₖ = e^(zₖ) / Σⱼ e^(zⱼ). Every ŷₖ is positive and together they add up to 1; only the differences between logits matter, so the engine subtracts the largest one before exponentiating and nothing overflows." }),
    el("p", { text: "Cross-entropy scores ŷ against the one-hot label y (1 at the true class, 0 elsewhere): L = −Σₖ yₖ log ŷₖ. Only the true class's term survives, L = −log ŷ_y: zero when all the probability sits on the right class, and without bound as ŷ_y → 0, so a confident mistake costs most." }),
    el("p", { text: "Differentiating through the softmax, the exponentials cancel and the gradient is just ∂L/∂zₖ = ŷₖ − yₖ. At the true class it is ŷ_y − 1: its size 1 − ŷ_y is near 1 precisely when the model is badly wrong." }),
    el("p", { text: "Squared error on the same probabilities, L = (1/C) Σₖ (ŷₖ − yₖ)² (the engine's mean over the C outputs), has to pass its gradient back through the softmax's Jacobian ∂ŷᵢ/∂zₖ = ŷᵢ(δᵢₖ − ŷₖ). That brings a factor ŷ_y into ∂L/∂z_y: the more confidently wrong the output, the weaker the push to fix it." }));
}

/** Bars of ŷ_k on [0, 1], the true class outlined; each bar carries data-value. */
function probabilityBars(r) {
  const W = 640, H = 200, L = 40, R = 8, T = 18, B = 30, C = r.p.length;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "lp-svg", role: "img", "aria-label": "softmax probabilities ŷ",
    "data-testid": "softmax-bars" });
  const Y = (v) => T + (1 - v) * (H - T - B), step = (W - L - R) / C;
  const text = (x, y, s, attrs = {}) => {
    const t = svgEl("text", { x, y, fill: INK, "font-size": 11, "text-anchor": "middle", ...attrs });
    t.textContent = s;
    return t;
  };
  for (const v of [0, 0.5, 1]) {
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), stroke: GRID }));
    svg.append(text(L - 4, Y(v) + 4, String(v), { "text-anchor": "end" }));
  }
  r.p.forEach((v, k) => {
    const x = L + k * step + step * 0.2, mine = k === r.y;
    svg.append(svgEl("rect", { x, width: step * 0.6, y: Y(v), height: Math.max(0, Y(0) - Y(v)), fill: rgb(classRgb(k)),
      stroke: mine ? INK : "none", "stroke-width": 2, "data-value": String(v), "data-testid": `softmax-bar-${k}` }));
    svg.append(text(x + step * 0.3, Y(v) - 4, fmt(v)));
    svg.append(text(x + step * 0.3, H - B + 16, mine ? `class ${k} (true)` : `class ${k}`, { "font-weight": mine ? 700 : 400 }));
  });
  return svg;
}

/** The table of z, ŷ, y, ŷ − y and MSE's gradient, one row per class, full numbers in data-value. */
function exampleTable(r) {
  const cell = (testid, v) => el("td", { "data-testid": testid, "data-value": String(v), text: fmt(v, 4) });
  const head = el("tr", {}, ...["k", "zₖ", "ŷₖ", "yₖ", "ŷₖ − yₖ", "MSE ∂L/∂zₖ"]
    .map((h) => el("th", { text: h })));
  const rows = r.p.map((_, k) => el("tr", { style: k === r.y ? "font-weight: 700" : null },
    el("th", { style: "white-space: nowrap", text: k === r.y ? `${k} = y` : String(k) }),
    cell(`softmax-z-${k}`, r.logits[k]), cell(`softmax-p-${k}`, r.p[k]), cell(`softmax-y-${k}`, r.onehot[k]),
    cell(`softmax-grad-${k}`, r.grad_ce[k]), cell(`softmax-mse-grad-${k}`, r.grad_mse[k])));
  return el("div", { class: "lp-scroll" }, el("table", { class: "lp-table", "data-testid": "softmax-table" }, head, ...rows),
    el("p", { class: "lp-note", text: "ŷₖ − yₖ is cross-entropy's gradient ∂L_CE/∂zₖ; the last column is squared error's gradient, through the softmax. The true class's row is bold." }));
}

function exampleReadout(out, r) {
  const b = (testid, v) => el("b", { "data-testid": testid, "data-value": String(v), text: fmt(v) });
  const verdict = r.predicted === r.y ? `The model's choice, class ${r.predicted}, is right.`
    : `The model picks class ${r.predicted}: wrong${r.confidently_wrong ? ", and confidently so" : ""}.`;
  out.replaceChildren(`${verdict} ŷ_y = `, b("softmax-py", r.p_y), ", L_CE = −log ŷ_y = ", b("softmax-loss-ce", r.loss_ce),
    ", L_MSE = ", b("softmax-loss-mse", r.loss_mse), ". At the true class |∂L_CE/∂z_y| = 1 − ŷ_y = ",
    b("softmax-ce-grad-y", r.ce_grad_y), " and |∂L_MSE/∂z_y| = ", b("softmax-mse-grad-y", r.mse_grad_y),
    ": cross-entropy's is ", b("softmax-ratio", r.ratio), " × MSE's.");
}

function sweepReadout(out, s) {
  const b = (testid, v) => el("b", { "data-testid": testid, "data-value": String(v), text: fmt(v, 4) });
  const last = s.steps.length - 1;
  const own = s.example_step === null ? ` Your example's ŷ_y = ${fmt(s.example_p_y)} lies outside the sweep.`
    : ` Your example's ŷ_y = ${fmt(s.example_p_y)} sits at step ${fmt(s.example_step, 2)}.`;
  out.replaceChildren(`Step 0 (ŷ_y = ${fmt(s.p_y[0])}): cross-entropy `, b("softmax-sweep-ce-0", s.ce_grad[0]), ", MSE ",
    b("softmax-sweep-mse-0", s.mse_grad[0]), `. Step ${last} (ŷ_y = ${fmt(s.p_y[last])}): cross-entropy `,
    b("softmax-sweep-ce-end", s.ce_grad[last]), ", MSE ", b("softmax-sweep-mse-end", s.mse_grad[last]),
    `: cross-entropy's is ${fmt(s.ratio[last])} times MSE's.${own}`);
}

/** The controls: how many classes, a number input per logit, the true class. */
function controls(onChange) {
  const classes = select("softmax-classes", ["2", "3", "4", "5", "6"], "3");
  const y = el("select", { "data-testid": "softmax-y" });
  const logitRow = el("div", { class: "lp-row", "data-testid": "softmax-logits" });
  let inputs = [];
  function build() {
    const C = Number(classes.value), old = inputs.map((i) => i.value), chosen = Math.min(Number(y.value || 0), C - 1);
    inputs = Array.from({ length: C }, (_, k) => {
      const input = numberInput(`softmax-z-input-${k}`, old[k] ?? DEFAULT_LOGITS[k], { min: -30, max: 30, step: "any" });
      input.addEventListener("input", onChange);
      return input;
    });
    logitRow.replaceChildren(...inputs.map((input, k) => field(`z${SUB[k]}`, input)));
    y.replaceChildren(...inputs.map((_, k) => el("option", { value: String(k), text: `class ${k}` })));
    y.value = String(chosen);
  }
  classes.addEventListener("change", () => {
    build();
    onChange();
  });
  y.addEventListener("change", onChange);
  build();
  return {
    node: el("div", {}, el("div", { class: "lp-row" }, field("classes C", classes), field("true class y", y)), logitRow),
    request: () => ({ logits: inputs.map((i) => Number(i.value)), y: Number(y.value) }),
    complete: () => inputs.every((i) => i.value.trim() !== "" && Number.isFinite(Number(i.value))),
  };
}

/** "What you saw": the numbers of the example that met both parts. */
function summarise(box, r) {
  if (!box.allMet() || !r.ce_10x_mse) return;
  const summary = { logits: r.logits, y: r.y, p_y: r.p_y, loss_ce: r.loss_ce, loss_mse: r.loss_mse,
    ce_grad_y: r.ce_grad_y, mse_grad_y: r.mse_grad_y, ratio: r.ratio };
  box.done(summary, `With logits (${r.logits.map((v) => fmt(v)).join(", ")}) and true class ${r.y} the softmax gave ŷ_y = ${fmt(r.p_y)}, a cross-entropy of L = −log ŷ_y = ${fmt(r.loss_ce)}. There cross-entropy's gradient at the true class was |∂L/∂z_y| = ${fmt(r.ce_grad_y)}, while squared error's was only ${fmt(r.mse_grad_y)}: ${fmt(r.ratio)} times weaker.`);
}

/** The example, its bars and table, and the sweep from the same logits: both lesson parts per change. */
function widget(ctx, box, state) {
  const bars = el("div", { class: "lp-plot" });
  const table = el("div", {});
  const out = el("p", { class: "lp-readout", "data-testid": "softmax-readout", text: "–" });
  const chart = createLineChart({ title: "|∂L/∂z_y| at the true class as ŷ_y falls", yTitle: "|∂L/∂z_y|" });
  chart.setLog(true);
  const sweepOut = el("p", { class: "lp-readout", "data-testid": "softmax-sweep-readout", text: "–" });
  let asked = 0, timer = null;
  async function compute() {
    clearTimeout(timer);
    if (!form.complete()) return;
    const id = ++asked, request = form.request();
    try {
      const r = await ctx.lesson({ part: "example", ...request });
      if (id !== asked) return; // a newer request is on its way: draw only the latest
      state.example = r;
      bars.replaceChildren(probabilityBars(r));
      table.replaceChildren(exampleTable(r));
      exampleReadout(out, r);
      if (r.confidently_wrong) box.meet(0);
      if (r.ce_10x_mse) box.meet(1);
      summarise(box, r);
      const s = await ctx.lesson({ part: "sweep", ...request });
      if (id !== asked) return;
      const pts = (a) => a.map((v, i) => [i, v]);
      chart.resetRange();
      chart.draw([{ name: "cross-entropy", colour: "#0877bd", points: pts(s.ce_grad) },
        { name: "squared error (MSE)", colour: "#d6455a", points: pts(s.mse_grad) }]);
      sweepReadout(sweepOut, s);
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  const form = controls(() => {
    clearTimeout(timer);
    timer = setTimeout(compute, 300);
  });
  compute();
  return el("div", {}, el("h3", { text: "One example" }), form.node,
    el("div", { class: "lp-row" }, el("button", { type: "button", "data-testid": "softmax-compute", text: "Compute", onclick: compute })),
    bars, table, out,
    el("h3", { text: "Cross-entropy against squared error, as the true class loses" }),
    el("p", { class: "lp-note", text: "From your logits, only z_y is moved, lower at each step, so that ŷ_y = 0.5 · 10^(−step/10): step 0 is ŷ_y = 0.5, step 37 is ŷ_y ≈ 1e-4; the other classes keep their proportions. The y axis is logarithmic." }),
    el("div", { class: "lp-chart" }, chart.node), sweepOut);
}

export default {
  id: "softmax",
  title: "Softmax and cross-entropy",
  section: "4. Loss Function: Cross-Entropy",
  render(root, ctx) {
    const state = { example: null };
    const box = challengeBox(ctx, "softmax",
      "Make the model confidently wrong: choose logits and a true class so that ŷ_y < 0.05. Then read the two gradients at that example: is cross-entropy's |∂L/∂z_y| at least 10× squared error's?",
      ["confidently wrong: ŷ_y < 0.05", "there, cross-entropy's |∂L/∂z_y| ≥ 10 × MSE's"]);
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-softmax",
      text: "Open in the simulator", onclick: () => {
        const C = state.example ? state.example.classes : 3;
        ctx.openSimulator({ data: { name: "spiral3", classes: C }, model: { hidden: [16, 16], activation: "tanh" },
          loss: "cross_entropy", optimizer: { name: "adam", lr: 0.01 }, batch_size: 32, epochs: 500 }, null, null);
      } });
    root.append(explanation(), widget(ctx, box, state), box.node,
      el("p", { class: "lp-note", text: "In the simulator: a network trained with softmax and cross-entropy on spiral arms, one class per logit." }), openSim);
  },
};

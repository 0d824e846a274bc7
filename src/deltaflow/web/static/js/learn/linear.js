// Chapter "linear": without an activation, depth adds nothing. Two Dense layers shown as
// numbers collapse to one (W⁽²⁾W⁽¹⁾, W⁽²⁾b⁽¹⁾ + b⁽²⁾); then a deep linear network trained on XOR
// stays at chance while the same network with tanh or ReLU separates it. Every number is the engine's.
import { showError } from "../notices.js";
import { diverging, el, fmt, rgb, svgEl, NEG, POS } from "../util.js";
import { challengeBox, field, numberInput, select } from "./depthui.js";
import { column, matrix } from "./matrix.js";

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "Take away σ and a layer is the affine map z = W·a + b. Two of them in a row give z⁽²⁾ = W⁽²⁾(W⁽¹⁾x + b⁽¹⁾) + b⁽²⁾ = (W⁽²⁾W⁽¹⁾)x + (W⁽²⁾b⁽¹⁾ + b⁽²⁾): again one affine map, with the matrix W⁽²⁾W⁽¹⁾ and the bias W⁽²⁾b⁽¹⁾ + b⁽²⁾. By induction a stack of any depth is a single layer." }),
    el("p", { text: "So a deep network without a non-linearity draws the same kind of decision boundary as one layer: a straight line. XOR's classes sit on opposite corners, and no line splits them; one non-linear function between the layers is enough to bend the boundary." }));
}

/** The collapse part: every layer's W and b, the products, and x through both networks. */
function collapseSection(ctx, box, state, check) {
  const seed = numberInput("linear-seed", 0, { min: 0, max: 1000, step: 1 });
  const x1 = numberInput("linear-x1", 1, { min: -100, max: 100, step: "any" });
  const x2 = numberInput("linear-x2", -0.5, { min: -100, max: 100, step: "any" });
  const shown = el("div", { class: "lp-scroll", "data-testid": "linear-matrices" });
  const out = el("p", { class: "lp-readout", "data-testid": "linear-collapse-readout", text: "–" });
  async function compute() {
    try {
      const r = await ctx.lesson({ part: "collapse", seed: Number(seed.value), x: [Number(x1.value), Number(x2.value)] });
      state.collapse = r;
      const [l1, l2] = r.layers;
      shown.replaceChildren(
        el("div", { class: "lp-row" }, matrix("linear-W1", l1.W, { name: "W⁽¹⁾" }), column("linear-b1", l1.b, { name: "b⁽¹⁾" }),
          matrix("linear-W2", l2.W, { name: "W⁽²⁾" }), column("linear-b2", l2.b, { name: "b⁽²⁾" })),
        el("div", { class: "lp-row" }, matrix("linear-W21", r.W21, { name: "W⁽²⁾W⁽¹⁾" }),
          column("linear-b21", r.b21, { name: "W⁽²⁾b⁽¹⁾ + b⁽²⁾" })),
        el("div", { class: "lp-row" }, column("linear-deep", r.deep, { name: "two layers: z⁽²⁾", digits: 6 }),
          column("linear-one", r.one, { name: "one layer: (W⁽²⁾W⁽¹⁾)x + (W⁽²⁾b⁽¹⁾ + b⁽²⁾)", digits: 6 })));
      out.replaceChildren(`For x = (${fmt(r.x[0])}, ${fmt(r.x[1])}) the two outputs differ by at most `,
        el("b", { "data-testid": "linear-gap", "data-value": String(r.gap), text: fmt(r.gap) }),
        r.same ? ": float64 rounding; the two networks are the same function." : ".");
      if (r.same) box.meet(0);
      check();
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  for (const input of [seed, x1, x2]) input.addEventListener("change", compute);
  compute();
  return el("div", {}, el("h3", { text: "Two linear layers are one" }),
    el("div", { class: "lp-row" }, field("weights' seed", seed), field("x₁", x1), field("x₂", x2),
      el("button", { type: "button", "data-testid": "linear-compute", text: "Compute", onclick: compute })), shown, out);
}

/** p(class 1) on the grid as squares, the test points on top: the decision regions. */
function regions(r) {
  const G = r.xs.length, S = 240, cell = S / G;
  const [x0, x1, y0, y1] = [r.xs[0], r.xs[G - 1], r.ys[0], r.ys[G - 1]];
  const svg = svgEl("svg", { viewBox: `0 0 ${S} ${S}`, class: "lp-svg linear-map", role: "img", "shape-rendering": "crispEdges", "data-testid": "linear-map",
    "aria-label": `p(class 1) over the plane, ${r.activation} network on ${r.dataset}` });
  r.p.forEach((row, i) => row.forEach((p, j) => svg.append(svgEl("rect", { x: j * cell, y: S - (i + 1) * cell,
    width: cell + 0.3, height: cell + 0.3, fill: rgb(diverging(2 * p - 1)) }))));
  r.X_test.forEach(([a, b], n) => svg.append(svgEl("circle", { cx: ((a - x0) / (x1 - x0)) * S, cy: S - ((b - y0) / (y1 - y0)) * S,
    r: 3, fill: rgb(r.y_test[n] === 1 ? POS : NEG), stroke: "#fff", "stroke-width": 1 })));
  return svg;
}

/** The train part: the 2 → 16 × 3 → 2 network with the chosen activation on XOR or the circle. */
function trainSection(ctx, box, state, check) {
  const data = select("linear-dataset", ["xor", "circle"], "xor");
  const act = select("linear-activation", ["identity", "tanh", "relu"], "identity");
  const plot = el("div", { class: "lp-plot linear-plot" });
  const out = el("p", { class: "lp-readout", "data-testid": "linear-train-readout", text: "–" });
  const button = el("button", { type: "button", "data-testid": "linear-train", text: "Train 400 steps" });
  button.onclick = async () => {
    button.disabled = true;
    try {
      const r = await ctx.lesson({ part: "train", dataset: data.value, activation: act.value, steps: 400 });
      state.train[r.activation] = r;
      plot.replaceChildren(regions(r));
      const collapsed = r.gap === null ? [] : [". Its single collapsed layer differs from it by at most ",
        el("b", { "data-testid": "linear-train-gap", text: fmt(r.gap) }),
        r.same_class_everywhere ? " and predicts the same class at every test and grid point" : ""];
      out.replaceChildren(`${r.activation === "identity" ? "No activation" : r.activation} on ${r.dataset}: test accuracy `,
        el("b", { "data-testid": "linear-accuracy", "data-value": String(r.test_accuracy), text: fmt(r.test_accuracy) }),
        ` (chance ${fmt(r.chance)}; loss ${fmt(r.loss[0])} → ${fmt(r.loss[r.loss.length - 1])})`, ...collapsed, ".");
      if (r.stuck && r.dataset === "xor") box.meet(1);
      if (r.separates && r.dataset === "xor" && r.activation !== "identity") box.meet(2);
      check();
    } catch (e) {
      showError(String(e.message ?? e));
    } finally {
      button.disabled = false;
    }
  };
  return el("div", {}, el("h3", { text: "A deep linear network on XOR" }),
    el("p", { class: "lp-note", text: "Dense 2 → 16 → 16 → 16 → 2 with the activation between the layers, softmax cross-entropy, full-batch Adam (η = 0.01) on 320 training points; the map is p(class 1) (blue) and the dots the 80 test points." }),
    el("div", { class: "lp-row" }, field("data", data), field("activation", act), button), plot, out);
}

function summarise(box, state) {
  const lin = state.train.identity, bent = state.train.tanh?.separates ? state.train.tanh : state.train.relu;
  if (!box.allMet() || !state.collapse || !lin || !bent) return;
  const numbers = { gap: state.collapse.gap, linear_accuracy: lin.test_accuracy, chance: lin.chance,
    activation: bent.activation, accuracy: bent.test_accuracy };
  box.done(numbers, `Two linear layers and their single collapsed layer differed by ${fmt(numbers.gap)} (rounding). On XOR the deep linear network reached test accuracy ${fmt(numbers.linear_accuracy)} against chance ${fmt(numbers.chance)}; the same network with ${numbers.activation} reached ${fmt(numbers.accuracy)}.`);
}

export default {
  id: "linear",
  title: "Why non-linearity",
  section: "2. The Forward Pass: z = Wx + b (why z = Wx + b alone is not enough)",
  render(root, ctx) {
    const state = { collapse: null, train: {} };
    const box = challengeBox(ctx, "linear",
      "See two linear layers give the same output as their product, train the deep linear network on XOR and watch it stay at chance, then give it a non-linearity that separates XOR (test accuracy ≥ 0.9).",
      ["the two layers and their product agree", "the linear network stays at chance on XOR", "a non-linearity separates XOR"]);
    const check = () => summarise(box, state);
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-linear",
      text: "Open in the simulator", onclick: () => {
        const p = (ctx.hello.presets || []).find((q) => q.name === "xor_hidden");
        if (p) ctx.openSimulator(p.config, p.grid, null);
      } });
    root.append(explanation(), collapseSection(ctx, box, state, check), trainSection(ctx, box, state, check), box.node, openSim);
  },
};

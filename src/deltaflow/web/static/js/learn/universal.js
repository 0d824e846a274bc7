// Chapter "universal": a 1-H-1 network's fit of a 1-D function drawn with each hidden unit's
// term v_j·σ(w_j u + b_j), and a deep narrow against a shallow wide network of equal size.
import { showError } from "../notices.js";
import { el, fmt } from "../util.js";
import { curves } from "./depthplots.js";
import { challengeBox, field, numberInput, select } from "./depthui.js";

const THRESHOLD = 0.05;
const UNIT_COLOURS = ["#f59322", "#0877bd", "#60e0c0", "#4000e0", "#804020", "#a02060", "#c0a060", "#40c0e0"];

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "One hidden layer of H units computes F(x) = Σⱼ vⱼ σ(wⱼ u + bⱼ) + c with u = x/3: each unit is a smooth step at u = −bⱼ/wⱼ, and the output layer scales it by vⱼ. The universal approximation theorem says that with enough units such sums come as close as we like to any continuous function on an interval." }),
    el("p", { text: "It does not say how many units are enough, nor that gradient descent finds them. Below, each fit is trained by the engine (Adam on 256 noise-free samples), and every coloured curve is one unit's term; together with c they add up to the black fit." }),
    el("p", { text: "Depth changes the count: a deep ReLU network can fold the interval onto itself and draw many teeth with few units, where one wide layer needs a unit per corner." }));
}

/** The H-unit fit and its units: the lesson's "width" part; meets the challenge when H is just enough. */
function widthSection(ctx, box, form) {
  const { fn, act, units } = form;
  const plot = el("div", { class: "lp-plot", "data-testid": "universal-fit-plot" });
  const out = el("p", { class: "lp-readout", "data-testid": "universal-readout", text: "–" });
  async function fit() {
    try {
      const r = await ctx.lesson({ part: "width", function: fn.value, activation: act.value,
        units: Number(units.value), threshold: THRESHOLD });
      const series = r.terms.map((t, j) => ({ name: `unit ${j + 1}: v·σ(w u + b)`, values: t,
        colour: UNIT_COLOURS[j % UNIT_COLOURS.length], width: 1 }));
      series.push({ name: "target", values: r.target, colour: "#7f8c8d", width: 2, dashed: true });
      series.push({ name: `fit (sum + c, c = ${fmt(r.bias)})`, values: r.fit, colour: "#1b2328", width: 2.5 });
      plot.replaceChildren(curves(r.x, series, { yName: "F(x)", testid: "universal-fit-svg" }),
        el("p", { class: "lp-note", text: `coloured: the ${r.units} units' terms vⱼσ(wⱼu + bⱼ); dashed grey: ${r.function}(x); black: their sum + c` }));
      const smaller = r.rmse_smaller === null ? [] : ["; with one unit fewer: ",
        el("b", { "data-testid": "universal-rmse-smaller", text: fmt(r.rmse_smaller, 4) })];
      out.replaceChildren(`${r.units} ${r.activation} units (${r.params} parameters, ${r.steps} Adam steps): RMSE `,
        el("b", { "data-testid": "universal-rmse", text: fmt(r.rmse, 4) }), ...smaller,
        r.just_enough ? `. ${r.units} units are enough and ${r.units - 1} are not.` : ".");
      if (!r.just_enough) return;
      box.meet(0);
      box.done({ function: r.function, activation: r.activation, units: r.units, rmse: r.rmse, rmse_smaller: r.rmse_smaller },
        `${r.function} with ${r.units} ${r.activation} units reached RMSE ${fmt(r.rmse, 4)} < ${THRESHOLD}` +
        (r.rmse_smaller === null ? "." : `, while ${r.units - 1} units stayed at ${fmt(r.rmse_smaller, 4)}.`));
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  const quick = [1, 2, 4, 8, 16].map((h) => el("button", { type: "button", class: "lp-chip",
    "data-testid": `universal-h-${h}`, text: `H = ${h}`, onclick: () => { units.value = String(h); fit(); } }));
  fit();
  return el("div", {}, el("h3", { text: "More and more hidden units" }),
    el("div", { class: "lp-row" }, field("function", fn), field("σ", act), field("hidden units H", units),
      el("button", { type: "button", "data-testid": "universal-fit", text: "Fit", onclick: fit })),
    el("div", { class: "lp-row" }, ...quick), plot, out);
}

/** Deep narrow against shallow wide on the sawtooth: the lesson's "depth" part. */
function depthSection(ctx) {
  const layers = numberInput("universal-layers", 3, { min: 1, max: 4, step: 1 });
  const width = numberInput("universal-width", 16, { min: 2, max: 16, step: 1 });
  const teeth = numberInput("universal-teeth", 4, { min: 1, max: 8, step: 1 });
  const plot = el("div", { class: "lp-plot", "data-testid": "universal-depth-plot" });
  const out = el("p", { class: "lp-readout", "data-testid": "universal-depth-readout", text: "–" });
  const name = (n) => n.sizes.join("-");
  const said = (label, n) => [`${label} ${name(n)}: `, el("b", { "data-testid": `universal-${label}-params`, text: String(n.params) }),
    " parameters, RMSE ", el("b", { "data-testid": `universal-${label}-rmse`, text: fmt(n.rmse, 4) })];
  async function race() {
    try {
      const r = await ctx.lesson({ part: "depth", layers: Number(layers.value), width: Number(width.value),
        teeth: Number(teeth.value) });
      const { deep, wide } = r.nets;
      plot.replaceChildren(curves(r.x, [
        { name: "sawtooth", values: r.target, colour: "#7f8c8d", width: 2, dashed: true },
        { name: `deep ${name(deep)}`, values: deep.fit, colour: "#0877bd", width: 2 },
        { name: `wide ${name(wide)}`, values: wide.fit, colour: "#f59322", width: 2 },
      ], { yName: "F(x)", testid: "universal-depth-svg" }),
      el("p", { class: "lp-note", text: `dashed grey: a sawtooth with ${r.teeth} teeth; blue: deep; orange: wide` }));
      out.replaceChildren(`After ${r.steps} Adam steps each: `, ...said("deep", deep), "; ", ...said("wide", wide), ".");
    } catch (e) {
      showError(String(e.message ?? e));
    }
  }
  race();
  return el("div", {}, el("h3", { text: "Deep against wide, the same number of parameters" }),
    el("p", { class: "lp-note", text: "Both ReLU networks are trained 400 steps of full-batch Adam on 512 samples of a sawtooth (the budget of one lesson: the offline experiment trains 3000 steps on 8 teeth). The wide one has one hidden layer with about as many parameters as the deep one." }),
    el("div", { class: "lp-row" }, field("teeth", teeth), field("hidden layers", layers), field("units per layer", width),
      el("button", { type: "button", "data-testid": "universal-depth-train", text: "Train both", onclick: race })),
    plot, out);
}

export default {
  id: "universal",
  title: "Universal approximation",
  section: "9. Universal Approximation Theorem",
  render(root, ctx) {
    const form = { fn: select("universal-function", ["sin", "abs", "step"], "sin"),
      act: select("universal-activation", ["tanh", "sigmoid"], "tanh"),
      units: numberInput("universal-units", 1, { min: 1, max: 32, step: 1 }) };
    const box = challengeBox(ctx, "universal",
      `Reach a fit error (RMSE over [−3, 3]) below ${THRESHOLD} with the fewest units: a number H that gets there while H − 1 units do not.`,
      [`H units reach RMSE < ${THRESHOLD}, H − 1 do not`]);
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-universal",
      text: "Open in the simulator", onclick: () => {
        const p = (ctx.hello.presets || []).find((q) => q.name === "uat_1d");
        ctx.openSimulator({ ...p.config, data: { ...p.config.data, name: form.fn.value },
          model: { ...p.config.model, hidden: [Number(form.units.value)], activation: form.act.value } }, p.grid, null);
      } });
    root.append(explanation(), widthSection(ctx, box, form), depthSection(ctx), box.node, openSim);
  },
};

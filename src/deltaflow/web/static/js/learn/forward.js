// Chapter "forward": one forward pass through a 2-2-1 network, z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and
// a⁽ˡ⁾ = σ(z⁽ˡ⁾), every number drawn on the network and written out as matrices. Each edit asks
// the engine (the `lesson` message); the page only draws what it answers.
import { showError } from "../notices.js";
import { el, fmt, NEG, POS, rgb, svgEl } from "../util.js";
import { challengeBox, field, numberInput, select } from "./depthui.js";
import { column, matrix } from "./matrix.js";

const BOUND = 20; // the server refuses any input, weight or bias beyond ±20
const SUB = ["₀", "₁", "₂"];
const INK = "#3d4a52";

function explanation() {
  return el("div", { class: "lp-text" },
    el("p", { text: "A network computes its prediction one layer at a time, and every layer does the same two things. First a weighted sum: the previous layer's activations a⁽ˡ⁻¹⁾ are multiplied by the weight matrix W⁽ˡ⁾ and the bias b⁽ˡ⁾ is added, z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾. Then each entry of z⁽ˡ⁾ goes through the activation function on its own, a⁽ˡ⁾ = σ(z⁽ˡ⁾)." }),
    el("p", { text: "Row j of W⁽ˡ⁾ holds the weights into unit j, so W⁽ˡ⁾ has one row per unit of layer l and one column per unit of layer l − 1: here W⁽¹⁾ is 2 × 2 and W⁽²⁾ is 1 × 2. The input is the first layer's activation, a⁽⁰⁾ = x, and the last activation is the prediction, ŷ = a⁽²⁾." }),
    el("p", { text: "Below is a 2-2-1 network with sigmoid units, σ(z) = 1/(1 + e⁻ᶻ). Change any number and the engine runs the pass again; the drawing shows each weight on its edge and each unit's z and a, the matrices show the same numbers as the equations compute them." }));
}

/** The number inputs: x, W1, b1, W2, b2 as nested arrays of <input>, shaped like the arrays. */
function makeInputs() {
  const num = (id, label) => numberInput(id, 0, { min: -BOUND, max: BOUND, step: "any", "aria-label": label });
  return {
    x: [0, 1].map((k) => num(`forward-x-${k}`, `x${SUB[k + 1]}`)),
    W1: [0, 1].map((i) => [0, 1].map((j) => num(`forward-W1-${i}-${j}`, `W⁽¹⁾${SUB[i + 1]}${SUB[j + 1]}`))),
    b1: [0, 1].map((i) => num(`forward-b1-${i}`, `b⁽¹⁾${SUB[i + 1]}`)),
    W2: [[0, 1].map((j) => num(`forward-W2-0-${j}`, `W⁽²⁾₁${SUB[j + 1]}`))],
    b2: [num("forward-b2-0", "b⁽²⁾₁")],
  };
}

const mapDeep = (v, f) => (Array.isArray(v) ? v.map((u) => mapDeep(u, f)) : f(v));

/** The inputs' values as the request's arrays, or null while one of them is not a number. */
function readInputs(inputs) {
  let ok = true;
  const values = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, mapDeep(v, (input) => {
    const n = input.value.trim() === "" ? NaN : Number(input.value);
    ok = ok && Number.isFinite(n);
    return n;
  })]));
  return ok ? values : null;
}

function writeInputs(inputs, values) {
  for (const [k, v] of Object.entries(values)) {
    v.forEach((row, i) => (Array.isArray(row)
      ? row.forEach((w, j) => { inputs[k][i][j].value = String(w); })
      : (inputs[k][i].value = String(row))));
  }
}

function inputsForm(inputs, act, onDraw) {
  const flat = (a) => a.flat().map((input) => field(input.getAttribute("aria-label"), input));
  return el("div", { class: "lp-form" },
    el("div", { class: "lp-row" }, el("b", { text: "input" }), ...flat(inputs.x),
      el("button", { type: "button", class: "lp-chip", "data-testid": "forward-x-probe", text: "x = (1, 0)",
        onclick: () => { inputs.x[0].value = "1"; inputs.x[1].value = "0"; inputs.x[0].dispatchEvent(new Event("input")); } })),
    el("div", { class: "lp-row" }, el("b", { text: "layer 1" }), ...flat(inputs.W1), ...flat(inputs.b1)),
    el("div", { class: "lp-row" }, el("b", { text: "layer 2" }), ...flat(inputs.W2), ...flat(inputs.b2)),
    el("div", { class: "lp-row" }, field("hidden σ", act),
      el("button", { type: "button", "data-testid": "forward-draw", text: "Draw new weights", onclick: onDraw })));
}

function svgText(x, y, s, attrs = {}) {
  const t = svgEl("text", { x, y, fill: INK, "font-size": 14, "text-anchor": "middle", ...attrs });
  t.textContent = s;
  return t;
}

// unit centres in the drawing's 640 × 300 box: inputs, hidden layer, output; the boxes are wide enough
// for the 19-unit text that learn-depth.css sets on a phone
const CENTRES = [[[65, 80], [65, 240]], [[330, 80], [330, 240]], [[560, 160]]];
const WIDTHS = [120, 150, 150], UNIT_H = 62;

/** One edge per weight W⁽ˡ⁾ⱼₖ, colour its sign, width its size; its value written on it (in `labels`). */
function edges(lines, labels, r) {
  const widest = Math.max(1e-9, ...[r.W1, r.W2].flat(2).map(Math.abs));
  [r.W1, r.W2].forEach((W, li) => W.forEach((row, j) => row.forEach((w, k) => {
    const [x0, y0] = CENTRES[li][k], [x1, y1] = CENTRES[li + 1][j];
    const a = [x0 + WIDTHS[li] / 2, y0], b = [x1 - WIDTHS[li + 1] / 2, y1];
    lines.append(svgEl("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], stroke: rgb(w < 0 ? NEG : POS),
      "stroke-width": 1 + 5 * (Math.abs(w) / widest), "stroke-linecap": "round" }));
    const t = li === 0 && j !== k ? 0.34 : 0.5; // the first layer's crossing edges are labelled before they cross
    labels.append(svgText(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]) + 5, fmt(w), {
      "data-testid": `forward-edge-W${li + 1}-${j}-${k}`, "data-value": String(w), "font-weight": 600,
      fill: rgb(w < 0 ? NEG : POS), style: "paint-order: stroke; stroke: #fff; stroke-width: 5px" }));
  })));
}

/** A box per unit: the inputs' x, each unit's z and a (ŷ at the output), its bias below it. */
function units(svg, r) {
  const box = ([cx, cy], fill, w) => svgEl("rect", { x: cx - w / 2, y: cy - UNIT_H / 2, width: w, height: UNIT_H,
    rx: 8, fill, stroke: INK, "stroke-width": 1.2 });
  CENTRES[0].forEach((c, k) => {
    svg.append(box(c, "#f4f6f7", WIDTHS[0]), svgText(c[0], c[1] + 5, `x${SUB[k + 1]} = ${fmt(r.x[k])}`,
      { "data-testid": `forward-svg-x-${k}`, "data-value": String(r.x[k]) }));
  });
  const layer = (l, z, a, b, aName) => CENTRES[l].forEach((c, j) => {
    svg.append(box(c, "#fff", WIDTHS[l]),
      svgText(c[0], c[1] - 8, `z = ${fmt(z[j])}`, { "data-testid": `forward-svg-z${l}-${j}`, "data-value": String(z[j]) }),
      svgText(c[0], c[1] + 19, `${aName(j)} = ${fmt(a[j])}`, { "data-testid": `forward-svg-a${l}-${j}`,
        "data-value": String(a[j]), "font-weight": 600 }),
      svgText(c[0], c[1] + UNIT_H / 2 + 18, `b = ${fmt(b[j])}`, { fill: "#66747c", "font-size": 13 }));
  });
  layer(1, r.z1, r.a1, r.b1, (j) => `a${SUB[j + 1]}`);
  layer(2, r.z2, r.y_hat, r.b2, () => "ŷ");
  [["a⁽⁰⁾ = x", 5, "start"], [`layer 1 (${r.activation})`, 320, "middle"], ["layer 2 (sigmoid)", 635, "end"]].forEach(
    ([s, x, anchor]) => svg.append(svgText(x, 22, s, { fill: "#66747c", "font-size": 13, "text-anchor": anchor })));
}

function networkSvg(r) {
  const svg = svgEl("svg", { viewBox: "0 0 640 300", class: "lp-svg", role: "img", "data-testid": "forward-net",
    "aria-label": `2-2-1 network: ŷ = ${fmt(r.y_hat[0])}` });
  const lines = svgEl("g"), labels = svgEl("g");
  edges(lines, labels, r);
  svg.append(lines);
  units(svg, r);
  svg.append(labels); // over the boxes: a long number is never hidden
  return svg;
}

const op = (s) => el("span", { class: "lp-op", text: s });

/** Both layers as matrices: W⁽ˡ⁾ · a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ = z⁽ˡ⁾ → a⁽ˡ⁾, the numbers the engine computed. */
function matrices(r) {
  const d = 4;
  const row = (l, W, aIn, b, z, a, aName) => el("div", { class: "lp-row lp-eq", "data-testid": `forward-layer-${l}` },
    matrix(`forward-m-W${l}`, W, { name: `W⁽${"⁰¹²"[l]}⁾`, digits: d }), op("·"),
    column(l === 1 ? "forward-m-a0" : "forward-m-a1-in", aIn, { name: `a⁽${"⁰¹²"[l - 1]}⁾`, digits: d }), op("+"),
    column(`forward-m-b${l}`, b, { name: `b⁽${"⁰¹²"[l]}⁾`, digits: d }), op("="),
    column(`forward-m-z${l}`, z, { name: `z⁽${"⁰¹²"[l]}⁾`, digits: d }), op(`→ ${l === 1 ? r.activation : "sigmoid"} →`),
    column(`forward-m-${aName}`, a, { name: aName === "yhat" ? "ŷ = a⁽²⁾" : "a⁽¹⁾", digits: d }));
  return el("div", { class: "lp-scroll" }, row(1, r.W1, r.x, r.b1, r.z1, r.a1, "a1"),
    row(2, r.W2, r.a1, r.b2, r.z2, r.y_hat, "yhat"));
}

/** The result as words: the first unit's sum written out, and ŷ (with data-value for tests). */
function readout(r) {
  const [w, b] = [r.W1[0], r.b1[0]];
  return [`Unit 1 of layer 1: z = ${fmt(w[0])}·${fmt(r.x[0])} + ${fmt(w[1])}·${fmt(r.x[1])} + ${fmt(b)} = ${fmt(r.z1[0], 4)}, `,
    `a = ${r.activation}(z) = ${fmt(r.a1[0], 4)}. The output: ŷ = σ(${fmt(r.z2[0], 4)}) = `,
    el("b", { "data-testid": "forward-yhat", "data-value": String(r.y_hat[0]), text: fmt(r.y_hat[0], 4) }),
    r.x[0] === 1 && r.x[1] === 0 ? " for x = (1, 0)." : " (the challenge asks about x = (1, 0))."];
}

const weightsText = (r) => `W⁽¹⁾ = [${r.W1.map((row) => `[${row.map((v) => fmt(v)).join(", ")}]`).join(", ")}], `
  + `b⁽¹⁾ = [${r.b1.map((v) => fmt(v)).join(", ")}], W⁽²⁾ = [${r.W2[0].map((v) => fmt(v)).join(", ")}], b⁽²⁾ = ${fmt(r.b2[0])}`;

/** Tick the parts the server's flags meet; once both are, "What you saw" with both runs' numbers. */
function check(box, state, r) {
  if (r.challenge.high && !state.high) { state.high = r; box.meet(0); }
  if (r.challenge.low && !state.low) { state.low = r; box.meet(1); }
  if (!box.allMet() || state.summarised) return;
  state.summarised = true;
  const { high, low } = state;
  box.done({ high: { W1: high.W1, b1: high.b1, W2: high.W2, b2: high.b2, y_hat: high.y_hat[0] },
    low: { W1: low.W1, b1: low.b1, W2: low.W2, b2: low.b2, y_hat: low.y_hat[0] } },
  `For x = (1, 0), ${weightsText(high)} gave ŷ = ${fmt(high.y_hat[0], 4)} (z⁽²⁾ = ${fmt(high.z2[0], 4)}); `
    + `${weightsText(low)} gave ŷ = ${fmt(low.y_hat[0], 4)} (z⁽²⁾ = ${fmt(low.z2[0], 4)}).`);
}

function widget(ctx, box, state) {
  const inputs = makeInputs();
  const act = select("forward-activation", ["sigmoid", "tanh", "relu"], "sigmoid");
  const net = el("div", { class: "lp-plot", "data-testid": "forward-net-plot" });
  const eqs = el("div", { "data-testid": "forward-matrices" });
  const out = el("p", { class: "lp-readout", "data-testid": "forward-readout", text: "–" });
  let asked = 0;
  function draw(r) {
    state.last = r;
    net.replaceChildren(networkSvg(r));
    eqs.replaceChildren(matrices(r));
    out.replaceChildren(...readout(r));
    out.dataset.for = JSON.stringify({ x: r.x, W1: r.W1, b1: r.b1, W2: r.W2, b2: r.b2, activation: r.activation });
  }
  async function ask(request) {
    const n = ++asked;
    try {
      const r = await ctx.lesson(request);
      if (state.refused) showError(""); // the refusal this chapter showed is answered now
      state.refused = false;
      check(box, state, r);
      if (n === asked) draw(r); // an answer overtaken by a newer edit is not drawn
      return r;
    } catch (e) {
      state.refused = true;
      showError(String(e.message ?? e));
      return null;
    }
  }
  function edited() {
    const values = readInputs(inputs);
    if (values) ask({ ...values, activation: act.value });
  }
  async function drawWeights() {
    state.seed += 1;
    const x = readInputs({ x: inputs.x })?.x ?? [1, 0];
    const r = await ask({ x, seed: state.seed, activation: act.value });
    if (!r) return;
    // the draw rounded to two decimals, so every input shows the number the engine then uses
    const round = (a) => mapDeep(a, (v) => Math.round(v * 100) / 100);
    writeInputs(inputs, { W1: round(r.W1), b1: round(r.b1), W2: round(r.W2), b2: round(r.b2) });
    edited();
  }
  for (const input of Object.values(inputs).flat(2)) input.addEventListener("input", edited);
  act.addEventListener("change", edited);
  writeInputs(inputs, { x: [1, 0] });
  drawWeights();
  return el("div", {}, el("h3", { text: "A 2-2-1 network, every number" }), inputsForm(inputs, act, drawWeights),
    net, out, el("h3", { text: "The same pass as matrices" }), eqs);
}

export default {
  id: "forward",
  title: "The forward pass",
  section: "2. The Forward Pass: z = Wx + b",
  render(root, ctx) {
    const state = { high: null, low: null, summarised: false, last: null, refused: false, seed: -1 }; // the first draw is seed 0
    const box = challengeBox(ctx, "forward",
      "Set the weights and biases so that the network is sure of class 1 for the input x = (1, 0), then so that it is sure of class 0. Only the engine's answer counts.",
      ["make ŷ > 0.9 for x = (1, 0)", "make ŷ < 0.1 for x = (1, 0)"]);
    const openSim = el("button", { type: "button", class: "lp-open", "data-testid": "open-sim-forward",
      text: "Open in the simulator", onclick: () => {
        const p = (ctx.hello.presets || []).find((q) => q.name === "xor_hidden");
        const activation = state.last ? state.last.activation : "sigmoid";
        ctx.openSimulator({ ...p.config, model: { ...p.config.model, hidden: [2], activation } }, p.grid, null);
      } });
    root.append(explanation(), widget(ctx, box, state), box.node,
      el("p", { class: "lp-note", text: "The simulator opens the same 2-2-1 shape on the XOR set, where training chooses these six weights and three biases itself." }),
      openSim);
  },
};

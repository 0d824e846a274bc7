// "Show the maths": one example's forward and backward pass, stage by stage, typeset in
// MathML with the real numbers of the server's explain reply (Explanation.to_dict()).
// Each stage names its unit layer (0 = the input), so the page can light that layer up.
import { expression, formula, m, matrix } from "./mathml.js";
import { clear, el, fmt } from "./util.js";

/**
 * The stages of one explanation, in the order of the maths:
 * [{title, formula, layer, quantities: [q, ...]}], `layer` the unit layer it is about
 * (0 = the input a⁽⁰⁾ = x, L = the output) and `formula` its equations in mathml.js notation.
 */
export function stages(ex) {
  const out = [];
  const L = ex.layers.length;
  const o = ex.output;
  out.push({ title: "Input", formula: "a^(0) = x", layer: 0, quantities: [ex.layers[0].quantities.a_prev] });
  for (const s of ex.layers) {
    const q = s.quantities, l = s.l;
    out.push({ title: `Forward pass, layer ${l} of ${L} (${s.activation})`, layer: l,
      formula: `z^(${l}) = W^(${l})·a^(${l - 1})${q.b ? ` + b^(${l})` : ""},  a^(${l}) = σ(z^(${l}))`,
      quantities: [q.W, q.b, q.z, q.a, q.dsigma] });
  }
  out.push({ title: `Loss (${ex.loss}): L = ${fmt(ex.loss_value, 5)}`, formula: o.loss.equation, layer: L, quantities: [o.y, o.y_hat, o.loss] });
  for (const s of [...ex.layers].reverse()) {
    const q = s.quantities;
    const extra = s.l === L && o.dL_da ? [o.dL_da] : [];
    out.push({ title: `Backward pass, layer ${s.l}`, layer: s.l, formula: `${q.delta.equation},  ${q.dW.equation}`,
      quantities: [...extra, q.delta, q.dW, q.db] });
  }
  out.push({ title: "Gradient with respect to the input", formula: o.dL_dx.equation, layer: 0, quantities: [o.dL_dx] });
  if (ex.lr !== null && ex.lr !== undefined) {
    for (const s of ex.layers) {
      out.push({ title: `Gradient step, layer ${s.l} (η = ${fmt(ex.lr)})`, layer: s.l, formula: `W^(${s.l}) ← W^(${s.l}) − η·∂L/∂W^(${s.l})`,
        quantities: [s.quantities.W_new, s.quantities.b_new] });
    }
  }
  return out.map((s) => ({ ...s, quantities: s.quantities.filter(Boolean) }));
}

/** One quantity: "equation = [numbers]", and its shape as "symbol ∈ ℝ^{n×m}" with its note. */
function quantity(q) {
  const eq = q.equation === q.symbol ? q.symbol : q.equation;
  const shape = q.shape.length ? formula(`${q.symbol} ∈ ℝ^{${q.shape.join("×")}}`) : null;
  return el("div", { class: "quantity", "data-testid": "maths-quantity" },
    m("math", { display: "block" }, expression(eq), m("mo", {}, "="), matrix(q.value)),
    el("div", { class: "shape" }, shape, q.note ? `${shape ? " · " : ""}${q.note}` : ""));
}

function legend() {
  return el("span", { class: "sign-legend", "aria-label": "Number colours: orange negative, blue positive" },
    el("span", { class: "neg", text: "−0.5 negative" }), " ", el("span", { class: "pos", text: "0.5 positive" }));
}

/**
 * hooks: {onExplain(index), onLayer(l | null)}: the index box asks for training point
 * `index`; each shown stage calls onLayer with its unit layer (null when none is shown).
 * show(reply) takes the server's explain reply {split, index, x_raw, y, explanation}, or
 * another example's {title, split, explanation} (a drawn digit: title says what it is).
 */
export function createMaths(root, hooks) {
  let list = [];
  let at = 0;
  let nTrain = 0;
  const index = el("input", { type: "number", min: 0, value: 0, "aria-label": "Training point", "data-testid": "maths-index" });
  const explainBtn = el("button", { type: "button", text: "Explain", "data-testid": "explain", onclick: () => hooks.onExplain(Number(index.value)) });
  const randomBtn = el("button", { type: "button", text: "Random", onclick: () => {
    index.value = Math.floor(Math.random() * Math.max(1, nTrain));
    hooks.onExplain(Number(index.value));
  } });
  const prev = el("button", { type: "button", text: "◀ back", "aria-label": "Previous step of the maths", "data-testid": "maths-prev", onclick: () => go(-1) });
  const next = el("button", { type: "button", text: "next ▶", "aria-label": "Next step of the maths", "data-testid": "maths-next", onclick: () => go(1) });
  const counter = el("span", { class: "counter", "data-testid": "maths-stage" });
  const example = el("div", { class: "example", "data-testid": "maths-example" });
  const body = el("div", { class: "maths-body", "data-testid": "maths-body", tabindex: 0, "aria-label": "The maths of the explained example" });
  root.classList.add("maths-view");
  root.append(el("div", { class: "picker" }, el("label", { text: "Training point #" }), index, explainBtn, randomBtn, prev, counter, next, legend()), example, body);

  function render() {
    clear(body);
    counter.textContent = list.length ? `${at + 1} / ${list.length}` : "";
    prev.disabled = at <= 0;
    next.disabled = at >= list.length - 1;
    hooks.onLayer(list.length ? list[at].layer : null);
    if (!list.length) {
      body.append(el("p", { class: "empty", text: "Press “pick” under the output plot and click a point (or give a training point's number and press Explain): the forward pass, the loss and the backward pass of that one example, with the network's current numbers." }));
      return;
    }
    const s = list[at];
    body.append(el("div", { class: "stage-title", "data-testid": "maths-title" }, s.title, " ", formula(s.formula)), ...s.quantities.map(quantity));
  }

  function go(d) {
    at = Math.max(0, Math.min(list.length - 1, at + d));
    render();
  }

  render();
  return {
    setTrainSize(n) {
      nTrain = n;
      index.max = Math.max(0, n - 1);
    },
    show(reply) {
      list = stages(reply.explanation);
      const x = reply.title ? "" : reply.x_raw.map((v) => fmt(v, 3)).join(", ");
      example.textContent = reply.title ?? `${reply.split === "test" ? "Test" : "Training"} point #${reply.index}: x = (${x}), label ${Array.isArray(reply.y) ? reply.y.map((v) => fmt(v, 3)).join(", ") : fmt(reply.y, 3)}`;
      if (reply.split === "train") index.value = reply.index;
      at = 0;
      render();
    },
    showError(message) {
      list = [];
      example.textContent = "";
      render();
      clear(body).append(el("p", { class: "empty", text: message }));
    },
  };
}

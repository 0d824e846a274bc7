// "Show the maths": one training point's forward and backward pass, stage by stage, with
// the real numbers of the server's explain reply (deltaflow.explain: Explanation.to_dict()).
import { clear, el, fmt } from "./util.js";

const SHOW = 8; // rows and columns shown of a vector or matrix; the rest is elided

function matrix(value) {
  const rows = Array.isArray(value) ? (Array.isArray(value[0]) ? value : [value]) : [[value]];
  const table = el("table", { class: "matrix" });
  rows.slice(0, SHOW).forEach((row) => {
    const cells = row.slice(0, SHOW).map((v) => el("td", { class: v < 0 ? "neg" : v > 0 ? "pos" : "", text: v === null ? "NaN" : fmt(v, 4) }));
    if (row.length > SHOW) cells.push(el("td", { text: `… ${row.length - SHOW} more` }));
    table.append(el("tr", {}, ...cells));
  });
  if (rows.length > SHOW) table.append(el("tr", {}, el("td", { text: `⋮ ${rows.length - SHOW} more rows` })));
  return table;
}

function quantity(q) {
  if (!q) return null;
  const shape = q.shape.length ? ` (${q.shape.join(" × ")})` : "";
  return el("div", { class: "quantity" },
    el("div", { class: "eq", text: `${q.equation}${shape}` }),
    q.note ? el("div", { class: "note", text: q.note }) : null,
    matrix(q.value));
}

/** The stages of one explanation: [{title, quantities: [q, ...]}] in the order of the maths. */
export function stages(ex) {
  const out = [];
  const L = ex.layers.length;
  out.push({ title: "Input: a⁽⁰⁾ = x", quantities: [ex.layers[0].quantities.a_prev] });
  for (const s of ex.layers) {
    const q = s.quantities;
    out.push({ title: `Forward, layer ${s.l} of ${L} (${s.activation}): z = W·a + b, a = σ(z)`, quantities: [q.W, q.b, q.z, q.a, q.dsigma] });
  }
  out.push({ title: `Loss (${ex.loss}): L = ${fmt(ex.loss_value, 5)}`, quantities: [ex.output.y, ex.output.y_hat, ex.output.loss] });
  for (const s of [...ex.layers].reverse()) {
    const q = s.quantities;
    const extra = s.l === L && ex.output.dL_da ? [ex.output.dL_da] : [];
    out.push({ title: `Backward, layer ${s.l}: δ, ∂L/∂W = δ·aᵀ, ∂L/∂b = δ`, quantities: [...extra, q.delta, q.dW, q.db] });
  }
  out.push({ title: "Gradient with respect to the input", quantities: [ex.output.dL_dx] });
  if (ex.lr !== null && ex.lr !== undefined) {
    for (const s of ex.layers) out.push({ title: `Gradient step, layer ${s.l}: W ← W − η·∂L/∂W (η = ${fmt(ex.lr)})`, quantities: [s.quantities.W_new, s.quantities.b_new] });
  }
  return out.map((s) => ({ ...s, quantities: s.quantities.filter(Boolean) }));
}

/** hooks: {onExplain(index)}; show(reply) takes {index, explanation} from the server. */
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
  const counter = el("span", { class: "stage", "data-testid": "maths-stage" });
  const body = el("div", { "data-testid": "maths-body" }, el("p", { class: "empty", text: "Pick a training point and press Explain: the page shows its forward pass (z = W·a + b, a = σ(z)), its loss, and its backward pass (δ, ∂L/∂W) with the network's current numbers." }));
  root.append(el("div", { class: "picker" }, el("label", { text: "Training point #" }), index, explainBtn, randomBtn, prev, counter, next), body);

  function render() {
    clear(body);
    counter.textContent = list.length ? `${at + 1} / ${list.length}` : "";
    prev.disabled = at <= 0;
    next.disabled = at >= list.length - 1;
    if (!list.length) return;
    const s = list[at];
    body.append(el("div", { class: "stage", "data-testid": "maths-title", text: s.title }), ...s.quantities.map(quantity));
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
      const ex = reply.explanation || reply;
      const header = reply.x ? `point #${reply.index}: x = (${reply.x.map((v) => fmt(v, 3)).join(", ")}), label ${reply.y}` : "";
      list = stages(ex);
      if (header) list[0].title += ` — ${header}`;
      at = 0;
      render();
    },
    showError(message) {
      list = [];
      render();
      clear(body).append(el("p", { class: "empty", text: message }));
    },
  };
}

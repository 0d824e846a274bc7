// The network view's pieces that are plain elements: each column's head (layer number and
// controls) and the ‖δ⁽ˡ⁾‖ readout under a column. v: the view's state {arch, g, from}.
import { label } from "./labels.js";
import { el } from "./util.js";

/** ‖δ⁽ᶜ⁾‖ as a number and a bar on the fixed log scale, under column c: {box, value, fill}. */
export function deltaNorm(v, c) {
  const value = el("output", { "data-testid": `column-delta-${c}`, text: "–" });
  const fill = el("i");
  const last = c === v.g.cols.length - 1, width = Math.max(12, Math.min(64, v.g.step - 2));
  const box = el("div", { class: `dnorm${last ? " out" : ""}${v.g.step < 66 ? " tight" : ""}${v.g.step < 26 ? " bare" : ""}`, style: `left:${v.g.x[c]}px;top:${v.g.bottom + 4}px;width:${width}px`,
    title: `‖δ⁽${c}⁾‖: the norm of layer ${c}'s error signal δ = ∂L/∂z, for the batch (fixed log scale)` },
  value, el("span", { class: "dbar" }, fill));
  return { box, value, fill };
}

/**
 * The head of column c (n neurons): its name by layer number (unit layers from 1, the output
 * "layer L · output"), and for a hidden layer with room the −/+ buttons and the activation menu.
 */
export function columnHead(v, c, n, last, hooks) {
  const tiny = v.g.mode === "tiny", narrow = v.g.mode !== "wide";
  // below 18 px a column cannot hold a two-digit number: only layers 1, 5, 10, … and the output are numbered
  const numbered = v.g.step >= 18 || c === 1 || last || (c % 5 === 0 && v.g.cols.length - 1 - c >= 2);
  const name = last ? `layer ${c} · output, ${n} unit${n > 1 ? "s" : ""}` : `layer ${c}, ${n} neuron${n > 1 ? "s" : ""}, ${v.arch.activations[c - 1]}`;
  const head = el("div", { class: `col-head ${v.g.mode}${last ? " out" : ""}${c === 0 ? " in" : ""}`, title: c === 0 ? null : name,
    style: c === 0 ? `width:${v.g.x[0] + v.g.sizes[0] / 2}px` : `left:${v.g.x[c]}px;width:${Math.max(12, Math.min(110, v.g.step - 2))}px` });
  if (c === 0) {
    head.append(el("b", { text: v.arch.togglable ? "features" : "inputs" }), el("span", { text: `${v.from[0].length} on` }));
  } else if (last) {
    head.append(el("b", { text: narrow ? String(c) : `layer ${c} · output` }), el("span", { text: narrow ? "out" : `${n} unit${n > 1 ? "s" : ""}` }));
  } else if (tiny) {
    head.append(el("b", { text: numbered ? String(c) : "" }), el("span", { "data-testid": `width-${c}`, text: numbered ? String(n) : "" }));
  } else {
    const pm = el("div", { class: "pm" },
      el("button", { type: "button", "aria-label": `Remove a neuron from layer ${c}`, "data-testid": `remove-neuron-${c}`, text: "−", onclick: () => hooks.onNeurons(c, -1) }),
      el("span", { "data-testid": `width-${c}`, text: narrow ? String(n) : `${n} neuron${n > 1 ? "s" : ""}` }),
      el("button", { type: "button", "aria-label": `Add a neuron to layer ${c}`, "data-testid": `add-neuron-${c}`, text: "+", onclick: () => hooks.onNeurons(c, 1) }));
    const select = el("select", { "aria-label": `Activation of layer ${c}`, "data-testid": `activation-${c}`, onchange: (e) => hooks.onActivation(c, e.target.value) },
      ...v.arch.activationChoices.map((a) => el("option", { value: a, text: label("activations", a), selected: a === v.arch.activations[c - 1] })));
    head.append(el("b", { text: narrow ? String(c) : `layer ${c}` }), pm, select);
  }
  return head;
}

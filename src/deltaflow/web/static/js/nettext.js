// The network view in words: tooltips and aria-labels of neurons and edges, from the last frame.
// v: the view's state {arch, g, from, marks, frame}; c: column (0 = the inputs, c = unit layer c).
import { fmt } from "./util.js";

export const SATURATED = 1, DEAD = 2; // the bits of a frame's units[l][j]

/** Unit layer l's `key` array (W, b, gW, gb) in the last frame, or null. */
export function param(v, l, key) {
  const layer = v.frame && v.frame.layers[l];
  return layer ? layer[key] : null;
}

/** The mark of neuron j of column c in words ("" for none). */
export function markText(v, c, j) {
  const m = c > 0 && v.marks[c] ? v.marks[c][j] : 0;
  return m & DEAD ? "dead (z ≤ 0 for the whole batch)" : m & SATURATED ? "saturated (σ′ ≈ 0)" : "";
}

export function neuronName(v, c, j) {
  return c === v.g.cols.length - 1 ? `layer ${c} · output, unit ${j + 1}` : `layer ${c}, neuron ${j + 1}`;
}

/** A neuron's aria-label: layer, index, activation, bias, marks, and what Enter does. */
export function neuronLabel(v, c, j) {
  if (c === 0) {
    const f = v.arch.inputs[j];
    return `feature ${f.label}, ${f.active ? "on" : "off"}${v.arch.togglable ? "; Enter toggles it" : ""}`;
  }
  const b = param(v, c - 1, "b"), mark = markText(v, c, j);
  return `${neuronName(v, c, j)}, ${v.arch.activations[c - 1]}, b = ${b ? fmt(b[j], 4) : "–"}${mark ? `, ${mark}` : ""}; Enter edits its weights`;
}

/** The tooltip of edge W(l+1)[i, j]: w and ∂L/∂w. */
export function edgeText(v, l, i, j) {
  const k = i * v.from[l].length + j;
  const W = param(v, l, "W"), gW = param(v, l, "gW");
  return `W(${l + 1})[${i + 1},${j + 1}] = ${W ? fmt(W[k], 4) : "–"}\n∂L/∂w = ${gW ? fmt(gW[k], 3) : "–"}\nclick to edit`;
}

/** The tooltip of a neuron: b, ∂L/∂b = the batch mean of δ_j, the range of a_j(x), its mark. */
export function neuronText(v, c, j) {
  if (c === 0) {
    const f = v.arch.inputs[j];
    return `${f.label}${v.arch.togglable ? (f.active ? " (on; click to remove)" : " (off; click to add)") : ""}`;
  }
  const b = param(v, c - 1, "b"), gb = param(v, c - 1, "gb");
  const map = v.frame && v.frame.heatmaps && v.frame.heatmaps.neurons && v.frame.heatmaps.neurons[c - 1];
  const hm = map && map[j], mark = markText(v, c, j);
  return `${neuronName(v, c, j)}\nb = ${b ? fmt(b[j], 4) : "–"}\n∂L/∂b = δ (batch mean) = ${gb ? fmt(gb[j], 3) : "–"}` +
    `${hm ? `\na(x) from ${fmt(hm.lo, 3)} to ${fmt(hm.hi, 3)} over the plane` : ""}${mark ? `\n${mark}` : ""}`;
}

// The network view: input features, hidden layers and outputs as columns of neurons fitted
// into the container. Two tools (netmode.js): the Neural Network Simulator (a_j(x) in each
// neuron, edges by w) and the Backpropagation Visualiser (edges by |∂L/∂w|, neurons by
// |∂L/∂b_j|, ‖δ⁽ˡ⁾‖ under each column, the backward pass animated). Edges are one canvas
// (netedges.js), hit-tested by geometry (netlayout.js); neurons are focusable elements.
import { columnHead, deltaNorm } from "./netcolumns.js";
import { createEdges, logScale } from "./netedges.js";
import { moveFrom, openEditor } from "./netkeys.js";
import { edgeAt, layout } from "./netlayout.js";
import { createMaps } from "./netmaps.js";
import { legend } from "./netmode.js";
import { createPulse } from "./netpulse.js";
import { DEAD, SATURATED, edgeText, neuronLabel, neuronName, neuronText, param } from "./nettext.js";
import { clear, el, fmt } from "./util.js";

const MAX_EDGES = 4096; // per pair of layers; beyond this the edges are not drawn
const REACH = 5; // px from an edge that still hovers or clicks it

/**
 * root: the container (the view fills its box and redraws when the box changes).
 * hooks: {onToggleFeature(name), onNeurons(l, delta), onActivation(l, name), onEditWeight(l, i, j, v),
 * onEditBias(l, i, v), onHoverNeuron(c, j) / onHoverNeuron(null), tooltip: {show(text, {clientX, clientY}), hide()}}
 * (l: unit layer from 0, as the server's messages; c: column, 0 = the inputs, c = unit layer c).
 */
export function createNetwork(root, hooks) {
  const v = { arch: null, g: null, from: [], marks: [], frame: null }; // what the pieces read (nettext.js)
  let drawn = [], edges = null, maps = null, nodes = [], dnorms = [];
  let mode = "forward", lastStep = -1;
  let hover = null; // {c, j} | {l, i, j}, with the pointer's {clientX, clientY}
  let focus = [0, 0], highlighted = null;
  const edgeCanvas = el("canvas", { class: "edges", "aria-hidden": "true", "data-testid": "edge-canvas" });
  const mapCanvas = el("canvas", { class: "maps", "aria-hidden": "true", "data-testid": "map-canvas" });
  const pulse = createPulse(el("canvas", { class: "pulse", "aria-hidden": "true", "data-testid": "pulse-canvas" }), (c) => {
    dnorms.forEach((d, k) => d && d.box.classList.toggle("lit", k === c));
  });
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", "Network: arrow keys move between neurons; Enter toggles a feature or edits a neuron's weights");

  function columns() {
    return [v.arch.inputs.length, ...v.arch.hidden, v.arch.nOut];
  }

  function build() {
    if (hover) setHover(null, hover); // its neuron or edge may not exist in the new geometry
    pulse.stop();
    clear(root);
    const cols = columns();
    // the key below the neurons: one row, or two where it does not fit (it wraps); ‖δ‖ above it when backward
    const w = root.clientWidth, foot = mode === "backward" ? 30 + (w < 880 ? 54 : 28) : w < 640 ? 40 : 26;
    v.g = layout(cols, root.clientWidth || 600, root.clientHeight || 360, foot);
    const active = v.arch.inputs.map((f, j) => (f.active ? j : -1)).filter((j) => j >= 0);
    v.from = cols.slice(0, -1).map((n, l) => (l === 0 ? active : [...Array(n).keys()]));
    drawn = v.from.map((f, l) => f.length * cols[l + 1] <= MAX_EDGES);
    edges = createEdges(edgeCanvas, v.g, v.from, drawn);
    maps = createMaps(mapCanvas, v.g, v.arch.inputs);
    root.append(edgeCanvas, mapCanvas, pulse.canvas);
    pulse.setGeometry(v.g, edges);
    pulse.highlight(highlighted);
    root.classList.toggle("backward", mode === "backward");
    root.classList.toggle("small", v.g.label < 64);
    nodes = [];
    v.marks = [];
    dnorms = [];
    cols.forEach((n, c) => buildColumn(c, n));
    root.append(legend(mode, () => pulse.play()));
    if (focus[0] >= cols.length || focus[1] >= cols[focus[0]]) focus = [0, 0];
    nodes[focus[0]][focus[1]].tabIndex = 0;
    if (v.frame) update(v.frame);
    else maps.draw(null, [], mode);
  }

  function buildColumn(c, n) {
    const last = c === v.g.cols.length - 1;
    const col = el("div", { class: "col", "data-testid": c === 0 ? "feature-col" : last ? "output-col" : `layer-col-${c}` });
    root.append(col);
    col.append(columnHead(v, c, n, last, hooks));
    nodes[c] = [];
    v.marks[c] = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      const feature = c === 0 ? v.arch.inputs[j] : null;
      const node = el("div", {
        class: `neuron${feature ? " feature" : ""}${feature && !feature.active ? " off" : ""}`,
        style: `left:${v.g.x[c]}px;top:${v.g.y[c][j]}px;width:${v.g.sizes[c]}px;height:${v.g.sizes[c]}px`,
        "data-testid": feature ? `feature-${feature.name}` : `neuron-${c}-${j}`,
        role: feature ? "switch" : "button", tabindex: "-1", "aria-haspopup": feature ? null : "dialog",
        "aria-checked": feature ? String(feature.active) : null,
      });
      node.dataset.c = String(c);
      node.dataset.j = String(j);
      // a compact strip of many inputs names every labelEvery-th (each says its name on hover and to a reader)
      if (feature && j % v.g.labelEvery === 0) node.append(el("span", { class: "label", text: feature.label, title: feature.name }));
      nodes[c].push(node);
      node.setAttribute("aria-label", neuronLabel(v, c, j));
      root.append(node);
    }
    if (c > 0 && mode === "backward") root.append((dnorms[c] = deltaNorm(v, c)).box);
  }

  function editWeight(l, i, j, event) {
    hooks.tooltip.hide();
    const W = param(v, l, "W");
    openEditor({ title: "Edit a weight", x: event.clientX + 8, y: event.clientY + 8,
      rows: [{ label: `W(${l + 1})[${i + 1},${j + 1}]`, value: W ? W[i * v.from[l].length + j] : 0, testid: "weight-input", onSet: (x) => hooks.onEditWeight(l, i, j, x) }] });
  }

  /** The editor of neuron j of column c ≥ 1: its incoming weights W⁽ᶜ⁾[j, ·] and its bias. */
  function editNeuron(c, j) {
    hooks.tooltip.hide();
    const l = c - 1, W = param(v, l, "W"), b = param(v, l, "b"), nIn = v.from[l].length;
    const source = (k) => (l === 0 ? ` (${v.arch.inputs[v.from[0][k]].label})` : "");
    const rows = v.from[l].map((_, k) => ({ label: `W(${c})[${j + 1},${k + 1}]${source(k)}`, value: W ? W[j * nIn + k] : 0, testid: `weight-input-${k}`, onSet: (x) => hooks.onEditWeight(l, j, k, x) }));
    rows.push({ label: `b(${c})[${j + 1}]`, value: b ? b[j] : 0, testid: "bias-input", onSet: (x) => hooks.onEditBias(l, j, x) });
    const r = nodes[c][j].getBoundingClientRect();
    openEditor({ title: `${neuronName(v, c, j)}: incoming weights and bias`, rows, x: r.right + 8, y: r.top, onClose: () => nodes[c] && nodes[c][j] && nodes[c][j].focus() });
  }

  function pointer(e) {
    const node = e.target.closest && e.target.closest(".neuron");
    if (node) return { c: Number(node.dataset.c), j: Number(node.dataset.j) };
    if (e.target !== root && e.target !== edgeCanvas) return null; // a head's buttons and menus
    const r = root.getBoundingClientRect();
    return edgeAt(v.g, v.from, drawn, e.clientX - r.left, e.clientY - r.top, REACH);
  }

  function setHover(next, e) {
    const neuron = (h) => (h && h.c !== undefined && h.c > 0 ? h : null);
    const was = neuron(hover), now = neuron(next);
    if ((was && was.c) !== (now && now.c) || (was && was.j) !== (now && now.j)) hooks.onHoverNeuron(now ? now.c : null, now ? now.j : undefined);
    hover = next ? { ...next, clientX: e.clientX, clientY: e.clientY } : null;
    root.classList.toggle("on-edge", Boolean(next && next.l !== undefined));
    showTooltip();
  }

  function showTooltip() {
    if (!hover) return hooks.tooltip.hide();
    hooks.tooltip.show(hover.l !== undefined ? edgeText(v, hover.l, hover.i, hover.j) : neuronText(v, hover.c, hover.j), hover);
  }

  root.addEventListener("mousemove", (e) => v.g && setHover(pointer(e), e));
  root.addEventListener("mouseleave", (e) => setHover(null, e));
  root.addEventListener("click", (e) => {
    const hit = v.g && pointer(e);
    if (!hit) return;
    if (hit.l !== undefined) editWeight(hit.l, hit.i, hit.j, e);
    else if (hit.c === 0 && v.arch.togglable) hooks.onToggleFeature(v.arch.inputs[hit.j].name);
  });
  root.addEventListener("keydown", (e) => {
    const node = e.target.closest && e.target.closest(".neuron");
    if (!node) return;
    const c = Number(node.dataset.c), j = Number(node.dataset.j);
    const next = moveFrom(e.key, c, j, v.g.cols);
    if (next) {
      e.preventDefault();
      moveFocus(next);
    } else if (e.key === "Enter" || (e.key === " " && c === 0)) {
      e.preventDefault();
      if (c > 0) editNeuron(c, j);
      else if (v.arch.togglable) hooks.onToggleFeature(v.arch.inputs[j].name);
    }
  });
  root.addEventListener("focusin", (e) => {
    const node = e.target.closest && e.target.closest(".neuron");
    if (node) node.setAttribute("aria-label", neuronLabel(v, Number(node.dataset.c), Number(node.dataset.j)));
  });

  function moveFocus([c, j]) {
    nodes[focus[0]][focus[1]].tabIndex = -1;
    focus = [c, j];
    nodes[c][j].tabIndex = 0;
    nodes[c][j].focus();
  }

  /** ‖δ⁽ˡ⁾‖ under each column: the number and its bar on the fixed log scale. */
  function paintDeltaNorms(frame) {
    for (let l = 0; l < frame.layers.length; l++) {
      const d = dnorms[l + 1], norm = frame.layers[l].delta_norm;
      if (!d) continue;
      d.value.textContent = v.g.step >= 66 || !Number.isFinite(norm) ? fmt(norm, 2) : norm.toExponential(0).replace("e+", "e");
      d.value.dataset.value = String(norm);
      d.fill.style.width = `${(Number.isFinite(norm) ? logScale(norm) : 1) * 100}%`;
      d.fill.classList.toggle("bad", !Number.isFinite(norm));
    }
  }

  /** units[l]: Uint8Array(n_out) of unit layer l, bit 1 saturated, bit 2 dead (absent: no marks). */
  function paintMarks(units) {
    for (let c = 1; c < v.g.cols.length; c++) {
      const u = units && units[c - 1], m = v.marks[c];
      for (let j = 0; j < m.length; j++) {
        const bits = u && j < u.length ? u[j] : 0;
        if (bits === m[j]) continue;
        m[j] = bits;
        nodes[c][j].classList.toggle("sat", Boolean(bits & SATURATED) && !(bits & DEAD));
        nodes[c][j].classList.toggle("dead", Boolean(bits & DEAD));
        nodes[c][j].setAttribute("aria-label", neuronLabel(v, c, j));
      }
    }
  }

  /** frame: {step, layers: [{W, b, gW, gb, delta_norm, …}], heatmaps: {neurons: [l][j] maps}, units?} */
  function update(frame) {
    v.frame = frame;
    if (!v.g) return;
    edges.draw(frame.layers, mode);
    maps.draw(frame.heatmaps && frame.heatmaps.neurons, frame.layers, mode);
    if (mode === "backward") paintDeltaNorms(frame);
    paintMarks(frame.units);
    if (hover) showTooltip();
    if (document.activeElement && document.activeElement.dataset && document.activeElement.parentNode === root && document.activeElement.dataset.c) {
      const a = document.activeElement;
      a.setAttribute("aria-label", neuronLabel(v, Number(a.dataset.c), Number(a.dataset.j)));
    }
    if (mode === "backward" && frame.step > lastStep && lastStep >= 0) pulse.play();
    lastStep = frame.step;
  }

  let pending = false;
  new ResizeObserver(() => {
    if (pending || !v.arch) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (v.g && (Math.round(v.g.width) !== root.clientWidth || Math.round(v.g.height) !== root.clientHeight)) build();
    });
  }).observe(root);

  return {
    /** arch: {inputs: [{name, label, active, heatmap}], togglable, hidden: [widths], activations (one per
     *  unit layer, the output's last), activationChoices (hello's), nOut} */
    setArchitecture(next) {
      v.arch = next;
      lastStep = -1;
      build();
    },
    update,
    /** "forward" (Neural Network Simulator) or "backward" (Backpropagation Visualiser). */
    setMode(next) {
      mode = next;
      if (v.arch) build();
    },
    /** Highlight unit layer l's column and its incoming edges (l from 1; 0 = the inputs), or none (null). */
    highlightLayer(l) {
      highlighted = l;
      pulse.highlight(l);
    },
  };
}

// The network view: input features, hidden layers and outputs as columns of neurons fitted
// into the container. Two tools (netmode.js): the Neural Network Simulator (a_j(x) in each
// neuron, edges by w) and the Backpropagation Visualiser (edges by |∂L/∂w|, neurons by
// |∂L/∂b_j|, ‖δ⁽ˡ⁾‖ under each column, the backward pass animated). Edges are one canvas
// (netedges.js), hit-tested by geometry (netlayout.js); neurons are focusable elements.
import { label } from "./labels.js";
import { createEdges, logScale } from "./netedges.js";
import { moveFrom, openEditor } from "./netkeys.js";
import { edgeAt, layout } from "./netlayout.js";
import { createMaps } from "./netmaps.js";
import { legend } from "./netmode.js";
import { createPulse } from "./netpulse.js";
import { clear, el, fmt } from "./util.js";

const MAX_EDGES = 4096; // per pair of layers; beyond this the edges are not drawn
const REACH = 5; // px from an edge that still hovers or clicks it
const SATURATED = 1, DEAD = 2; // the bits of a frame's units[l][j]

/**
 * root: the container (the view fills its box and redraws when the box changes).
 * hooks: {onToggleFeature(name), onNeurons(l, delta), onActivation(l, name), onEditWeight(l, i, j, v),
 * onEditBias(l, i, v), onHoverNeuron(c, j) / onHoverNeuron(null), tooltip: {show(text, {clientX, clientY}), hide()}}
 * (l: unit layer from 0, as the server's messages; c: column, 0 = the inputs, c = unit layer c).
 */
export function createNetwork(root, hooks) {
  let arch = null, g = null, from = [], drawn = [], edges = null, maps = null;
  let nodes = [], marks = [], dnorms = [];
  let lastFrame = null, mode = "forward", lastStep = -1;
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
    return [arch.inputs.length, ...arch.hidden, arch.nOut];
  }

  function build() {
    if (hover) setHover(null, hover); // its neuron or edge may not exist in the new geometry
    pulse.stop();
    clear(root);
    const cols = columns();
    // the key below the neurons: one row, or two where it does not fit (it wraps); ‖δ‖ above it when backward
    const w = root.clientWidth, foot = mode === "backward" ? 30 + (w < 880 ? 54 : 28) : w < 640 ? 40 : 26;
    g = layout(cols, root.clientWidth || 600, root.clientHeight || 360, foot);
    const active = arch.inputs.map((f, j) => (f.active ? j : -1)).filter((j) => j >= 0);
    from = cols.slice(0, -1).map((n, l) => (l === 0 ? active : [...Array(n).keys()]));
    drawn = from.map((f, l) => f.length * cols[l + 1] <= MAX_EDGES);
    edges = createEdges(edgeCanvas, g, from, drawn);
    maps = createMaps(mapCanvas, g, arch.inputs);
    root.append(edgeCanvas, mapCanvas, pulse.canvas);
    pulse.setGeometry(g, edges);
    pulse.highlight(highlighted);
    root.classList.toggle("backward", mode === "backward");
    root.classList.toggle("small", g.label < 64);
    nodes = [];
    marks = [];
    dnorms = [];
    cols.forEach((n, c) => buildColumn(c, n));
    root.append(legend(mode, () => pulse.play()));
    if (focus[0] >= cols.length || focus[1] >= cols[focus[0]]) focus = [0, 0];
    nodes[focus[0]][focus[1]].tabIndex = 0;
    if (lastFrame) update(lastFrame);
    else maps.draw(null, [], mode);
  }

  function buildColumn(c, n) {
    const last = c === g.cols.length - 1;
    const col = el("div", { class: "col", "data-testid": c === 0 ? "feature-col" : last ? "output-col" : `layer-col-${c}` });
    root.append(col);
    col.append(columnHead(c, n, last));
    nodes[c] = [];
    marks[c] = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      const feature = c === 0 ? arch.inputs[j] : null;
      const node = el("div", {
        class: `neuron${feature ? " feature" : ""}${feature && !feature.active ? " off" : ""}`,
        style: `left:${g.x[c]}px;top:${g.y[c][j]}px;width:${g.size}px;height:${g.size}px`,
        "data-testid": feature ? `feature-${feature.name}` : `neuron-${c}-${j}`,
        role: feature ? "switch" : "button", tabindex: "-1", "aria-haspopup": feature ? null : "dialog",
        "aria-checked": feature ? String(feature.active) : null,
      });
      node.dataset.c = String(c);
      node.dataset.j = String(j);
      if (feature) node.append(el("span", { class: "label", text: feature.label }));
      nodes[c].push(node);
      node.setAttribute("aria-label", neuronLabel(c, j));
      root.append(node);
    }
    if (c > 0 && mode === "backward") dnorms[c] = deltaNorm(c);
  }

  /** ‖δ⁽ᶜ⁾‖ as a number and a bar on the fixed log scale, under column c. */
  function deltaNorm(c) {
    const value = el("output", { "data-testid": `delta-norm-${c}`, text: "–" });
    const fill = el("i");
    const last = c === g.cols.length - 1, width = Math.max(12, Math.min(64, g.step - 2));
    const box = el("div", { class: `dnorm${last ? " out" : ""}${g.step < 66 ? " tight" : ""}${g.step < 26 ? " bare" : ""}`, style: `left:${g.x[c]}px;top:${g.bottom + 4}px;width:${width}px`,
      title: `‖δ⁽${c}⁾‖: the norm of layer ${c}'s error signal δ = ∂L/∂z, for the batch (fixed log scale)` },
    value, el("span", { class: "dbar" }, fill));
    root.append(box);
    return { box, value, fill };
  }

  function columnHead(c, n, last) {
    const tiny = g.mode === "tiny", narrow = g.mode !== "wide";
    // below 18 px a column cannot hold a two-digit number: only layers 1, 5, 10, … and the output are numbered
    const numbered = g.step >= 18 || c === 1 || last || (c % 5 === 0 && g.cols.length - 1 - c >= 2);
    const name = last ? `layer ${c} · output, ${n} unit${n > 1 ? "s" : ""}` : `layer ${c}, ${n} neuron${n > 1 ? "s" : ""}, ${arch.activations[c - 1]}`;
    const head = el("div", { class: `col-head ${g.mode}${last ? " out" : ""}${c === 0 ? " in" : ""}`, title: c === 0 ? null : name,
      style: c === 0 ? `width:${g.x[0] + g.size / 2}px` : `left:${g.x[c]}px;width:${Math.max(12, Math.min(110, g.step - 2))}px` });
    if (c === 0) {
      head.append(el("b", { text: arch.togglable ? "features" : "inputs" }), el("span", { text: `${from[0].length} on` }));
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
        ...arch.activationChoices.map((v) => el("option", { value: v, text: label("activations", v), selected: v === arch.activations[c - 1] })));
      head.append(el("b", { text: narrow ? String(c) : `layer ${c}` }), pm, select);
    }
    return head;
  }

  function param(l, key) {
    const layer = lastFrame && lastFrame.layers[l];
    return layer ? layer[key] : null;
  }

  function markText(c, j) {
    const m = c > 0 && marks[c] ? marks[c][j] : 0;
    return m & DEAD ? "dead (z ≤ 0 for the whole batch)" : m & SATURATED ? "saturated (σ′ ≈ 0)" : "";
  }

  function neuronName(c, j) {
    return c === g.cols.length - 1 ? `layer ${c} · output, unit ${j + 1}` : `layer ${c}, neuron ${j + 1}`;
  }

  function neuronLabel(c, j) {
    if (c === 0) {
      const f = arch.inputs[j];
      return `feature ${f.label}, ${f.active ? "on" : "off"}${arch.togglable ? "; Enter toggles it" : ""}`;
    }
    const b = param(c - 1, "b"), mark = markText(c, j);
    return `${neuronName(c, j)}, ${arch.activations[c - 1]}, b = ${b ? fmt(b[j], 4) : "–"}${mark ? `, ${mark}` : ""}; Enter edits its weights`;
  }

  function edgeText(l, i, j) {
    const k = i * from[l].length + j;
    const W = param(l, "W"), gW = param(l, "gW");
    return `W(${l + 1})[${i + 1},${j + 1}] = ${W ? fmt(W[k], 4) : "–"}\n∂L/∂w = ${gW ? fmt(gW[k], 3) : "–"}\nclick to edit`;
  }

  function neuronText(c, j) {
    if (c === 0) {
      const f = arch.inputs[j];
      return `${f.label}${arch.togglable ? (f.active ? " (on; click to remove)" : " (off; click to add)") : ""}`;
    }
    const b = param(c - 1, "b"), gb = param(c - 1, "gb");
    const map = lastFrame && lastFrame.heatmaps && lastFrame.heatmaps.neurons && lastFrame.heatmaps.neurons[c - 1];
    const hm = map && map[j], mark = markText(c, j);
    return `${neuronName(c, j)}\nb = ${b ? fmt(b[j], 4) : "–"}\n∂L/∂b = δ (batch mean) = ${gb ? fmt(gb[j], 3) : "–"}` +
      `${hm ? `\na(x) from ${fmt(hm.lo, 3)} to ${fmt(hm.hi, 3)} over the plane` : ""}${mark ? `\n${mark}` : ""}`;
  }

  function editWeight(l, i, j, event) {
    hooks.tooltip.hide();
    const W = param(l, "W");
    openEditor({ title: "Edit a weight", x: event.clientX + 8, y: event.clientY + 8,
      rows: [{ label: `W(${l + 1})[${i + 1},${j + 1}]`, value: W ? W[i * from[l].length + j] : 0, testid: "weight-input", onSet: (v) => hooks.onEditWeight(l, i, j, v) }] });
  }

  /** The editor of neuron j of column c ≥ 1: its incoming weights W⁽ᶜ⁾[j, ·] and its bias. */
  function editNeuron(c, j) {
    hooks.tooltip.hide();
    const l = c - 1, W = param(l, "W"), b = param(l, "b"), nIn = from[l].length;
    const source = (k) => (l === 0 ? ` (${arch.inputs[from[0][k]].label})` : "");
    const rows = from[l].map((_, k) => ({ label: `W(${c})[${j + 1},${k + 1}]${source(k)}`, value: W ? W[j * nIn + k] : 0, testid: `weight-input-${k}`, onSet: (v) => hooks.onEditWeight(l, j, k, v) }));
    rows.push({ label: `b(${c})[${j + 1}]`, value: b ? b[j] : 0, testid: "bias-input", onSet: (v) => hooks.onEditBias(l, j, v) });
    const r = nodes[c][j].getBoundingClientRect();
    openEditor({ title: `${neuronName(c, j)}: incoming weights and bias`, rows, x: r.right + 8, y: r.top, onClose: () => nodes[c] && nodes[c][j] && nodes[c][j].focus() });
  }

  function pointer(e) {
    const node = e.target.closest && e.target.closest(".neuron");
    if (node) return { c: Number(node.dataset.c), j: Number(node.dataset.j) };
    if (e.target !== root && e.target !== edgeCanvas) return null; // a head's buttons and menus
    const r = root.getBoundingClientRect();
    return edgeAt(g, from, drawn, e.clientX - r.left, e.clientY - r.top, REACH);
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
    hooks.tooltip.show(hover.l !== undefined ? edgeText(hover.l, hover.i, hover.j) : neuronText(hover.c, hover.j), hover);
  }

  root.addEventListener("mousemove", (e) => g && setHover(pointer(e), e));
  root.addEventListener("mouseleave", (e) => setHover(null, e));
  root.addEventListener("click", (e) => {
    const hit = g && pointer(e);
    if (!hit) return;
    if (hit.l !== undefined) editWeight(hit.l, hit.i, hit.j, e);
    else if (hit.c === 0 && arch.togglable) hooks.onToggleFeature(arch.inputs[hit.j].name);
  });
  root.addEventListener("keydown", (e) => {
    const node = e.target.closest && e.target.closest(".neuron");
    if (!node) return;
    const c = Number(node.dataset.c), j = Number(node.dataset.j);
    const next = moveFrom(e.key, c, j, g.cols);
    if (next) {
      e.preventDefault();
      moveFocus(next);
    } else if (e.key === "Enter" || (e.key === " " && c === 0)) {
      e.preventDefault();
      if (c > 0) editNeuron(c, j);
      else if (arch.togglable) hooks.onToggleFeature(arch.inputs[j].name);
    }
  });
  root.addEventListener("focusin", (e) => {
    const node = e.target.closest && e.target.closest(".neuron");
    if (node) node.setAttribute("aria-label", neuronLabel(Number(node.dataset.c), Number(node.dataset.j)));
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
      const d = dnorms[l + 1], v = frame.layers[l].delta_norm;
      if (!d) continue;
      d.value.textContent = g.step >= 66 || !Number.isFinite(v) ? fmt(v, 2) : v.toExponential(0).replace("e+", "e");
      d.value.dataset.value = String(v);
      d.fill.style.width = `${(Number.isFinite(v) ? logScale(v) : 1) * 100}%`;
      d.fill.classList.toggle("bad", !Number.isFinite(v));
    }
  }

  /** units[l]: Uint8Array(n_out) of unit layer l, bit 1 saturated, bit 2 dead (absent: no marks). */
  function paintMarks(units) {
    for (let c = 1; c < g.cols.length; c++) {
      const u = units && units[c - 1], m = marks[c];
      for (let j = 0; j < m.length; j++) {
        const v = u && j < u.length ? u[j] : 0;
        if (v === m[j]) continue;
        m[j] = v;
        nodes[c][j].classList.toggle("sat", Boolean(v & SATURATED) && !(v & DEAD));
        nodes[c][j].classList.toggle("dead", Boolean(v & DEAD));
        nodes[c][j].setAttribute("aria-label", neuronLabel(c, j));
      }
    }
  }

  /** frame: {step, layers: [{W, b, gW, gb, delta_norm, …}], heatmaps: {neurons: [l][j] maps}, units?} */
  function update(frame) {
    lastFrame = frame;
    if (!g) return;
    edges.draw(frame.layers, mode);
    maps.draw(frame.heatmaps && frame.heatmaps.neurons, frame.layers, mode);
    if (mode === "backward") paintDeltaNorms(frame);
    paintMarks(frame.units);
    if (hover) showTooltip();
    if (document.activeElement && document.activeElement.dataset && document.activeElement.parentNode === root && document.activeElement.dataset.c) {
      const a = document.activeElement;
      a.setAttribute("aria-label", neuronLabel(Number(a.dataset.c), Number(a.dataset.j)));
    }
    if (mode === "backward" && frame.step > lastStep && lastStep >= 0) pulse.play();
    lastStep = frame.step;
  }

  let pending = false;
  new ResizeObserver(() => {
    if (pending || !arch) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (g && (Math.round(g.width) !== root.clientWidth || Math.round(g.height) !== root.clientHeight)) build();
    });
  }).observe(root);

  return {
    /** arch: {inputs: [{name, label, active, heatmap}], togglable, hidden: [widths], activations (one per
     *  unit layer, the output's last), activationChoices (hello's), nOut} */
    setArchitecture(next) {
      arch = next;
      lastStep = -1;
      build();
    },
    update,
    /** "forward" (Neural Network Simulator) or "backward" (Backpropagation Visualiser). */
    setMode(next) {
      mode = next;
      if (arch) build();
    },
    /** Highlight unit layer l's column and its incoming edges (l from 1; 0 = the inputs), or none (null). */
    highlightLayer(l) {
      highlighted = l;
      pulse.highlight(l);
    },
  };
}

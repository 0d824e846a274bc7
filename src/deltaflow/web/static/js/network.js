// The network view: input features, hidden layers and outputs as columns of neurons, each
// neuron showing its activation a_j(x) over the input plane; edges coloured by sign and
// sized by |w| (or by |∂L/∂w| at a toggle). Hover shows a value, click edits a weight.
import { label } from "./labels.js";
import { clear, diverging, el, fmt, paintHeatmap, rgb, svgEl } from "./util.js";

const HEAD = 62; // room above the columns for the +/− buttons and the activation menu
const LABEL = 64; // room left of the feature column for the feature names
const MAX_EDGES = 4096; // per pair of layers; beyond this the edges are not drawn

/**
 * root: the container. hooks: {onToggleFeature(name), onNeurons(l, delta), onActivation(l, name),
 * onEditWeight(l, i, j, value), tooltip: {show(text, event), hide()}}.
 */
export function createNetwork(root, hooks) {
  let arch = null;
  let geometry = null;
  let edges = []; // edges[l][i * nIn + j]: the path from input j to neuron i of unit layer l
  let canvases = []; // canvases[c][j]: the heatmap canvas of neuron j in column c
  let lastFrame = null;
  let edgeMode = "weight";

  function layout() {
    const cols = [arch.inputs.length, ...arch.hidden, arch.nOut];
    // below ~38 px a column's +/− buttons and activation menu overlap the next: scroll instead
    const width = Math.max(root.clientWidth, LABEL + 40 + (cols.length - 1) * 38);
    const tallest = Math.max(...cols);
    const height = Math.max(300, Math.min(520, tallest * 34));
    const step = (width - LABEL - 40) / Math.max(1, cols.length - 1);
    const size = Math.max(6, Math.min(30, Math.floor((height - 10) / (tallest * 1.22)), Math.floor(step * 0.62)));
    const pitch = Math.max(size * 1.22, Math.min(size + 14, (height - 10) / tallest));
    const x = cols.map((_, c) => LABEL + 10 + c * step);
    const y = cols.map((n) => Array.from({ length: n }, (_, j) => HEAD + (height - n * pitch) / 2 + (j + 0.5) * pitch));
    return { cols, width, height: height + HEAD, size, x, y, step };
  }

  function build() {
    clear(root);
    geometry = layout();
    const g = geometry;
    root.style.height = `${g.height + 6}px`;
    const svg = svgEl("svg", { class: "edges", width: g.width, height: g.height });
    root.append(svg);
    edges = [];
    canvases = [];
    const active = arch.inputs.map((f, j) => ({ ...f, j })).filter((f) => f.active);
    // unit layer l connects column l (its inputs) to column l + 1; the first takes active features only
    for (let l = 0; l < g.cols.length - 1; l++) {
      const from = l === 0 ? active.map((f) => f.j) : [...Array(g.cols[l]).keys()];
      const nOut = g.cols[l + 1];
      const paths = new Array(nOut * from.length);
      if (nOut * from.length <= MAX_EDGES) {
        for (let i = 0; i < nOut; i++) {
          from.forEach((src, j) => {
            const x1 = g.x[l] + g.size / 2, y1 = g.y[l][src];
            const x2 = g.x[l + 1] - g.size / 2, y2 = g.y[l + 1][i];
            const mx = (x1 + x2) / 2;
            const p = svgEl("path", {
              d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
              "data-testid": `edge-${l + 1}-${i}-${j}`, stroke: "#ccc", "stroke-width": 1,
            });
            p.addEventListener("mousemove", (e) => hooks.tooltip.show(edgeText(l, i, j), e));
            p.addEventListener("mouseleave", () => hooks.tooltip.hide());
            p.addEventListener("click", (e) => editWeight(l, i, j, e));
            svg.append(p);
            paths[i * from.length + j] = p;
          });
        }
      }
      edges.push(paths);
    }
    g.cols.forEach((n, c) => buildColumn(c, n));
    if (lastFrame) update(lastFrame);
  }

  function buildColumn(c, n) {
    const g = geometry;
    const last = c === g.cols.length - 1;
    const col = el("div", { class: "col", "data-testid": c === 0 ? "feature-col" : last ? "output-col" : `layer-col-${c}` });
    root.append(col);
    col.append(columnHead(c, n, last));
    canvases[c] = [];
    for (let j = 0; j < n; j++) {
      const feature = c === 0 ? arch.inputs[j] : null;
      const node = el("div", {
        class: `neuron${feature ? " feature" : ""}${feature && !feature.active ? " off" : ""}`,
        style: `left:${g.x[c]}px;top:${g.y[c][j]}px;width:${g.size}px;height:${g.size}px`,
        "data-testid": feature ? `feature-${feature.name}` : `neuron-${c}-${j}`,
      });
      const canvas = el("canvas", { width: 1, height: 1 });
      node.append(canvas);
      canvases[c].push(canvas);
      if (feature) {
        node.append(el("span", { class: "label", text: feature.label }));
        node.setAttribute("role", "switch");
        node.setAttribute("aria-checked", String(feature.active));
        node.setAttribute("aria-label", `feature ${feature.label}`);
        node.tabIndex = 0;
        if (feature.heatmap) paintHeatmap(canvas, feature.heatmap);
        if (arch.togglable) {
          node.addEventListener("click", () => hooks.onToggleFeature(feature.name));
          node.addEventListener("keydown", (e) => (e.key === " " || e.key === "Enter") && hooks.onToggleFeature(feature.name));
        }
      }
      node.addEventListener("mousemove", (e) => hooks.tooltip.show(neuronText(c, j), e));
      node.addEventListener("mouseleave", () => hooks.tooltip.hide());
      root.append(node);
    }
  }

  function columnHead(c, n, last) {
    const x = geometry.x[c];
    const narrow = geometry.step < 72;
    const head = el("div", { class: `col-head${narrow ? " narrow" : ""}`, style: `left:${x}px;width:${Math.min(96, geometry.step - 4)}px` });
    if (c === 0) {
      head.append(el("b", { text: arch.togglable ? "features" : "inputs" }), el("span", { text: `${arch.inputs.filter((f) => f.active).length} on` }));
    } else if (last) {
      head.append(el("b", { text: "output" }), el("span", { text: `${n} unit${n > 1 ? "s" : ""}` }));
    } else {
      const l = c; // hidden layer number, 1-based
      const pm = el("div", { class: "pm" },
        el("button", { type: "button", "aria-label": `Add a neuron to layer ${l}`, "data-testid": `add-neuron-${l}`, text: "+", onclick: () => hooks.onNeurons(l, 1) }),
        el("button", { type: "button", "aria-label": `Remove a neuron from layer ${l}`, "data-testid": `remove-neuron-${l}`, text: "−", onclick: () => hooks.onNeurons(l, -1) }));
      const select = el("select", { "aria-label": `Activation of layer ${l}`, "data-testid": `activation-${l}`, onchange: (e) => hooks.onActivation(l, e.target.value) },
        ...arch.activationChoices.map((v) => el("option", { value: v, text: label("activations", v), selected: v === arch.activations[l - 1] })));
      head.append(pm, el("span", { "data-testid": `width-${l}`, title: `${n} neurons`, text: narrow ? String(n) : `${n} neuron${n > 1 ? "s" : ""}` }), select);
    }
    return head;
  }

  function param(l, key) {
    const layer = lastFrame && lastFrame.layers[l];
    return layer ? layer[key] : null;
  }

  function edgeText(l, i, j) {
    const nIn = edges[l].length / geometry.cols[l + 1];
    const W = param(l, "W"), gW = param(l, "gW");
    const k = i * nIn + j;
    return `W(${l + 1})[${i + 1},${j + 1}] = ${W ? fmt(W[k], 4) : "–"}\n∂L/∂w = ${gW ? fmt(gW[k], 3) : "–"}\nclick to edit`;
  }

  function neuronText(c, j) {
    if (c === 0) {
      const f = arch.inputs[j];
      return `${f.label}${arch.togglable ? (f.active ? " (on; click to remove)" : " (off; click to add)") : ""}`;
    }
    const l = c - 1;
    const b = param(l, "b"), gb = param(l, "gb");
    const name = c === geometry.cols.length - 1 ? `output ${j + 1}` : `layer ${c}, neuron ${j + 1}`;
    return `${name}\nb = ${b ? fmt(b[j], 4) : "–"}\n∂L/∂b = ${gb ? fmt(gb[j], 3) : "–"}`;
  }

  function editWeight(l, i, j, event) {
    hooks.tooltip.hide();
    const W = param(l, "W");
    const nIn = edges[l].length / geometry.cols[l + 1];
    const input = el("input", { type: "number", step: "any", "aria-label": "New weight value", "data-testid": "weight-input", value: W ? W[i * nIn + j] : 0 });
    const box = el("form", { class: "editor", style: `left:${event.clientX + 8}px;top:${event.clientY + 8}px` },
      el("label", { text: `W(${l + 1})[${i + 1},${j + 1}] ` }), input, el("button", { type: "submit", text: "set" }));
    const close = () => box.remove();
    box.addEventListener("submit", (e) => {
      e.preventDefault();
      const v = Number(input.value);
      if (Number.isFinite(v)) hooks.onEditWeight(l, i, j, v);
      close();
    });
    input.addEventListener("keydown", (e) => e.key === "Escape" && close());
    input.addEventListener("blur", () => setTimeout(close, 150));
    document.body.append(box);
    input.select();
  }

  function update(frame) {
    lastFrame = frame;
    if (!geometry) return;
    const grads = edgeMode === "grad";
    let gmax = 0;
    if (grads) for (const layer of frame.layers) if (layer.gW) for (const v of layer.gW) gmax = Math.max(gmax, Math.abs(v) || 0);
    frame.layers.forEach((layer, l) => {
      const paths = edges[l];
      const values = grads ? layer.gW : layer.W;
      if (!paths || !values || values.length !== paths.length) return;
      for (let k = 0; k < paths.length; k++) {
        const p = paths[k];
        if (!p) continue;
        const v = values[k];
        // weights on a linear scale; gradients on a 5-decade log scale so vanishing shows as thin edges
        const s = grads ? Math.max(0, 1 + Math.log10(Math.abs(v) / gmax || 1e-12) / 5) : Math.min(1, Math.abs(v) / 2);
        p.setAttribute("stroke", Number.isFinite(v) ? rgb(diverging(v >= 0 ? 0.35 + 0.65 * s : -0.35 - 0.65 * s)) : "#b3261e");
        p.setAttribute("stroke-width", (0.4 + 5 * s).toFixed(2));
        p.setAttribute("stroke-opacity", (0.35 + 0.65 * s).toFixed(2));
      }
    });
    const maps = frame.heatmaps && frame.heatmaps.neurons;
    if (maps) {
      maps.forEach((layerMaps, l) => {
        const cs = canvases[l + 1];
        if (cs) layerMaps.forEach((hm, j) => hm && cs[j] && paintHeatmap(cs[j], hm));
      });
    }
  }

  return {
    /** arch: {inputs: [{name, label, active, heatmap}], togglable, hidden: [widths], activations,
     *  activationChoices (hello's), nOut} */
    setArchitecture(next) {
      arch = next;
      build();
    },
    update,
    setEdgeMode(mode) {
      edgeMode = mode;
      if (lastFrame) update(lastFrame);
    },
    resize() {
      if (arch) build();
    },
  };
}

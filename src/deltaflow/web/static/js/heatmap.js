// The output view: the network's prediction over the input plane (or its curve for a 1-D
// function) with the training points (white rim) and the test points (dark rim), axes and a
// legend; or, while a neuron is hovered, that neuron's map a(x) large. A click adds a point
// of the chosen class; in pick mode it picks the nearest point as the example to explain.
// Keyboard: the plot is focusable; arrows move a cursor, Enter adds or picks there (outinput.js).
import { clear, el, fmt, svgEl } from "./util.js";
import { drawAxes, legend } from "./outaxes.js";
import { bindInput } from "./outinput.js";
import { createPainter } from "./outpaint.js";
import { drawCurve, drawPoints, drawRing, nearest } from "./outpoints.js";

const MARGIN = { left: 40, right: 8, top: 6, bottom: 31 }; // room for tick values, axis names, the pick toggle

/** The view's elements and state: everything the functions below draw from. */
function build(root, hooks) {
  const bg = el("canvas", { class: "bg", width: 1, height: 1 });
  const fg = el("canvas", { class: "points", tabindex: 0, role: "application", "data-testid": "output-heatmap" });
  const pickBtn = el("button", { type: "button", class: "pick", "aria-pressed": "false", "aria-label": "Pick an example to explain",
    title: "Pick an example to explain: a click on the plot picks the nearest point for “Show the maths”", "data-testid": "pick-mode" },
  el("svg", { viewBox: "0 0 16 16", width: 12, height: 12, "aria-hidden": "true" },
    svgEl("circle", { cx: 8, cy: 8, r: 5, fill: "none", stroke: "currentColor", "stroke-width": 1.6 }),
    svgEl("path", { d: "M8 0v5M8 11v5M0 8h5M11 8h5", stroke: "currentColor", "stroke-width": 1.6 })), " pick");
  // the caption floats over the plot, so showing a neuron's map moves nothing
  const caption = el("div", { class: "out-caption", "data-testid": "output-caption", hidden: true });
  const stage = el("div", { class: "out-stage" }, bg, fg, caption, pickBtn);
  const legendBox = el("div", { class: "out-legend" });
  const live = el("span", { class: "visually-hidden", "aria-live": "polite", "data-testid": "output-live" });
  root.classList.add("output-view");
  root.append(stage, legendBox, live);
  return {
    root, hooks, bg, fg, pickBtn, caption, stage, legendBox, live, ctx: bg.getContext("2d"), painter: createPainter(),
    options: { showTest: false, discretize: false, clickClass: 0 },
    data: null, output: null, neuron: null, picking: false, explained: null, cursor: null, rect: null, legendKey: "",
  };
}

/** The plot square in CSS pixels of the stage, from the stage's own size. */
function layout(v) {
  const w = v.stage.clientWidth, h = v.stage.clientHeight || w;
  const side = Math.max(40, Math.min(w - MARGIN.left - MARGIN.right, h - MARGIN.top - MARGIN.bottom));
  const x = MARGIN.left + Math.max(0, (w - MARGIN.left - MARGIN.right - side) / 2);
  v.rect = { x, y: MARGIN.top, side };
  Object.assign(v.bg.style, { left: `${x}px`, top: `${MARGIN.top}px`, width: `${side}px`, height: `${side}px` });
  Object.assign(v.caption.style, { left: `${x + 4}px`, top: `${MARGIN.top + 4}px`, maxWidth: `${side - 8}px` });
  Object.assign(v.pickBtn.style, { left: `${Math.max(0, x - MARGIN.left)}px`, top: `${MARGIN.top + side + 7}px` }); // below the lowest tick value
  const dpr = window.devicePixelRatio || 1;
  v.fg.width = Math.round(w * dpr);
  v.fg.height = Math.round(h * dpr);
  paintFront(v);
}

/** The data range shown [x0, x1, y0, y1]: the input plane, or for a hovered 1-D neuron its own a(x) range. */
function extent(v) {
  const d = v.data, nm = v.neuron;
  if (d.oneD && nm) return [d.extent[0], d.extent[1], Math.min(nm.map.lo, 0) - 0.05, Math.max(nm.map.hi, 0) + 0.05];
  return d.extent;
}

function paintBack(v) {
  const { data: d, output: o, neuron: nm, bg } = v;
  bg.hidden = !d || d.oneD || !(nm || o);
  if (bg.hidden) return;
  const planes = nm ? [nm.map] : o.planes;
  if (bg.width !== planes[0].w || bg.height !== planes[0].h) (bg.width = planes[0].w), (bg.height = planes[0].h);
  if (planes.length > 1) v.painter.paintClasses(v.ctx, planes, v.options.discretize);
  else v.painter.paintSigned(v.ctx, planes[0], !nm && o.prob, !nm && v.options.discretize);
}

/** Axes, points, the explained example's ring and the keyboard cursor (CSS pixels × dpr). */
function paintFront(v) {
  const g = v.fg.getContext("2d");
  const dpr = v.fg.width / Math.max(1, v.stage.clientWidth);
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.clearRect(0, 0, v.fg.width, v.fg.height);
  if (!v.data || !v.rect) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  const d = v.data, r = v.rect, ex = extent(v), nm = v.neuron;
  drawAxes(g, r, ex, d.oneD ? ["x", nm ? "a(x)" : "y"] : d.axes || ["x₁", "x₂"]);
  const at = (x, y) => [r.x + ((x - ex[0]) / (ex[1] - ex[0])) * r.side, r.y + (1 - (y - ex[2]) / (ex[3] - ex[2])) * r.side];
  if (d.oneD) drawCurve(g, at, d, nm ? nm.map.values : v.output && v.output.values, v.options.showTest, !nm);
  else drawPoints(g, at, d, v.options.showTest);
  if (!(d.oneD && nm)) drawRing(g, at, d, v.explained); // a 1-D neuron's a(x) has its own vertical scale
  if (v.cursor && document.activeElement === v.fg) {
    const [cx, cy] = at(...v.cursor);
    g.strokeStyle = "#111";
    g.lineWidth = 1.5;
    g.strokeRect(cx - 7, cy - 7, 14, 14);
    g.beginPath();
    g.moveTo(cx - 11, cy), g.lineTo(cx + 11, cy), g.moveTo(cx, cy - 11), g.lineTo(cx, cy + 11);
    g.stroke();
  }
}

/** Caption and legend for what is shown; rebuilt only when their text changes. */
function showLegend(v) {
  const { data: d, output: o, neuron: nm } = v;
  v.caption.textContent = nm ? nm.caption : v.picking ? "pick mode: click a point" : "";
  v.caption.hidden = !v.caption.textContent;
  if (!d) return;
  const span = (m) => Math.max(Math.abs(m.lo), Math.abs(m.hi));
  const spec = nm ? { kind: d.oneD ? "curve" : "value", title: "a(x)", span: span(nm.map), curve: "a(x)" }
    : d.oneD ? { kind: "curve", title: "prediction", curve: "ŷ(x)" }
      : !o ? { kind: "none", title: "" }
        : o.planes.length > 1 ? { kind: "classes", title: "", k: o.planes.length }
          : o.prob ? { kind: "prob", title: "P(class 1)" }
            : { kind: "value", title: "ŷ", span: span(o.planes[0]) };
  const key = JSON.stringify({ ...spec, span: fmt(spec.span, 2) });
  if (key === v.legendKey) return;
  v.legendKey = key;
  clear(v.legendBox).append(legend(spec));
}

/** In pick mode the point nearest (x, y) becomes the example to explain; else a new point goes there. */
function act(v, x, y) {
  if (!v.data) return;
  if (!v.picking) return v.hooks.onAddPoint(x, y, v.options.clickClass);
  const ex = extent(v);
  const hit = nearest(v.data, v.options.showTest, x, y, v.rect.side / (ex[1] - ex[0]), v.rect.side / (ex[3] - ex[2]));
  if (!hit) return;
  v.live.textContent = `picked ${hit.split} point #${hit.index}`;
  v.hooks.onPick(hit.split, hit.index);
}

function setPicking(v, on) {
  v.picking = on;
  v.pickBtn.setAttribute("aria-pressed", String(on));
  v.root.classList.toggle("picking", on);
  v.fg.setAttribute("aria-label", on
    ? "Output plot, pick mode: click a point, or move the cursor with the arrow keys and press Enter, to explain the nearest point"
    : "Output plot: click, or move the cursor with the arrow keys and press Enter, to add a point of the chosen class");
  showLegend(v);
}

/** hooks: {onAddPoint(x1, x2, k), onPick(split, index)}. */
export function createOutputHeatmap(root, hooks) {
  const v = build(root, hooks);
  bindInput(v, { act, extent, paintFront, setPicking });
  setPicking(v, false);
  new ResizeObserver(() => layout(v)).observe(v.stage);
  return {
    /** d: {task, oneD, nClasses, extent: [x0, x1, y0, y1], train: {x, y}, test: {x, y}, yScale, axes} */
    setData(d) {
      v.data = d;
      v.output = v.neuron = null; // maps of the previous network until the next frame
      v.explained = null; // the indices may name other points now
      v.cursor = null;
      showLegend(v);
      paintBack(v);
      paintFront(v);
    },
    /** hm: {w, h, planes: [{w, h, q | values, lo, hi}] (K planes of P(class k), or one), prob}
     * for a plane; {w, h: 1, values} for a 1-D curve; null: nothing to draw. */
    update(hm) {
      v.output = hm;
      if (v.neuron) return;
      showLegend(v);
      paintBack(v);
      if (v.data && v.data.oneD) paintFront(v);
    },
    /** map: a neuron's {w, h, q | values, lo, hi} drawn large with `caption` ("layer 2,
     * neuron 3: a(x)"), or null to show the prediction again. */
    showNeuronMap(map, caption = "") {
      const was = v.neuron;
      v.neuron = map ? { map, caption } : null;
      showLegend(v);
      paintBack(v);
      if (v.data && (v.data.oneD || !was !== !map)) paintFront(v);
    },
    /** The example "show the maths" explains ({split, index}), ringed on the plot; or null. */
    setExplained(ex) {
      v.explained = ex;
      paintFront(v);
    },
    setOptions(next) {
      Object.assign(v.options, next);
      paintBack(v);
      paintFront(v);
    },
  };
}

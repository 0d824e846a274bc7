// The output view: the network's prediction over the input plane (or its curve for a 1-D
// function) with the training points (white rim) and the test points (dark rim), axes and a
// legend; or, while a neuron is hovered, that neuron's map a(x) large. A click adds a point
// of the chosen class; in pick mode it picks the nearest point as the example to explain.
// Keyboard: the plot is focusable; arrows move a cursor, Enter adds or picks there.
import { clear, el, fmt, svgEl } from "./util.js";
import { drawAxes, legend } from "./outaxes.js";
import { createPainter } from "./outpaint.js";
import { drawCurve, drawPoints, drawRing, nearest } from "./outpoints.js";

const MARGIN = { left: 40, right: 8, top: 6, bottom: 28 }; // room for tick values, axis names, the pick toggle

export function createOutputHeatmap(root, hooks) {
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
  const ctx = bg.getContext("2d");
  const painter = createPainter();
  const options = { showTest: false, discretize: false, clickClass: 0 };
  const view = { data: null, output: null, neuron: null, picking: false, explained: null, cursor: null, rect: null, legendKey: "" };

  /** The plot square in CSS pixels of the stage, from the stage's own size. */
  function layout() {
    const w = stage.clientWidth, h = stage.clientHeight || w;
    const side = Math.max(40, Math.min(w - MARGIN.left - MARGIN.right, h - MARGIN.top - MARGIN.bottom));
    const x = MARGIN.left + Math.max(0, (w - MARGIN.left - MARGIN.right - side) / 2);
    view.rect = { x, y: MARGIN.top, side };
    Object.assign(bg.style, { left: `${x}px`, top: `${MARGIN.top}px`, width: `${side}px`, height: `${side}px` });
    Object.assign(caption.style, { left: `${x + 4}px`, top: `${MARGIN.top + 4}px`, maxWidth: `${side - 8}px` });
    Object.assign(pickBtn.style, { left: `${Math.max(0, x - MARGIN.left)}px`, top: `${MARGIN.top + side + 2}px` });
    const dpr = window.devicePixelRatio || 1;
    fg.width = Math.round(w * dpr);
    fg.height = Math.round(h * dpr);
    paintFront();
  }

  /** The data range shown: the input plane, or for a hovered 1-D neuron its own a(x) range. */
  function extent() {
    const d = view.data, nm = view.neuron;
    if (d.oneD && nm) return [d.extent[0], d.extent[1], Math.min(nm.map.lo, 0) - 0.05, Math.max(nm.map.hi, 0) + 0.05];
    return d.extent;
  }

  function paintBack() {
    const { data: d, output: o, neuron: nm } = view;
    const map = nm ? nm.map : o;
    bg.hidden = !d || d.oneD || !map;
    if (bg.hidden) return;
    const planes = nm ? [nm.map] : o.planes;
    if (bg.width !== planes[0].w || bg.height !== planes[0].h) (bg.width = planes[0].w), (bg.height = planes[0].h);
    if (planes.length > 1) painter.paintClasses(ctx, planes, options.discretize);
    else painter.paintSigned(ctx, planes[0], !nm && o.prob, !nm && options.discretize);
  }

  /** Axes, points, the explained example's ring and the keyboard cursor (CSS pixels × dpr). */
  function paintFront() {
    const g = fg.getContext("2d");
    const dpr = fg.width / Math.max(1, stage.clientWidth);
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, fg.width, fg.height);
    if (!view.data || !view.rect) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const d = view.data, r = view.rect, ex = extent();
    drawAxes(g, r, ex, d.oneD ? ["x", view.neuron ? "a(x)" : "y"] : ["x₁", "x₂"]);
    const at = (x, y) => [r.x + ((x - ex[0]) / (ex[1] - ex[0])) * r.side, r.y + (1 - (y - ex[2]) / (ex[3] - ex[2])) * r.side];
    if (d.oneD) drawCurve(g, at, d, view.neuron ? view.neuron.map.values : view.output && view.output.values, options.showTest, !view.neuron);
    else drawPoints(g, at, d, options.showTest);
    if (!(d.oneD && view.neuron)) drawRing(g, at, d, view.explained); // a neuron's a(x) has its own vertical scale
    if (view.cursor && document.activeElement === fg) {
      const [cx, cy] = at(...view.cursor);
      g.strokeStyle = "#111";
      g.lineWidth = 1.5;
      g.strokeRect(cx - 7, cy - 7, 14, 14);
      g.beginPath();
      g.moveTo(cx - 11, cy), g.lineTo(cx + 11, cy), g.moveTo(cx, cy - 11), g.lineTo(cx, cy + 11);
      g.stroke();
    }
  }

  /** Caption and legend for what is shown; rebuilt only when their text changes. */
  function showLegend() {
    const { data: d, output: o, neuron: nm } = view;
    caption.textContent = nm ? nm.caption : view.picking ? "pick mode: click a point" : "";
    caption.hidden = !caption.textContent;
    if (!d) return;
    const span = (m) => Math.max(Math.abs(m.lo), Math.abs(m.hi));
    const spec = nm ? { kind: d.oneD ? "curve" : "value", title: "a(x)", span: span(nm.map), curve: "a(x)" }
      : d.oneD ? { kind: "curve", title: "prediction", curve: "ŷ(x)" }
        : !o ? { kind: "none", title: "" }
          : o.planes.length > 1 ? { kind: "classes", title: "", k: o.planes.length }
            : o.prob ? { kind: "prob", title: "P(class 1)" }
              : { kind: "value", title: "ŷ", span: span(o.planes[0]) };
    const key = JSON.stringify({ ...spec, span: fmt(spec.span, 2) });
    if (key === view.legendKey) return;
    view.legendKey = key;
    clear(legendBox).append(legend(spec));
  }

  function describe() {
    fg.setAttribute("aria-label", view.picking
      ? "Output plot, pick mode: click a point, or move the cursor with the arrow keys and press Enter, to explain the nearest point"
      : "Output plot: click, or move the cursor with the arrow keys and press Enter, to add a point of the chosen class");
  }

  /** The data point under (x, y) in pick mode, else a new point there. */
  function act(x, y) {
    if (!view.data) return;
    if (!view.picking) return hooks.onAddPoint(x, y, options.clickClass);
    const ex = extent();
    const hit = nearest(view.data, options.showTest, x, y, view.rect.side / (ex[1] - ex[0]), view.rect.side / (ex[3] - ex[2]));
    if (!hit) return;
    live.textContent = `picked ${hit.split} point #${hit.index}`;
    hooks.onPick(hit.split, hit.index);
  }

  fg.addEventListener("click", (e) => {
    if (!view.data) return;
    const b = fg.getBoundingClientRect(), r = view.rect, ex = extent();
    const u = (e.clientX - b.left - r.x) / r.side, v = (e.clientY - b.top - r.y) / r.side;
    if (u < 0 || u > 1 || v < 0 || v > 1) return; // on the axes, not the plane
    act(ex[0] + u * (ex[1] - ex[0]), ex[3] - v * (ex[3] - ex[2]));
  });

  fg.addEventListener("keydown", (e) => {
    if (!view.data) return;
    const ex = extent(), big = e.shiftKey ? 5 : 1;
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (!view.cursor) view.cursor = [(ex[0] + ex[1]) / 2, (ex[2] + ex[3]) / 2];
    if (steps[e.key]) {
      const [dx, dy] = steps[e.key];
      const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
      view.cursor = [clamp(view.cursor[0] + (dx * big * (ex[1] - ex[0])) / 40, ex[0], ex[1]), clamp(view.cursor[1] + (dy * big * (ex[3] - ex[2])) / 40, ex[2], ex[3])];
      live.textContent = `cursor at ${fmt(view.cursor[0], 2)}, ${fmt(view.cursor[1], 2)}`;
    } else if (e.key === "Enter" || e.key === " ") {
      act(...view.cursor);
    } else if (e.key === "Escape" && view.picking) {
      setPicking(false);
    } else {
      return;
    }
    e.preventDefault();
    paintFront();
  });
  fg.addEventListener("focus", paintFront);
  fg.addEventListener("blur", paintFront);

  function setPicking(on) {
    view.picking = on;
    pickBtn.setAttribute("aria-pressed", String(on));
    root.classList.toggle("picking", on);
    describe();
    showLegend();
  }
  pickBtn.addEventListener("click", () => setPicking(!view.picking));
  describe();
  new ResizeObserver(layout).observe(stage);

  return {
    /** d: {task, oneD, nClasses, extent: [x0, x1, y0, y1], train: {x, y}, test: {x, y}, yScale} */
    setData(d) {
      view.data = d;
      view.output = view.neuron = null; // maps of the previous network until the next frame
      view.explained = null; // the indices may name other points now
      view.cursor = null;
      showLegend();
      paintBack();
      paintFront();
    },
    /** hm: {w, h, planes: [{w, h, q | values, lo, hi}] (K planes of P(class k), or one), prob}
     * for a plane; {w, h: 1, values} for a 1-D curve; null: nothing to draw. */
    update(hm) {
      view.output = hm;
      if (view.neuron) return;
      showLegend();
      paintBack();
      if (view.data && view.data.oneD) paintFront();
    },
    /** map: a neuron's {w, h, q | values, lo, hi} drawn large with `caption` ("layer 2,
     * neuron 3: a(x)"), or null to show the prediction again. */
    showNeuronMap(map, caption = "") {
      const was = view.neuron;
      view.neuron = map ? { map, caption } : null;
      showLegend();
      paintBack();
      if (view.data && (view.data.oneD || !was !== !map)) paintFront();
    },
    /** The example "show the maths" explains ({split, index}), ringed on the plot; or null. */
    setExplained(ex) {
      view.explained = ex;
      paintFront();
    },
    setOptions(next) {
      Object.assign(options, next);
      paintBack();
      paintFront();
    },
  };
}

// One line chart on a canvas sized from its container: step on x, a value on y with tick
// values, a legend, lines solid for this run and dashed for a compared one. The y-range only
// widens while a run goes on (a falling loss is seen falling, not re-scaled away); on a log
// axis it widens by whole decades (decades.js).
import { createDecades, decade } from "./decades.js";
import { el, fmt } from "./util.js";

const PAD = { left: 50, right: 8, top: 6, bottom: 28 }; // CSS px around the plot: room for ticks
const INK = "#3d4a52", GRID = "#e3e8eb";

/** The smallest of 1, 2, 5 × 10^k at or above v (> 0). */
function niceCeil(v) {
  const e = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].find((m) => m * e >= v * (1 - 1e-9)) * e;
}

/** Ticks at a 1-2-5 spacing over [a, b], about n of them. */
function ticks(a, b, n) {
  if (!(b > a)) return [a];
  const step = niceCeil((b - a) / n);
  const out = [];
  for (let t = Math.ceil(a / step) * step; t <= b + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/** The grid, tick values and axis titles of a w × h (CSS px) chart: x over steps 0 … x1, y over
 * y = {lo, hi, log} (log: lo, hi are decades), titled `yName`; the x axis titled `xName`. */
function axes(ctx, w, h, x1, y, yName, xName) {
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = INK;
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  const yTicks = y.log ? ticks(y.lo, y.hi, 4).filter(Number.isInteger) : ticks(y.lo, y.hi, 4);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of yTicks) {
    const Y = PAD.top + (1 - (t - y.lo) / (y.hi - y.lo)) * (h - PAD.top - PAD.bottom);
    ctx.beginPath();
    ctx.moveTo(PAD.left, Y);
    ctx.lineTo(w - PAD.right, Y);
    ctx.stroke();
    ctx.fillText(y.log ? decade(t) : fmt(t, 2).replace(/\.0(?=e|$)/, ""), PAD.left - 4, Y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of ticks(0, x1, Math.max(2, Math.floor((w - PAD.left) / 70)))) {
    const X = PAD.left + (x1 > 0 ? t / x1 : 0) * (w - PAD.left - PAD.right);
    ctx.fillText(t >= 1e4 ? `${t / 1e3}k` : String(t), X, h - PAD.bottom + 3);
  }
  ctx.fillText(xName, PAD.left + (w - PAD.left - PAD.right) / 2, h - 11);
  ctx.save();
  ctx.translate(7, PAD.top + (h - PAD.top - PAD.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(`${yName}${y.log ? " (log)" : ""}`, 0, -5);
  ctx.restore();
}

/** One series' polyline; X, Y map a step and a value to CSS px (Y: NaN to skip a point). */
function line(ctx, s, X, Y) {
  ctx.strokeStyle = s.colour;
  ctx.lineWidth = 2;
  ctx.setLineDash(s.dashed ? [5, 4] : []);
  ctx.beginPath();
  let started = false;
  for (const [x, y] of s.points) {
    const v = Y(y);
    if (!Number.isFinite(v)) continue;
    started ? ctx.lineTo(X(x), v) : ctx.moveTo(X(x), v);
    started = true;
  }
  ctx.stroke();
  ctx.setLineDash([]);
}

/**
 * createLineChart({title, yTitle, xTitle (default "step"), fixed: [lo, hi] | null, describe(node)}) →
 * {node, draw(series), resetRange(), setLog(on), setTitles(title, yTitle)}.
 * series: [{name, colour, dashed, legend (its legend text; default name, null: none), points: [[step, value], …]}]
 */
export function createLineChart({ title, yTitle, xTitle = "step", fixed = null, describe = (n) => n }) {
  const canvas = el("canvas", { class: "lc-canvas", role: "img", "aria-label": title });
  const heading = describe(el("b", { class: "lc-title", text: title }));
  const legend = el("div", { class: "lc-legend" });
  const head = el("div", { class: "lc-head" }, heading, legend);
  const box = el("div", { class: "lc-box" }, canvas);
  const node = el("div", { class: "lc" }, head, box);
  const decades = createDecades(1);
  let top = 0, log = false, yName = yTitle, last = [];

  new ResizeObserver(() => draw(last)).observe(box);

  function yRange(series) {
    if (fixed) return { lo: fixed[0], hi: fixed[1], map: (y) => y };
    const values = series.flatMap((s) => s.points.map((p) => p[1]));
    if (log) {
      decades.fit(values);
      const lo = decades.empty ? -1 : decades.lo, hi = decades.empty ? 0 : decades.hi;
      return { lo, hi, map: (y) => (y > 0 ? Math.log10(y) : -Infinity), log: true };
    }
    for (const v of values) if (Number.isFinite(v) && v > top) top = niceCeil(v);
    return { lo: 0, hi: top || 1, map: (y) => y };
  }

  function showLegend(series) {
    // a series with `legend: null` shares the entry of the one before it (a compared run's test curve)
    const keyed = series.filter((s) => s.legend !== null);
    legend.replaceChildren(...keyed.map((s) => el("span", { class: `lc-key${s.dashed ? " dashed" : ""}`, style: `--c:${s.colour}`, text: s.legend ?? s.name })));
    canvas.dataset.series = JSON.stringify(series.filter((s) => s.points.length).map((s) => s.name));
  }

  function draw(series) {
    last = series;
    showLegend(series);
    const w = box.clientWidth, h = box.clientHeight, dpr = window.devicePixelRatio || 1;
    if (!w || !h) return;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const x1 = Math.max(1, ...series.flatMap((s) => (s.points.length ? [s.points[s.points.length - 1][0]] : [])));
    const y = yRange(series);
    axes(ctx, w, h, x1, y, yName, xTitle);
    // the axes in words, for screen readers and tests: what the canvas draws
    const end = (e) => (y.log ? decade(e) : fmt(e, 2));
    canvas.setAttribute("aria-label", `${heading.textContent}. x: ${xTitle}, 0 to ${x1}; y: ${yName}${y.log ? ", log scale" : ""}, ${end(y.lo)} to ${end(y.hi)}`);
    canvas.dataset.yRange = `${y.lo},${y.hi}`;
    const X = (x) => PAD.left + (x / x1) * (w - PAD.left - PAD.right);
    const Y = (v) => {
      const t = (y.map(v) - y.lo) / (y.hi - y.lo);
      return PAD.top + (1 - Math.max(0, Math.min(1, t))) * (h - PAD.top - PAD.bottom);
    };
    ctx.save();
    ctx.beginPath();
    ctx.rect(PAD.left, 0, w - PAD.left - PAD.right, h);
    ctx.clip();
    for (const s of series) line(ctx, s, X, (v) => (Number.isFinite(v) && (!y.log || v > 0) ? Y(v) : NaN));
    ctx.restore();
  }

  return {
    node, draw,
    resetRange() {
      top = 0;
      decades.reset();
    },
    setLog(on) {
      log = on;
      draw(last);
    },
    setTitles(t, yT) {
      heading.textContent = t;
      yName = yT;
    },
  };
}

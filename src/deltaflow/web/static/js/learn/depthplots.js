// The two SVG plots of the depth chapters (vanishing, batchnorm, universal): bars of positive
// numbers on a log10 axis (one per layer), and curves y(x) over a shared x (a fit, its units).
import { fmt, svgEl } from "../util.js";

const INK = "#3d4a52", GRID = "#e3e8eb";

function text(x, y, s, attrs = {}) {
  const t = svgEl("text", { x, y, fill: INK, "font-size": 11, ...attrs });
  t.textContent = s;
  return t;
}

/**
 * logBars(values, {labels, yName, colour(i), testid}) → SVG: bar i of height log10(values[i])
 * over whole decades (a value ≤ 0 or null draws no bar). Each bar carries data-value.
 */
export function logBars(values, { labels, yName, colour = () => "#0877bd", testid }) {
  const W = 640, H = 270, L = 58, R = 8, T = 10, B = 46;
  const logs = values.map((v) => (v > 0 ? Math.log10(v) : null));
  const finite = logs.filter((v) => v !== null);
  const lo = Math.floor(Math.min(...finite, 0) - 0.01), hi = Math.ceil(Math.max(...finite, lo + 1) + 0.01);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "lp-svg", role: "img", "aria-label": yName,
    "data-testid": testid });
  const Y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const every = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let d = lo; d <= hi; d += every) {
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: Y(d), y2: Y(d), stroke: GRID }));
    svg.append(text(L - 4, Y(d) + 4, `1e${d}`, { "text-anchor": "end" }));
  }
  const step = (W - L - R) / values.length;
  values.forEach((v, i) => {
    const top = logs[i] === null ? Y(lo) : Y(logs[i]);
    const bar = svgEl("rect", { x: L + i * step + step * 0.15, width: step * 0.7, y: top, height: Y(lo) - top,
      fill: colour(i), "data-value": v ?? "", "data-testid": `${testid}-bar-${i}` });
    const tip = svgEl("title");
    tip.textContent = `${labels[i]}: ${fmt(v)}`;
    bar.append(tip);
    svg.append(bar);
    if (values.length <= 12 || i % 2 === 0 || i === values.length - 1) {
      svg.append(text(L + (i + 0.5) * step, H - B + 18, labels[i], { "text-anchor": "middle", "font-size": 10 }));
    }
  });
  svg.append(text(L + (W - L - R) / 2, H - 4, "layer l", { "text-anchor": "middle" }));
  svg.append(text(12, T + (H - T - B) / 2, yName, { transform: `rotate(-90 12 ${T + (H - T - B) / 2})`,
    "text-anchor": "middle" }));
  return svg;
}

/**
 * curves(x, series, {yName, testid}) → SVG of each series {values, colour, width, dashed, name}
 * against x; the y range covers every series.
 */
export function curves(x, series, { yName = "y", testid }) {
  const W = 640, H = 280, L = 50, R = 8, T = 10, B = 28;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = Math.min(...all), hi = Math.max(...all);
  const pad = (hi - lo || 1) * 0.06;
  lo -= pad;
  hi += pad;
  const x0 = x[0], x1 = x[x.length - 1];
  const X = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "lp-svg", role: "img", "aria-label": yName,
    "data-testid": testid });
  const e = 10 ** Math.floor(Math.log10((hi - lo) / 3));
  const step = [1, 2, 5, 10].find((m) => m * e >= (hi - lo) / 3) * e; // 1-2-5 ticks, about three
  const yTicks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) yTicks.push(Number(t.toPrecision(6)));
  for (const t of yTicks) {
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: Y(t), y2: Y(t), stroke: GRID }));
    svg.append(text(L - 4, Y(t) + 4, fmt(t, 2), { "text-anchor": "end" }));
  }
  for (const t of [x0, (x0 + x1) / 2, x1]) svg.append(text(X(t), H - B + 14, fmt(t, 2), { "text-anchor": "middle" }));
  svg.append(text(L + (W - L - R) / 2, H - 2, "x", { "text-anchor": "middle" }));
  for (const s of series) {
    const d = s.values.map((v, i) => `${i ? "L" : "M"}${X(x[i]).toFixed(1)},${Y(v).toFixed(1)}`).join("");
    const path = svgEl("path", { d, fill: "none", stroke: s.colour, "stroke-width": s.width ?? 1.5,
      "stroke-dasharray": s.dashed ? "5 4" : null, "data-name": s.name });
    const tip = svgEl("title");
    tip.textContent = s.name;
    path.append(tip);
    svg.append(path);
  }
  return svg;
}

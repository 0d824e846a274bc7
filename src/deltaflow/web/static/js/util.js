// Small helpers shared by the views: DOM building, number formatting, colour scales.

// Playground's palette: orange for negative / class 0, blue for positive / class 1.
export const NEG = [245, 147, 34];
export const POS = [8, 119, 189];
const MID = [232, 234, 235];
// Classes 2-7 were chosen so that every pair of the eight stays at least 30 apart (CIE76 ΔE)
// in normal vision and under simulated deuteranopia and protanopia (Machado et al. 2009,
// severity 1): the e2e tests check it on the page's own constants.
export const CLASS_RGB = [
  NEG, POS, [96, 224, 192], [64, 0, 224], [128, 64, 32], [160, 32, 96], [192, 160, 96], [64, 192, 224],
];

export function classRgb(k) {
  return CLASS_RGB[k % CLASS_RGB.length];
}

export function rgb(c, alpha = 1) {
  return alpha === 1 ? `rgb(${c[0]},${c[1]},${c[2]})` : `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;
}

/** t in [-1, 1] → orange … light grey … blue. */
export function diverging(t) {
  const u = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const end = u < 0 ? NEG : POS;
  const s = Math.abs(u);
  return [0, 1, 2].map((i) => Math.round(MID[i] + (end[i] - MID[i]) * s));
}

/** t in [0, 1] → a dark-to-bright sequential scale (for log-magnitude heatmaps). */
export function sequential(t) {
  const u = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0));
  const stops = [[20, 24, 82], [62, 74, 137], [49, 104, 142], [38, 130, 142], [53, 183, 121], [180, 222, 44], [253, 231, 37]];
  const x = u * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(stops[i][c] + (stops[i + 1][c] - stops[i][c]) * f));
}

/** A number as a short readable string: 0.0123, 1.23e-7, 12.3k. NaN and ±∞ spelled out. */
export function fmt(v, digits = 3) {
  if (v === null || v === undefined) return "–";
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a < 1e-3 || a >= 1e5) return v.toExponential(digits - 1).replace("e+", "e");
  return Number(v.toPrecision(digits)).toString();
}

export function pct(v) {
  return Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)}%` : "–";
}

/** el("div", {class: "x", dataset: {testid: "y"}}, child, "text") */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElementNS(tag === "svg" || attrs.svg ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "svg" || v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export const svgEl = (tag, attrs = {}) => el(tag, { ...attrs, svg: true });

/**
 * Paint a heatmap {w, h, values: Float32Array|Uint8Array, lo, hi} into a canvas of w×h
 * pixels; row 0 is the top of the plane (largest x₂). `colour(t)` maps [-1, 1] → rgb.
 */
export function paintHeatmap(canvas, hm, colour = diverging) {
  if (canvas.width !== hm.w || canvas.height !== hm.h) {
    canvas.width = hm.w;
    canvas.height = hm.h;
  }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(hm.w, hm.h);
  const span = Math.max(Math.abs(hm.lo), Math.abs(hm.hi)) || 1;
  for (let i = 0; i < hm.w * hm.h; i++) {
    const c = colour(hm.values[i] / span);
    img.data[4 * i] = c[0];
    img.data[4 * i + 1] = c[1];
    img.data[4 * i + 2] = c[2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

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

// the diverging scale tabulated once, as packed RGBA pixels (the byte order of ImageData on a
// little-endian machine, which every browser runs on): PALETTE[k] = diverging((k − 256) / 255)
const PALETTE = new Uint32Array(512);
for (let k = 0; k < 512; k++) {
  const [r, g, b] = diverging((k - 256) / 255);
  PALETTE[k] = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}
const LUT = new Uint32Array(256); // byte q → pixel, refilled per map (its lo, hi)
const buffers = new WeakMap(); // canvas → {ctx, img, px}: one ImageData per canvas, reused

/** t in [-1, 1] → its PALETTE index; NaN → the middle grey. */
function paletteIndex(t) {
  const k = Math.round(t * 255) + 256;
  if (!(k >= 1)) return k < 1 ? 1 : 256;
  return k > 511 ? 511 : k;
}

/**
 * The colour position t ∈ [-1, 1] of value v in a map whose values run from lo to hi: v / max(|lo|, |hi|)
 * when the map takes both signs; when it takes one (a sigmoid's a ∈ (0, 1)), the map's own range is
 * spread over that sign's half, t = ±(0.15 + 0.85·(|v| − min|v|)/(max|v| − min|v|)), so its shape shows
 * in shades of one colour instead of one flat colour (unless that range is under 1% of |v|).
 */
function position(v, lo, hi) {
  if (lo < 0 && hi > 0) return v / Math.max(-lo, hi);
  const sign = hi > 0 ? 1 : -1, a = Math.min(Math.abs(lo), Math.abs(hi)), b = Math.max(Math.abs(lo), Math.abs(hi));
  // a range below 1% of the values is quantisation noise, not shape: drawn flat
  return b - a > 0.01 * b ? sign * (0.15 + (0.85 * (Math.abs(v) - a)) / (b - a)) : b > 0 ? sign : 0;
}

/**
 * Write a heatmap {w, h, q?: Uint8Array(w·h), values: Float32Array(w·h), lo, hi} as packed RGBA
 * into px (a Uint32Array over ImageData bytes), row r at px[offset + r·stride …], orange (−) …
 * grey … blue (+) (see position()); row 0 is the top of the plane (largest x₂). With the quantised
 * bytes q (value = lo + q·(hi − lo)/255) each pixel is one lookup in a 256-entry table; without
 * them (curves) one in the palette. Allocates nothing.
 */
export function heatmapPixels(px, stride, offset, hm) {
  const { w, h, lo, hi } = hm;
  if (hm.q) {
    const step = (hi - lo) / 255, q = hm.q;
    for (let k = 0; k < 256; k++) LUT[k] = PALETTE[paletteIndex(position(lo + k * step, lo, hi))];
    for (let r = 0; r < h; r++) for (let c = 0, o = offset + r * stride, i = r * w; c < w; c++) px[o + c] = LUT[q[i + c]];
  } else {
    const v = hm.values;
    for (let r = 0; r < h; r++) for (let c = 0, o = offset + r * stride, i = r * w; c < w; c++) px[o + c] = PALETTE[paletteIndex(position(v[i + c], lo, hi))];
  }
}

/** Paint a heatmap (as heatmapPixels) into a canvas of w×h pixels, through one ImageData kept per canvas. */
export function paintHeatmap(canvas, hm) {
  let buf = buffers.get(canvas);
  if (!buf || buf.img.width !== hm.w || buf.img.height !== hm.h) {
    canvas.width = hm.w;
    canvas.height = hm.h;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(hm.w, hm.h);
    buf = { ctx, img, px: new Uint32Array(img.data.buffer) };
    buffers.set(canvas, buf);
  }
  heatmapPixels(buf.px, hm.w, 0, hm);
  buf.ctx.putImageData(buf.img, 0, 0);
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

// The output view's frame: axes with tick values and labels around the plot, and the colour
// legend under it (what orange/blue or each class colour means, on which scale).
import { classRgb, diverging, el, fmt, rgb } from "./util.js";

const INK = "#3d4a52"; // axis text: 9:1 on white

/** About `n` round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10ᵏ. */
export function ticks(lo, hi, n = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n, p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((s) => s * p).find((s) => s >= raw / 1.5);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/**
 * Axes of the plot square `r` ({x, y, side} in CSS pixels) on `ctx` (already scaled to CSS
 * pixels): `ex` = [x0, x1, y0, y1] the data range shown, `names` = [horizontal, vertical].
 */
export function drawAxes(ctx, r, ex, names) {
  ctx.strokeStyle = "#9aa7b0";
  ctx.lineWidth = 1;
  ctx.strokeRect(r.x - 0.5, r.y - 0.5, r.side + 1, r.side + 1);
  ctx.fillStyle = INK;
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.beginPath();
  for (const v of ticks(ex[0], ex[1], Math.max(3, r.side / 50))) {
    const x = r.x + ((v - ex[0]) / (ex[1] - ex[0])) * r.side;
    ctx.moveTo(x, r.y + r.side);
    ctx.lineTo(x, r.y + r.side + 4);
    ctx.fillText(fmt(v, 2).replace("-", "−"), x, r.y + r.side + 5);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of ticks(ex[2], ex[3], Math.max(3, r.side / 50))) {
    const y = r.y + (1 - (v - ex[2]) / (ex[3] - ex[2])) * r.side;
    ctx.moveTo(r.x, y);
    ctx.lineTo(r.x - 4, y);
    ctx.fillText(fmt(v, 2).replace("-", "−"), r.x - 5, y);
  }
  ctx.stroke();
  ctx.font = "italic 12px serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.textAlign = "right";
  ctx.fillText(names[0], r.x + r.side, r.y + r.side + 14); // at the end of the axis, under its last tick
  ctx.textAlign = "center";
  ctx.save();
  ctx.translate(r.x - 30, r.y + r.side / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(names[1], 0, 0);
  ctx.restore();
}

const bar = (lo, hi) => {
  const stops = [-1, -0.5, 0, 0.5, 1].map((t) => rgb(diverging(t * 0.85)));
  return el("span", { class: "bar", style: `background: linear-gradient(to right, ${stops.join(", ")})` },
    el("span", { text: lo }), el("span", { text: hi }));
};

/**
 * The legend of what the view shows. kind: "prob" (P(class 1) of two classes), "classes"
 * (K), "value" (a signed value: ŷ or a neuron's a(x), ±`span`), "curve" (a 1-D function
 * named `curve`).
 */
export function legend({ kind, title, k = 2, span = 1, curve = "" }) {
  const parts = [el("span", { class: "title", text: title })];
  if (kind === "prob") parts.push(el("span", { text: "class 0" }), bar("0", "1"), el("span", { text: "class 1" }));
  if (kind === "value") parts.push(bar(fmt(-span, 2).replace("-", "−"), fmt(span, 2)));
  if (kind === "classes") {
    for (let c = 0; c < k; c++) parts.push(el("span", { class: "swatch" }, el("i", { style: `background: ${rgb(classRgb(c))}` }), `class ${c}`));
    parts.push(el("span", { class: "muted", text: "(paler: less sure)" }));
  }
  if (kind === "curve") parts.push(el("span", { class: "swatch" }, el("i", { class: "line" }), curve));
  return el("div", { class: "legend-row", "data-testid": "output-legend" }, ...parts);
}

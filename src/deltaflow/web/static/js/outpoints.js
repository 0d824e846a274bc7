// The data on the output view: training and test points, a 1-D function's curve, the ring
// around the example "show the maths" explains, and which point lies nearest a place.
import { classRgb, diverging, rgb } from "./util.js";

export const RING = "#111820"; // the explained example's ring: dark, so it shows on every colour

const colourOf = (d, y) => rgb(d.task === "classification" ? classRgb(y) : diverging(y / (d.yScale || 1)));

/** The sets drawn: [[split, {x, y}, rim colour]], test only when `showTest`. */
const sets = (d, showTest) => [["train", d.train, "#fff"], ...(showTest ? [["test", d.test, "#000"]] : [])];

/** The points of a 2-D set; `at(x1, x2)` → [px, py] in CSS pixels. */
export function drawPoints(g, at, d, showTest) {
  g.lineWidth = 1.5;
  for (const [, set, rim] of sets(d, showTest)) {
    for (let i = 0; i < set.y.length; i++) {
      const [x, y] = at(set.x[2 * i], set.x[2 * i + 1]);
      g.beginPath();
      g.arc(x, y, 4, 0, 2 * Math.PI);
      g.fillStyle = colourOf(d, set.y[i]);
      g.fill();
      g.strokeStyle = rim;
      g.stroke();
    }
  }
}

/** The ring around the explained example {split, index} (nothing for null or a stale index). */
export function drawRing(g, at, d, explained) {
  const set = explained && (explained.split === "test" ? d.test : d.train);
  if (!set || explained.index >= set.y.length) return;
  const i = explained.index;
  const [x, y] = d.oneD ? at(set.x[i], set.y[i]) : at(set.x[2 * i], set.x[2 * i + 1]);
  g.beginPath();
  g.arc(x, y, 9, 0, 2 * Math.PI);
  g.lineWidth = 3;
  g.strokeStyle = RING;
  g.stroke();
  g.beginPath();
  g.arc(x, y, 11, 0, 2 * Math.PI);
  g.lineWidth = 1.5;
  g.strokeStyle = "#fff";
  g.stroke();
}

/** A 1-D function: its points (x, y) unless `points` is false, and `curve` (G values at
 * x_lo + c·(x_hi − x_lo)/(G − 1), both ends included, protocol.py): the prediction or a
 * hovered neuron's a(x). */
export function drawCurve(g, at, d, curve, showTest, points) {
  const [x0, x1] = d.extent;
  g.strokeStyle = "#e3e7ea";
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(...at(x0, 0));
  g.lineTo(...at(x1, 0));
  g.stroke();
  for (const [split, set] of points ? sets(d, showTest) : []) {
    g.fillStyle = rgb(classRgb(split === "train" ? 1 : 0));
    for (let i = 0; i < set.y.length; i++) {
      g.beginPath();
      g.arc(...at(set.x[i], set.y[i]), 3.5, 0, 2 * Math.PI);
      g.fill();
    }
  }
  if (curve) {
    g.strokeStyle = "#183d4e";
    g.lineWidth = 3;
    g.beginPath();
    for (let c = 0; c < curve.length; c++) {
      const [px, py] = at(x0 + (c / Math.max(1, curve.length - 1)) * (x1 - x0), curve[c]);
      c ? g.lineTo(px, py) : g.moveTo(px, py);
    }
    g.stroke();
  }
}

/**
 * The point nearest (x, y) on screen: {split, index} of the training points, and of the test
 * points when `showTest`, or null without points. `sx`, `sy`: pixels per data unit.
 */
export function nearest(d, showTest, x, y, sx, sy) {
  let best = null, dist = Infinity;
  for (const [split, set] of sets(d, showTest)) {
    for (let i = 0; i < set.y.length; i++) {
      const px = d.oneD ? set.x[i] : set.x[2 * i], py = d.oneD ? set.y[i] : set.x[2 * i + 1];
      const dd = ((px - x) * sx) ** 2 + ((py - y) * sy) ** 2;
      if (dd < dist) (dist = dd), (best = { split, index: i });
    }
  }
  return best;
}

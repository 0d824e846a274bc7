// The network's edges, all on one canvas: each edge falls into one of a few style buckets
// (sign × |w| level, or a |∂L/∂w| level on the fixed log scale) and each bucket is one path,
// so a frame is a few dozen strokes however many edges there are.
import { sizeCanvas } from "./netlayout.js";
import { diverging, rgb } from "./util.js";

export const LOG_LO = -8; // the backward scale: log₁₀|∂L/∂w| from 10⁻⁸ …
export const LOG_HI = 2; // … to 10², the same decades every frame (never re-fitted)
const LEVELS = 16;
const NONFINITE = 2 * LEVELS; // the last bucket: NaN or ±∞, drawn red
const BUCKETS = 2 * LEVELS + 1;
// above this many edges, every edge is a 1 px opaque line (its alpha blended into white beforehand):
// a wider or translucent stroke costs the rasteriser 5–10× more, and thousands of edges are a mesh
// in which width no longer reads anyway (the 20-layer presets draw ~5000)
const THIN_EDGES = 1500;
// light grey → violet → dark purple: small gradients fade into the page, large ones stand out
const RAMP = [[222, 226, 230], [150, 112, 190], [72, 22, 118]];

/** Position t ∈ [0, 1] on the fixed backward scale of a magnitude v ≥ 0 (0 below 10⁻⁸). */
export function logScale(v) {
  if (!(v > 0)) return 0;
  return Math.max(0, Math.min(1, (Math.log10(v) - LOG_LO) / (LOG_HI - LOG_LO)));
}

/** t ∈ [0, 1] → the backward ramp's rgb. */
export function magnitudeRgb(t) {
  const x = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
  const k = Math.min(RAMP.length - 2, Math.floor(x)), f = x - k;
  return [0, 1, 2].map((c) => Math.round(RAMP[k][c] + (RAMP[k + 1][c] - RAMP[k][c]) * f));
}

// style of each bucket, computed once: forward bucket 2·level + (w ≥ 0), backward bucket = level
// (thin: the style of a dense network, 1 px and opaque, the colour blended into white by its alpha)
const styleOf = (c, width, alpha, thin) => (thin
  ? { colour: rgb(c.map((v) => Math.round(255 + (v - 255) * alpha))), width: 1, alpha: 1 }
  : { colour: rgb(c), width, alpha });
const BAD_RGB = [179, 38, 30];
const forwardStyles = (thin) => Array.from({ length: BUCKETS }, (_, b) => {
  if (b === NONFINITE) return styleOf(BAD_RGB, 2, 1, thin);
  const s = (b >> 1) / (LEVELS - 1), sign = b & 1 ? 1 : -1;
  return styleOf(diverging(sign * (0.35 + 0.65 * s)), 0.4 + 5 * s, 0.35 + 0.65 * s, thin);
});
const backwardStyles = (thin) => Array.from({ length: BUCKETS }, (_, b) => {
  if (b === NONFINITE) return styleOf(BAD_RGB, 2, 1, thin);
  const t = Math.min(1, b / (LEVELS - 1));
  return styleOf(magnitudeRgb(t), 0.4 + 4.6 * t, 0.35 + 0.65 * t, thin);
});
const STYLES = {
  forward: [forwardStyles(false), forwardStyles(true)],
  backward: [backwardStyles(false), backwardStyles(true)],
};
/** The backward ramp as CSS colours by level, for the neurons' tints: BACKWARD_TINTS[level(v)]. */
export const BACKWARD_TINTS = Array.from({ length: LEVELS }, (_, b) => rgb(magnitudeRgb(b / (LEVELS - 1))));
export const tintLevel = (v) => Math.round(logScale(Math.abs(v)) * (LEVELS - 1));

function forwardBucket(w) {
  if (!Number.isFinite(w)) return NONFINITE;
  return 2 * Math.round(Math.min(1, Math.abs(w) / 2) * (LEVELS - 1)) + (w >= 0 ? 1 : 0);
}

function backwardBucket(g) {
  return Number.isFinite(g) ? tintLevel(g) : NONFINITE;
}

/**
 * Every drawn edge's end points: ends[4e … 4e + 3] = x1, y1, x2, y2 of edge e, layer l's edges from
 * base[l] in the order of W(l)[i, j] (row-major), so edge base[l] + k carries W(l).flat[k].
 */
function edgeEnds(g, from, drawn) {
  const base = [0];
  for (let l = 0; l < g.cols.length - 1; l++) base.push(base[l] + (drawn[l] ? from[l].length * g.cols[l + 1] : 0));
  const ends = new Float32Array(4 * base[base.length - 1]);
  for (let l = 0; l < g.cols.length - 1; l++) {
    if (!drawn[l]) continue;
    const x1 = g.x[l] + g.sizes[l] / 2, x2 = g.x[l + 1] - g.sizes[l + 1] / 2, nIn = from[l].length;
    for (let i = 0; i < g.cols[l + 1]; i++) {
      for (let j = 0; j < nIn; j++) ends.set([x1, g.y[l][from[l][j]], x2, g.y[l + 1][i]], 4 * (base[l] + i * nIn + j));
    }
  }
  return { base, ends };
}

/**
 * The edge canvas of one geometry. g: netlayout's geometry; from[l]: layer l's source rows in
 * column l; drawn[l]: whether its edges are drawn (not too many). Preallocates the edges'
 * end points, buckets and draw order, so draw() allocates nothing.
 */
export function createEdges(canvas, g, from, drawn) {
  const { base, ends } = edgeEnds(g, from, drawn);
  const E = base[base.length - 1];
  const bucket = new Uint8Array(E), order = new Uint32Array(E);
  const start = new Uint32Array(BUCKETS + 1), next = new Uint32Array(BUCKETS);
  const ctx = sizeCanvas(canvas, g);

  /** Edge e as a path segment of the current path. */
  function trace(c, e) {
    const x1 = ends[4 * e], y1 = ends[4 * e + 1], x2 = ends[4 * e + 2], y2 = ends[4 * e + 3], m = (x1 + x2) / 2;
    c.moveTo(x1, y1);
    c.bezierCurveTo(m, y1, m, y2, x2, y2);
  }

  /** layers[l].W / .gW (row-major, n_out × n_in); mode "forward" (by W) or "backward" (by ∂L/∂W). */
  function draw(layers, mode) {
    ctx.clearRect(0, 0, g.width, g.height);
    const backward = mode === "backward";
    start.fill(0);
    for (let l = 0; l < base.length - 1; l++) {
      const values = layers[l] && (backward ? layers[l].gW : layers[l].W);
      const n = base[l + 1] - base[l];
      if (!values || values.length !== n) {
        bucket.fill(BUCKETS, base[l], base[l + 1]); // no values (yet): not drawn
        continue;
      }
      for (let k = 0; k < n; k++) {
        const b = backward ? backwardBucket(values[k]) : forwardBucket(values[k]);
        bucket[base[l] + k] = b;
        start[b + 1] += 1;
      }
    }
    // counting sort: weak buckets first, so strong edges are drawn over them
    for (let b = 0; b < BUCKETS; b++) start[b + 1] += start[b];
    for (let b = 0; b < BUCKETS; b++) next[b] = start[b];
    for (let e = 0; e < E; e++) if (bucket[e] < BUCKETS) order[next[bucket[e]]++] = e;
    const styles = STYLES[backward ? "backward" : "forward"][E > THIN_EDGES ? 1 : 0];
    for (let b = 0; b < BUCKETS; b++) {
      if (start[b + 1] === start[b]) continue;
      ctx.beginPath();
      for (let k = start[b]; k < start[b + 1]; k++) trace(ctx, order[k]);
      const st = styles[b];
      ctx.strokeStyle = st.colour;
      ctx.lineWidth = st.width;
      ctx.globalAlpha = st.alpha;
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  /** Trace unit layer l's edges (for a highlight drawn elsewhere) into the 2-D context c. */
  function traceLayer(c, l) {
    for (let e = base[l]; e < base[l + 1]; e++) trace(c, e);
  }

  return { draw, traceLayer };
}

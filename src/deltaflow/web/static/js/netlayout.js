// Where the network view puts things: columns of neurons fitted into the container's box,
// and which edge a pointer is on (by geometry: the edges are pixels on a canvas, not elements).

const RIGHT = 30; // room right of the output column for its head
const HEAD = 72; // room above the columns for a head: layer name, −/+ buttons and activation menu (24 px targets)
const HEAD_TINY = 30; // a head without controls (columns too narrow for buttons): number, width
const COMPACT = 12; // more inputs than this are drawn as a compact strip (see layout)
const LABEL_PX = 13; // the least vertical room of one input's name (10-12 px text)

/** Column heads by the room a column has: "wide" (names in words), "narrow", "tiny" (no controls). */
export function headMode(step) {
  return step >= 100 ? "wide" : step >= 66 ? "narrow" : "tiny";
}

/**
 * The geometry of `cols` (neurons per column: [features, n_1, …, n_L]) in a box of
 * width × height px, keeping `foot` px free below the neurons.
 * → {cols, width, height, label, step, head, mode, size, sizes: [C] neuron size per column, pitch,
 *    labelEvery: every how many inputs a name is written, x: [C] column centres,
 *    y: [C][n_c] neuron centres, bottom: the lowest neuron's lower edge}.
 * Everything scales with the box: neurons shrink before anything leaves it. More than COMPACT
 * inputs (a tabular set's 13, digits' 64) make column 0 a compact strip of its own pitch, so
 * the hidden layers keep their size and the inputs never overlap.
 */
export function layout(cols, width, height, foot) {
  const C = cols.length;
  const label = width >= 500 ? 64 : 50; // the feature names left of column 0
  const step = (width - label - RIGHT) / Math.max(1, C - 1);
  const mode = headMode(step);
  const head = mode === "tiny" ? HEAD_TINY : HEAD;
  const compact = cols[0] > COMPACT;
  const tallest = Math.max(1, ...(compact ? cols.slice(1) : cols));
  const avail = Math.max(24, height - head - foot - 6);
  const size = Math.max(5, Math.min(30, Math.floor(avail / (tallest * 1.2)), Math.floor(step * 0.6)));
  const pitch = Math.min(size + 14, avail / tallest);
  const pitches = cols.map((n, c) => (c === 0 && compact ? Math.min(pitch, avail / n) : pitch));
  const sizes = cols.map((_, c) => (c === 0 && compact ? Math.max(2, Math.min(size, Math.floor(pitches[0] - 1))) : size));
  const labelEvery = Math.max(1, Math.ceil(LABEL_PX / pitches[0]));
  const x = cols.map((_, c) => label + c * step);
  const y = cols.map((n, c) => Array.from({ length: n }, (_, j) => head + (avail - n * pitches[c]) / 2 + (j + 0.5) * pitches[c]));
  const bottom = Math.max(...y.map((ys, c) => (ys.length ? ys[ys.length - 1] + sizes[c] / 2 : head)));
  return { cols, width, height, label, step, head, mode, size, sizes, pitch, labelEvery, x, y, bottom };
}

// an edge from (x1, y1) to (x2, y2) is the cubic Bézier with control points (m, y1), (m, y2),
// m = (x1 + x2)/2; its coordinates at parameter t ∈ [0, 1] are
//   x(t) = x1 + (x2 − x1)·u(t), u(t) = 1.5·t(1 − t) + t³   (u′ > 0: x is monotone in t)
//   y(t) = y1 + (y2 − y1)·s(t), s(t) = 3t² − 2t³
const u = (t) => 1.5 * t * (1 - t) + t * t * t;
const du = (t) => 1.5 - 3 * t + 3 * t * t;
const s = (t) => t * t * (3 - 2 * t);
const ds = (t) => 6 * t * (1 - t);

/** The curve parameter t at which an edge spanning [x1, x2] passes horizontal position px. */
function paramAt(x1, x2, px) {
  const a = (px - x1) / (x2 - x1);
  let lo = 0, hi = 1;
  for (let k = 0; k < 24; k++) {
    const mid = (lo + hi) / 2;
    if (u(mid) < a) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The edge nearest the point (px, py), if within `reach` px: {l, i, j} (unit layer index l from 0,
 * neuron i of it, input j of it) or null. `from[l]`: the source rows of layer l's inputs in column l;
 * `drawn[l]`: whether layer l's edges are drawn. Every edge of a layer spans the same x range, so t is
 * found once per point; the distance is |py − y(t)| / √(1 + (dy/dx)²), the perpendicular distance to
 * the curve's tangent there.
 */
export function edgeAt(g, from, drawn, px, py, reach) {
  for (let l = 0; l < g.cols.length - 1; l++) {
    const x1 = g.x[l] + g.sizes[l] / 2, x2 = g.x[l + 1] - g.sizes[l + 1] / 2;
    if (px < x1 || px > x2 || !drawn[l]) continue;
    const t = paramAt(x1, x2, px);
    const st = s(t), slope = ds(t) / ((x2 - x1) * du(t));
    let best = null, bestD = reach;
    from[l].forEach((src, j) => {
      const y1 = g.y[l][src];
      g.y[l + 1].forEach((y2, i) => {
        const d = Math.abs(py - (y1 + (y2 - y1) * st)) / Math.hypot(1, (y2 - y1) * slope);
        if (d < bestD) (bestD = d), (best = { l, i, j });
      });
    });
    return best;
  }
  return null;
}

/** Size canvas to the geometry's box in CSS px, backed by device pixels; → its 2-D context, drawing in CSS px. */
export function sizeCanvas(canvas, g) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(g.width * dpr);
  canvas.height = Math.round(g.height * dpr);
  canvas.style.width = `${g.width}px`;
  canvas.style.height = `${g.height}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

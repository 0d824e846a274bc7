// The overlay above the edges: the backward pass as a band travelling from the output column
// to the inputs, lighting each layer's incoming edges in turn (δ⁽ᴸ⁾ first, then δ⁽ˡ⁾ =
// (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾) down to layer 1), and the layer "show the maths" highlights.
// It has its own canvas, so neither redraws the edges.

import { sizeCanvas } from "./netlayout.js";

const BAND = "rgba(24, 61, 78, 0.10)";
const PULSE = "rgba(24, 61, 78, 0.75)";
// dark ink, not blue or orange: those mean the sign of a weight
const HIGHLIGHT = "rgba(38, 50, 58, 0.8)";
const HIGHLIGHT_BAND = "rgba(24, 61, 78, 0.08)";
const FULL_MS = 600; // the whole backward pass, output to inputs
const SHORTEST_MS = 120; // when steps come faster than that, the pass is not animated at all

/** A band of `fill` over column c and, for c ≥ 1, its incoming edges stroked in `edgeStyle`. */
function column(ctx, g, edges, c, fill, edgeStyle) {
  const w = Math.max(g.size + 8, g.step * 0.5);
  ctx.fillStyle = fill;
  ctx.fillRect(g.x[c] - w / 2, g.head - 4, w, g.bottom - g.head + 8);
  if (c < 1) return;
  ctx.beginPath();
  edges.traceLayer(ctx, c - 1);
  ctx.strokeStyle = edgeStyle;
  ctx.lineWidth = 2;
  ctx.stroke();
}

/**
 * canvas: the overlay; onLit(c | null): called when the band reaches column c (1 … L) and
 * when it has passed. Returns {canvas, setGeometry(g, edges), play(), highlight(c | null), stop()}.
 */
export function createPulse(canvas, onLit) {
  let g = null, edges = null, ctx = null;
  let highlighted = null;
  let anim = null; // {t0, ms}
  let raf = 0, lit = null, lastPlay = -Infinity;

  function setGeometry(geometry, edgeCanvas) {
    g = geometry;
    edges = edgeCanvas;
    ctx = sizeCanvas(canvas, g);
    paint(null);
  }

  function paint(c) {
    if (!ctx) return;
    ctx.clearRect(0, 0, g.width, g.height);
    if (highlighted !== null && highlighted < g.cols.length) column(ctx, g, edges, highlighted, HIGHLIGHT_BAND, HIGHLIGHT);
    if (c !== null) column(ctx, g, edges, c, BAND, PULSE);
  }

  function frame(now) {
    raf = 0;
    if (!anim || !g) return;
    const p = (now - anim.t0) / anim.ms;
    const L = g.cols.length - 1;
    const c = p >= 1 ? null : Math.max(1, L - Math.floor(p * L));
    if (c !== lit) {
      lit = c;
      paint(c);
      onLit(c);
    }
    if (c === null) anim = null;
    else raf = requestAnimationFrame(frame);
  }

  return {
    canvas,
    setGeometry,
    /** Animate one backward pass; steps that come faster than FULL_MS get a shorter one, or none. */
    play() {
      const now = performance.now(), gap = now - lastPlay;
      lastPlay = now;
      if (!g || g.cols.length < 2 || gap < SHORTEST_MS || anim) return;
      anim = { t0: now, ms: Math.min(FULL_MS, gap) };
      if (!raf) raf = requestAnimationFrame(frame);
    },
    /** c: the column to highlight with its incoming edges (0 = the inputs), or null. */
    highlight(c) {
      highlighted = c;
      paint(lit);
    },
    stop() {
      anim = null;
      if (raf) cancelAnimationFrame(raf);
      raf = 0;
      if (lit !== null) onLit(null);
      lit = null;
      paint(null);
    },
  };
}

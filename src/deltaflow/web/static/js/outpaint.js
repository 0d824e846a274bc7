// The output view's picture: planes of G×G values coloured through 256-entry lookup tables
// into one cached ImageData (one 32-bit store per pixel, no allocation per frame).
import { classRgb, diverging } from "./util.js";

// RGBA bytes as the one little-endian word an ImageData's Uint32Array view holds
const pack = (c) => ((255 << 24) | (c[2] << 16) | (c[1] << 8) | c[0]) >>> 0;
const FADE = 0.85; // the strongest colours stay a little light, so the points on them show

/**
 * A plane's bytes: its quantised `q` (value = lo + q·(hi − lo)/255, the frame's encoding) or,
 * for a plane of floats only, `values` quantised the same way into `scratch` at `offset`.
 */
function bytesOf(plane, scratch, offset, n) {
  if (plane.q) return plane.q;
  const span = plane.hi - plane.lo;
  const out = scratch.subarray(offset, offset + n);
  for (let i = 0; i < n; i++) {
    const b = span > 0 ? Math.round(((plane.values[i] - plane.lo) / span) * 255) : 0;
    out[i] = b < 0 ? 0 : b > 255 ? 255 : Number.isFinite(b) ? b : 0;
  }
  return out;
}

/** Creates a painter that keeps its ImageData, lookup tables and scratch bytes between frames. */
export function createPainter() {
  let img = null, words = null;
  let scratch = new Uint8Array(0);
  const lut = new Uint32Array(256);
  let classLut = new Uint32Array(0), values = new Float32Array(0);

  function buffers(ctx, w, h, k) {
    if (!img || img.width !== w || img.height !== h) {
      img = ctx.createImageData(w, h);
      words = new Uint32Array(img.data.buffer);
    }
    if (scratch.length < k * w * h) scratch = new Uint8Array(k * w * h);
    if (values.length < 256 * k) (values = new Float32Array(256 * k)), (classLut = new Uint32Array(256 * k));
  }

  /** One plane {w, h, q | values, lo, hi}: t = 2v − 1 for a probability (`prob`), else
   * v / max(|lo|, |hi|); t ∈ [−1, 1] → orange … grey … blue; `discretize` keeps its sign. */
  function paintSigned(ctx, plane, prob, discretize) {
    const n = plane.w * plane.h;
    buffers(ctx, plane.w, plane.h, 1);
    const span = (plane.hi - plane.lo) / 255, scale = Math.max(Math.abs(plane.lo), Math.abs(plane.hi)) || 1;
    for (let b = 0; b < 256; b++) {
      const v = plane.lo + b * span;
      let t = prob ? 2 * v - 1 : v / scale;
      if (discretize) t = t >= 0 ? 1 : -1;
      lut[b] = pack(diverging(t * FADE));
    }
    const q = bytesOf(plane, scratch, 0, n);
    for (let i = 0; i < n; i++) words[i] = lut[q[i]];
    ctx.putImageData(img, 0, 0);
  }

  /** K planes of P(class k): each pixel the colour of its most probable class, paler where
   * that probability p is near 1/K: confidence (p − 1/K)/(1 − 1/K) (1 with `discretize`). */
  function paintClasses(ctx, planes, discretize) {
    const K = planes.length, { w, h } = planes[0], n = w * h;
    buffers(ctx, w, h, K);
    const q = planes.map((p, k) => bytesOf(p, scratch, k * n, n));
    for (let k = 0; k < K; k++) {
      const span = (planes[k].hi - planes[k].lo) / 255, c = classRgb(k);
      for (let b = 0; b < 256; b++) {
        values[k * 256 + b] = planes[k].lo + b * span;
        const mix = discretize ? 0.9 : 0.15 + 0.75 * (b / 255);
        classLut[k * 256 + b] = pack(c.map((v) => Math.round(240 + (v - 240) * mix)));
      }
    }
    for (let i = 0; i < n; i++) {
      let best = 0, p = values[q[0][i]];
      for (let k = 1; k < K; k++) {
        const v = values[k * 256 + q[k][i]];
        if (v > p) (p = v), (best = k);
      }
      const conf = Math.max(0, Math.min(1, (p - 1 / K) / (1 - 1 / K)));
      words[i] = classLut[best * 256 + Math.round(conf * 255)];
    }
    ctx.putImageData(img, 0, 0);
  }

  return { paintSigned, paintClasses };
}

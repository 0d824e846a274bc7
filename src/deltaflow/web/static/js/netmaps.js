// The neurons' pictures on one canvas: every map is written into one atlas (one ImageData,
// slot k for neuron k), put once per frame, and drawn scaled into its neuron's square; in
// backward mode a neuron is instead filled with its |∂L/∂b_j| on the fixed log scale. One
// canvas changes per frame, not one per neuron (each of those is a texture to upload).
import { BACKWARD_TINTS, tintLevel } from "./netedges.js";
import { sizeCanvas } from "./netlayout.js";
import { heatmapPixels } from "./util.js";

const BAD = "#b3261e";
const OFF_ALPHA = 0.28; // a feature that is switched off

/** Fill neuron j of column c with |∂L/∂b_j| = |v| on the fixed log scale (red: not finite). */
function tint(ctx, g, c, j, v) {
  const s = g.size - 2;
  ctx.globalAlpha = 1;
  ctx.fillStyle = Number.isFinite(v) ? BACKWARD_TINTS[tintLevel(v)] : BAD;
  ctx.fillRect(g.x[c] - s / 2, g.y[c][j] - s / 2, s, s);
}

/**
 * canvas: the visible maps layer; g: netlayout's geometry; features: [{heatmap, active}] of column 0.
 * → {draw(maps, layers, mode)}: maps[l][j] a map of neuron j of unit layer l (or null: none yet);
 * layers[l].gb = ∂L/∂b⁽ˡ⁺¹⁾ (backward mode).
 */
export function createMaps(canvas, g, features) {
  const C = g.cols.length;
  let n = 0;
  const slot = g.cols.map((count) => Array.from({ length: count }, () => n++)); // neuron j of column c: slot[c][j]
  const perRow = Math.ceil(Math.sqrt(n));
  let sw = 0, sh = 0, atlas = null, actx = null, img = null, px = null; // sw × sh: one slot
  const shape = new Uint16Array(2 * n); // w, h of the map in each slot (0: none)
  const ctx = sizeCanvas(canvas, g);

  /** An atlas whose slots hold maps of up to w × h pixels (a larger map than before reallocates it,
   * once per state: a state's maps all have one size). */
  function fit(w, h) {
    if (w <= sw && h <= sh) return;
    sw = Math.max(sw, w);
    sh = Math.max(sh, h);
    atlas = document.createElement("canvas");
    atlas.width = perRow * sw;
    atlas.height = Math.ceil(n / perRow) * sh;
    actx = atlas.getContext("2d");
    img = actx.createImageData(atlas.width, atlas.height);
    px = new Uint32Array(img.data.buffer);
    shape.fill(0);
    features.forEach((f, j) => f.heatmap && write(slot[0][j], f.heatmap));
  }

  function write(k, hm) {
    fit(hm.w, hm.h);
    heatmapPixels(px, atlas.width, Math.floor(k / perRow) * sh * atlas.width + (k % perRow) * sw, hm);
    shape[2 * k] = hm.w;
    shape[2 * k + 1] = hm.h;
  }

  features.forEach((f, j) => f.heatmap && write(slot[0][j], f.heatmap));

  function blit(c, j) {
    const k = slot[c][j], w = shape[2 * k], h = shape[2 * k + 1];
    if (!w) return;
    const s = g.size - 2; // inside the neuron's 1 px border
    ctx.globalAlpha = c === 0 && !features[j].active ? OFF_ALPHA : 1;
    ctx.drawImage(atlas, (k % perRow) * sw, Math.floor(k / perRow) * sh, w, h, g.x[c] - s / 2, g.y[c][j] - s / 2, s, s);
  }

  /** Draw every neuron: its map (forward) or its |∂L/∂b_j| (backward); the features' maps in both. */
  function draw(maps, layers, mode) {
    const backward = mode === "backward";
    if (!backward && maps) {
      for (let l = 0; l < maps.length && l + 1 < C; l++) {
        const m = maps[l];
        if (m) for (let j = 0; j < m.length && j < g.cols[l + 1]; j++) if (m[j]) write(slot[l + 1][j], m[j]);
      }
    }
    if (img) actx.putImageData(img, 0, 0);
    ctx.clearRect(0, 0, g.width, g.height);
    ctx.imageSmoothingEnabled = false;
    for (let c = 0; c < C; c++) {
      const gb = backward && c > 0 && layers[c - 1] ? layers[c - 1].gb : null;
      for (let j = 0; j < g.cols[c]; j++) {
        if (gb && j < gb.length) tint(ctx, g, c, j, gb[j]);
        else if (atlas) blit(c, j);
      }
    }
    ctx.globalAlpha = 1;
  }

  return { draw };
}

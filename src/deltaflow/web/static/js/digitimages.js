// What a digits network has learned, drawn as images and redrawn with every frame: the first
// layer's weights, row W⁽¹⁾ᵢ of hidden unit i shown as an 8×8 image (input 8·r + c is pixel
// (r, c)), and the test images the network gets wrong, from the frame's predictions.
import { paintGrey } from "./digitpad.js";
import { SIDE } from "./digitdraw.js";
import { clear, diverging, el, fmt, rgb, NEG, POS } from "./util.js";

const MAX_SHOWN = 60; // misclassified thumbnails drawn; the count says how many there are

/**
 * Paint row i of W (n_out × 64, row-major) as an 8×8 image: t = W[i, j] / scale on the
 * diverging scale, orange negative … grey 0 … blue positive, one scale for the whole layer.
 */
export function paintWeights(canvas, W, i, scale) {
  if (canvas.width !== SIDE) canvas.width = canvas.height = SIDE;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(SIDE, SIDE), n = SIDE * SIDE;
  for (let j = 0; j < n; j++) img.data.set([...diverging(W[i * n + j] / scale), 255], 4 * j);
  ctx.putImageData(img, 0, 0);
}

/** Returns {root, setData(state.data), update(frame)}. */
export function createDigitImages() {
  let data = null, units = [], thumbs = new Map();
  const weights = el("div", { class: "digit-weights", "data-testid": "digit-weights" });
  const weightNote = el("p", { class: "note", "data-testid": "digit-weights-scale" });
  const missed = el("div", { class: "digit-missed", "data-testid": "digit-missed" });
  const missNote = el("p", { class: "note", "data-testid": "digit-missed-count" });
  const root = el("div", { class: "digit-learned" },
    el("h3", { text: "First layer's weights W⁽¹⁾ᵢ, one 8×8 image per hidden unit" }), weightNote, weights,
    el("h3", { text: "Misclassified test images (true → predicted)" }), missNote, missed);

  function setUnits(n) {
    clear(weights);
    units = Array.from({ length: n }, (_, i) => {
      const c = el("canvas", { class: "wimg", width: SIDE, height: SIDE, "data-testid": "digit-weight", dataset: { unit: String(i) }, title: `hidden unit ${i + 1}: its 64 weights w⁽¹⁾ᵢⱼ` });
      weights.append(c);
      return c;
    });
  }

  function updateWeights(layer) {
    if (units.length !== layer.nOut) setUnits(layer.nOut);
    let scale = 0;
    for (const w of layer.W) scale = Math.max(scale, Math.abs(w));
    scale = scale || 1;
    units.forEach((c, i) => paintWeights(c, layer.W, i, scale));
    weights.dataset.scale = String(scale);
    weightNote.replaceChildren(el("i", { class: "sw", style: `background:${rgb(NEG)}` }), ` −${fmt(scale)} `,
      el("i", { class: "sw", style: `background:${rgb(POS)}` }), ` +${fmt(scale)} (the layer's largest |w|): blue pixels push a unit on, orange off`);
  }

  /** Thumbnails of the test images whose prediction is not their label (reused by index). */
  function updateMissed(predictions) {
    if (!predictions) {
      missNote.textContent = "waiting for the frame's predictions…";
      return;
    }
    const y = data.test.y, wrong = [];
    for (let i = 0; i < y.length; i++) if (predictions[i] !== y[i]) wrong.push(i);
    missNote.textContent = `${wrong.length} of ${y.length} test images are misclassified${wrong.length > MAX_SHOWN ? `; the first ${MAX_SHOWN} are shown` : ""}.`;
    const shown = wrong.slice(0, MAX_SHOWN), next = new Map();
    for (const i of shown) {
      const t = thumbs.get(i) || { canvas: el("canvas", { class: "mimg", width: SIDE, height: SIDE }), label: el("span") };
      if (!t.box) {
        paintGrey(t.canvas, data.images.test[i], SIDE, 16);
        t.box = el("figure", { class: "miss", "data-testid": "digit-miss", dataset: { index: String(i), true: String(y[i]) } }, t.canvas, t.label);
      }
      t.box.dataset.predicted = String(predictions[i]);
      t.label.textContent = `${y[i]} → ${predictions[i]}`;
      next.set(i, t);
    }
    thumbs = next;
    missed.replaceChildren(...shown.map((i) => thumbs.get(i).box));
  }

  return {
    root,
    setData(d) {
      data = d;
      thumbs = new Map();
      clear(missed);
      units = [];
      clear(weights);
    },
    update(f) {
      if (!data || !f.layers.length || f.layers[0].nIn !== SIDE * SIDE) return;
      updateWeights(f.layers[0]);
      updateMissed(f.predictions);
    },
  };
}

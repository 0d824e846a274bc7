// What the views are given: the server's `state` and frames (protocol.py) turned into the
// plain objects that network.js, heatmap.js and the alarm banner draw.
import { label } from "./labels.js";
import { fmt } from "./util.js";

// the server's features (hello.features) as the page draws them over the plane
const FORMULA = {
  x1: (a) => a, x2: (a, b) => b, "x1^2": (a) => a * a, "x2^2": (a, b) => b * b,
  x1x2: (a, b) => a * b, sin_x1: (a) => Math.sin(a), sin_x2: (a, b) => Math.sin(b),
};
const FEATURE_GRID = 24;

export function layerName(u) {
  return `${u.n_in}→${u.n_out} ${u.activation}${u.norm && u.norm !== "none" ? ` ${u.norm}` : ""}`;
}

/** The output view's data: raw points (plane coordinates for a projected set), the plotted
 * extent ([x0, x1, y0, y1]), the task and the axes' names of a PCA plane (else null). */
export function dataView(s) {
  const d = s.data;
  const oneD = d.dims === 1;
  const flat = (set) => ({
    x: Float32Array.from(set.x.flatMap((r) => (oneD ? [Array.isArray(r) ? r[0] : r] : r))),
    y: set.y.map((v) => (Array.isArray(v) ? v[0] : v)),
  });
  const train = flat(d.train), test = flat(d.test);
  let extent = [...s.extent.x1, ...(s.extent.x2 || [0, 1])];
  if (oneD) {
    const ys = [...train.y, ...test.y];
    const lo = Math.min(...ys), hi = Math.max(...ys), pad = 0.15 * (hi - lo || 1);
    extent = [s.extent.x1[0], s.extent.x1[1], lo - pad, hi + pad];
  }
  const yScale = d.task === "regression" ? Math.max(1e-9, ...[...train.y, ...test.y].map(Math.abs)) : 1;
  // a set of more than two inputs is drawn on its PCA plane, whose axes say what share of the variance they hold
  const axes = d.projection ? d.projection.axes : null;
  return { task: d.task, oneD, nClasses: d.n_classes, extent, train, test, yScale, axes };
}

/** The input column: every feature of a 2-D set (on or off; `features`: hello's), or the inputs of a 1-D set. */
export function featureInputs(s, extent, features) {
  const on = new Set(s.network.inputs);
  if (s.data.dims !== 2 || s.config.data.name === "csv" || s.data.projection) {
    const ramp = s.data.dims === 1 ? { w: FEATURE_GRID, h: 1, values: Float32Array.from({ length: FEATURE_GRID }, (_, c) => -1 + (2 * c) / (FEATURE_GRID - 1)), lo: -1, hi: 1 } : null;
    return s.network.inputs.map((name) => ({ name, label: shortName(name), active: true, heatmap: ramp }));
  }
  return features.map((name) => ({ name, label: label("features", name), active: on.has(name), heatmap: featureMap(FORMULA[name], extent) }));
}

/** A column's name short enough for the 50–64 px left of the input column: units in brackets
 * dropped, then words cut to 3 letters ("sepal length (cm)" → "sep len"), at most 9 characters. */
export function shortName(name) {
  const bare = name.replace(/\s*\(.*?\)\s*/g, " ").trim() || name;
  if (bare.length <= 9) return bare;
  const words = bare.split(/[\s_]+/).filter(Boolean).map((w) => w.slice(0, 3)).join(" ");
  return words.length <= 9 ? words : `${words.slice(0, 8)}…`;
}

function featureMap(f, [x0, x1, y0, y1]) {
  const G = FEATURE_GRID;
  const values = new Float32Array(G * G);
  let lo = Infinity, hi = -Infinity;
  for (let r = 0; r < G; r++) {
    for (let c = 0; c < G; c++) {
      const v = f(x0 + (c * (x1 - x0)) / (G - 1), y1 - (r * (y1 - y0)) / (G - 1));
      values[r * G + c] = v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return { w: G, h: G, values, lo, hi };
}

/** Each hidden (and output) neuron's map, indexed [unit layer][neuron], from a frame's maps or curves. */
export function neuronMaps(f, s) {
  const maps = f.maps || (f.curves && f.curves.map((c) => curveMap(c)));
  if (!maps) return null;
  const K = f.nOutputs;
  const out = [];
  let k = K;
  for (const u of s.network.layers.slice(0, -1)) {
    out.push(maps.slice(k, k + u.n_out));
    k += u.n_out;
  }
  const nOut = s.network.n_out;
  const probs = s.data.task === "classification";
  // output units show what they predict: P(class k) on [-1, 1] as 2p − 1, or ŷ
  const shown = maps.slice(0, K).map((m) => (probs ? signed(m) : m));
  if (K === 1 && nOut === 2 && probs) shown.unshift(flip(shown[0]));
  out.push(shown.length === nOut ? shown : []);
  return out;
}

function curveMap(c) {
  let lo = Infinity, hi = -Infinity;
  for (const v of c) if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  return { w: c.length, h: 1, values: c, lo, hi };
}

// derived maps carry their own values and no `q`: the frame's bytes quantise the original map
const signed = (m) => ({ w: m.w, h: m.h, values: m.values.map((p) => 2 * p - 1), lo: -1, hi: 1 });
const flip = (m) => ({ w: m.w, h: m.h, values: m.values.map((v) => -v), lo: -m.hi, hi: -m.lo });

/** The output view's map: a plane's {w, h, planes, prob} (the K maps of P(class k), or the
 * one map of P(class 1) or ŷ: the frame's own maps, not copied), or a 1-D set's curve {w, h: 1, values}. */
export function outputMap(f, s) {
  if (f.curves) return { w: f.grid, h: 1, values: f.curves[0] };
  if (!f.maps) return null;
  return { w: f.grid, h: f.grid, planes: f.maps.slice(0, f.nOutputs), prob: s.data.task === "classification" };
}

/** Why the frames come slowly (frame flag SLOWED): the server's slow mode near an alarm. */
const SLOWED_TEXT = "Slowed down to one step per frame: the gradient norm ‖g‖ = ‖∂L/∂θ‖ is growing fast, as it does just before gradients explode.";

/** The alarm banner: {kind, layer (1-based), text} naming the layer the server named;
 * `vanishingRatio` is the server's threshold (hello.frame). `slowed` (frame flag SLOWED) adds
 * why training slowed down; with kind "none" it is the whole banner. */
export function alarmText(kind, f, s, vanishingRatio, detail = "", slowed = false) {
  if (kind === "none") return { kind: "slowed", layer: 0, text: `${SLOWED_TEXT} Now ‖g‖ = ${fmt(f.metrics.grad_norm)}.` };
  const alarm = alarmOf(kind, f, s, vanishingRatio, detail);
  if (slowed) alarm.text += ` ${SLOWED_TEXT}`;
  return alarm;
}

function alarmOf(kind, f, s, vanishingRatio, detail) {
  const l = f.alarmLayer;
  const units = s.network.layers;
  const name = l >= 0 && units[l] ? `layer ${l + 1} (${layerName(units[l])})` : "an unknown layer";
  const g = f.layers.map((u) => u.grad_W_norm);
  if (kind === "nan") {
    return { kind, layer: l + 1, text: `NaN: a non-finite value began in ${name}. Training paused and the weights went back to the start of the epoch; lower the learning rate or clip the gradients, then reset.${detail ? ` (${detail})` : ""}` };
  }
  if (kind === "exploding") {
    return { kind, layer: l + 1, text: `Exploding gradients in ${name}: ‖∂L/∂W‖ = ${fmt(g[l])}. Try gradient clipping, a smaller learning rate or a normalisation layer.` };
  }
  const ratio = g.length > 1 ? g[0] / g[g.length - 1] : NaN;
  return { kind, layer: l + 1, text: `Vanishing gradients at ${name}: its ‖∂L/∂W‖ is ${fmt(ratio)} × that of layer ${g.length} (below ${vanishingRatio.toExponential().replace("e+", "e")}). Try ReLU with He initialisation, or BatchNorm.` };
}

/** The status line above the network when no alarm shows: what the run is doing and how
 * large its gradients are, in words (the same numbers as the gradient view). */
export function statusText(f, s, FLAGS) {
  const doing = f.flags & FLAGS.REPLAY ? "Replay (recorded)" : f.flags & FLAGS.DONE ? "Done" : f.flags & FLAGS.RUNNING ? "Training" : "Paused";
  const where = `${doing} · step ${f.step.toLocaleString()} · epoch ${f.epoch}`;
  if (!(f.flags & FLAGS.HAS_STATS)) return `${where} · each step: forward pass → loss → δ back from the output to layer 1 → weight update`;
  const g = f.layers.map((u) => u.grad_W_norm);
  const L = g.length;
  const sizes = L === 1 ? `${fmt(g[0])} at layer 1 (output)` : `${fmt(g[0])} at layer 1, ${fmt(g[L - 1])} at layer ${L} (output)`;
  return `${where} · gradient size ‖∂L/∂W‖ ${sizes} · no alarm`;
}

/** The alarm box shows `alarm` ({kind, text, layer}) or hides (null). */
export function showAlarm(box, alarm) {
  box.hidden = !alarm;
  box.classList.toggle("nan", Boolean(alarm && alarm.kind === "nan"));
  box.textContent = alarm ? alarm.text : "";
  box.dataset.kind = alarm ? alarm.kind : "";
  box.dataset.layer = alarm ? String(alarm.layer) : "";
}

/** The connection dot's words for frame f: a replay, done, paused (and why) or training. */
export function runText(f, FLAGS, replay, running) {
  if (replay) return `replay of step ${f.step.toLocaleString()}`;
  if (f.flags & FLAGS.DONE) return "done: all epochs trained";
  if (f.flags & FLAGS.PAUSED_BY_ALARM) return "paused by the NaN alarm";
  if (f.flags & FLAGS.AT_PAUSE) return "paused at the preset's key moment";
  return running ? "training" : "paused";
}

/** Whether a frame was built before the current state (it crossed the state on the wire and
 * shows an older network or data set): the server counts the messages it has handled, and the
 * state says how many it answers. */
export function stale(f, s) {
  return f.handled < (s.handled ?? 0);
}

// The digit pad: the learner draws on a 32×32 bitmap (mouse, pen or touch), the page counts it
// in 4×4 blocks (digitdraw.js) and asks the server, a few times a second while drawing, what the
// network reads: the ten softmax probabilities as bars, the 8×8 image it was given, and ‖δ⁽ˡ⁾‖
// of that example's backward pass (its whole pass one click away, in "Show the maths").
import { BITMAP, SIDE, downsample, isEmpty, newBitmap, stroke } from "./digitdraw.js";
import { superscript } from "./netmode.js";
import { clear, el, fmt } from "./util.js";

const SEND_EVERY_MS = 120; // while the pen moves: about 8 questions a second, each answered in ~1 ms
const INK = [28, 36, 42]; // the drawn pixels and the 8×8 image's darkest grey

/** The Euclidean norm of a nested list of numbers (a δ vector). */
function norm(v) {
  return Math.sqrt(v.flat(Infinity).reduce((s, x) => s + (x ?? 0) ** 2, 0));
}

/** Paint values 0 … max as grey levels (0 white, max the ink colour) into a w×w canvas. */
export function paintGrey(canvas, values, w, max) {
  if (canvas.width !== w) canvas.width = canvas.height = w;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, w);
  for (let i = 0; i < w * w; i++) {
    const t = Math.max(0, Math.min(1, values[i] / max));
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = Math.round(255 + (INK[c] - 255) * t);
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * hooks: {onDraw(x) — x the 64 inputs 0–16 of the drawing (null: cleared), onMaths()}.
 * Returns {root, show(reply) — a predict reply, inputs() — the 64 numbers last sent, clear()}.
 */
export function createDigitPad(hooks) {
  let bitmap = newBitmap(), last = null, timer = null, sentAt = 0, sent = null;
  const pad = el("canvas", { class: "digit-pad", width: BITMAP, height: BITMAP, "data-testid": "digit-pad",
    "aria-label": "Drawing pad: draw a digit 0–9 with the mouse, a pen or a finger" });
  const small = el("canvas", { class: "digit-small", width: SIDE, height: SIDE, "data-testid": "digit-image",
    "aria-label": "The drawing as the network's 8×8 input", title: "the network's input: on pixels per 4×4 block, 0–16" });
  const clearBtn = el("button", { type: "button", text: "Clear", "data-testid": "digit-clear", onclick: () => reset() });
  const probs = el("div", { class: "digit-probs", "data-testid": "digit-probs", role: "list", "aria-label": "The network's probability for each digit" });
  const verdict = el("p", { class: "digit-verdict", "data-testid": "digit-verdict" });
  const deltas = el("p", { class: "digit-deltas", "data-testid": "digit-deltas" });
  const mathsBtn = el("button", { type: "button", text: "Show the maths of it", "data-testid": "digit-maths", disabled: true, onclick: () => hooks.onMaths() });
  const bars = Array.from({ length: 10 }, (_, k) => {
    const fill = el("span", { class: "fill" }), value = el("span", { class: "value", text: "–" });
    probs.append(el("div", { class: "prob", role: "listitem", "data-testid": "digit-prob", dataset: { k: String(k) } },
      el("span", { class: "digit", text: String(k) }), el("span", { class: "bar" }, fill), value));
    return { row: probs.children[k], fill, value };
  });
  const root = el("div", { class: "digit-draw" },
    el("div", { class: "pad-box" }, pad, el("div", { class: "small-box" }, clearBtn, small,
      el("span", { text: "the 8×8 input: on pixels per 4×4 block" }))),
    el("div", { class: "read-box" }, verdict, probs, deltas, mathsBtn));

  function paint() {
    const ctx = pad.getContext("2d"), img = ctx.createImageData(BITMAP, BITMAP);
    bitmap.forEach((on, i) => img.data.set(on ? [...INK, 255] : [255, 255, 255, 255], 4 * i));
    ctx.putImageData(img, 0, 0);
    paintGrey(small, downsample(bitmap), SIDE, 16);
  }

  /** Ask now, or once the throttle allows (the last drawing is always asked about). */
  function ask(now) {
    clearTimeout(timer);
    const wait = SEND_EVERY_MS - (performance.now() - sentAt);
    if (!now && wait > 0) {
      timer = setTimeout(() => ask(true), wait);
      return;
    }
    sentAt = performance.now();
    sent = downsample(bitmap);
    hooks.onDraw(sent);
  }

  function at(e) {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * BITMAP, ((e.clientY - r.top) / r.height) * BITMAP];
  }

  pad.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    last = at(e);
    stroke(bitmap, ...last, ...last);
    paint();
    ask(false);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    stroke(bitmap, ...last, ...p);
    last = p;
    paint();
    ask(false);
  });
  const lift = () => {
    if (!last) return;
    last = null;
    ask(true);
  };
  pad.addEventListener("pointerup", lift);
  pad.addEventListener("pointercancel", lift);

  function reset() {
    clearTimeout(timer);
    bitmap = newBitmap();
    sent = null;
    paint();
    show(null);
    hooks.onDraw(null);
  }

  /** Draw a predict reply's probabilities, verdict and ‖δ⁽ˡ⁾‖ (null: none yet). */
  function show(reply) {
    const p = reply ? reply.probabilities : null;
    const top = p ? p.indexOf(Math.max(...p)) : -1;
    bars.forEach(({ row, fill, value }, k) => {
      row.dataset.p = p ? String(p[k]) : "";
      row.classList.toggle("top", k === top);
      fill.style.width = p ? `${(100 * p[k]).toFixed(1)}%` : "0";
      value.textContent = p ? `${(100 * p[k]).toFixed(1)}%` : "–";
    });
    verdict.textContent = p ? `It reads a ${top} (${(100 * p[top]).toFixed(1)}%)` : isEmpty(bitmap) ? "Draw one digit, filling the box" : "";
    clear(deltas);
    const ex = reply && reply.explain;
    mathsBtn.disabled = !ex;
    if (ex) deltas.append("Backward pass, target ", String(top), ": ",
      ...ex.layers.map((s) => el("span", { class: "delta", text: `‖δ⁽${superscript(s.l)}⁾‖ = ${fmt(norm(s.quantities.delta.value))}` })));
    else if (reply && reply.explain_error) deltas.textContent = reply.explain_error;
  }

  paint();
  show(null);
  return { root, show, inputs: () => sent, clear: reset };
}

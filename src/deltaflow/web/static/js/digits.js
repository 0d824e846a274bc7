// The "Draw a digit" tab, shown while the data set is digits: the pad (digitpad.js) and what
// the network has learned (digitimages.js). It asks the server with `predict` messages and
// draws their replies; every frame redraws the weight images and the misclassified examples.
import { createDigitImages } from "./digitimages.js";
import { createDigitPad } from "./digitpad.js";
import { showTab } from "./tabs.js";

const FOLLOW_EVERY_MS = 250; // while training, the drawing is read again by the newer network this often

/**
 * tab: the tab's button, panel: its panel. hooks: {send(msg), onMaths(reply) — show a
 * predict reply's explanation in "Show the maths", onShown() — the tab was revealed}.
 * Returns {setState(state), update(frame), predicted(reply), pad, shown()}: shown() is the
 * drawing's 64 inputs and the reply drawn, `current` when that reply answers the last question.
 */
export function createDigits(tab, panel, hooks) {
  let active = false, asked = false, reply = null, step = -1, askedAt = 0, answered = true;
  let questions = 0, answers = 0; // predict messages sent and replies taken: replies come in order
  const pad = createDigitPad({
    onDraw(x) {
      asked = x !== null; // a reply to a drawing since cleared is dropped
      if (asked) ask();
    },
    onMaths: () => reply && reply.explain && hooks.onMaths({ ...reply, x: pad.inputs() }),
  });
  const images = createDigitImages();
  panel.append(pad.root, images.root);

  function ask() {
    if (!active || !asked || !pad.inputs()) return;
    askedAt = performance.now();
    answered = false;
    questions += 1;
    hooks.send({ type: "predict", x: pad.inputs() });
  }

  return {
    pad,
    shown: () => ({ x: pad.inputs(), reply, current: answers === questions }),
    setState(s) {
      const on = s.data.name === "digits" && Boolean(s.data.images);
      showTab(tab, on);
      images.setData(on ? s.data : null);
      if (on && !active) hooks.onShown();
      active = on;
      ask(); // a new network reads the same drawing
    },
    update(f) {
      if (!active) return;
      images.update(f);
      // while it trains, the drawing's probabilities follow the network: one question in flight
      // at a time (one unanswered for a second, refused say, no longer holds the next back)
      const since = performance.now() - askedAt;
      if (f.step !== step && since > FOLLOW_EVERY_MS && (answered || since > 1000)) ask();
      step = f.step;
    },
    predicted(msg) {
      answered = true;
      answers += 1;
      if (!active || !asked) return;
      reply = msg;
      pad.show(msg);
    },
  };
}

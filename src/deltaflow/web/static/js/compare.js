// Compare two runs: a second session on its own socket trains the current run with one change
// (same seed, same data), its play/pause/step/reset/speed mirrored from the main controls; its
// curves go dashed into the charts and its ‖∂L/∂W‖ per layer onto the gradient bars.
import { connect } from "./socket.js";
import { el } from "./util.js";

const sgd = (o) => ({ ...o, name: "sgd", momentum: null, betas: null, eps: null });
const adam = (o) => ({ ...o, name: "adam", momentum: null, betas: null, eps: null });
/** The changes on offer: id → {label, apply(config) → config} (config: a RunConfig dict, copied). */
export const CHANGES = {
  relu_he: { label: "ReLU + He init", apply: (c) => ({ ...c, model: { ...c.model, activation: "relu", init: "he_normal" } }) },
  tanh: { label: "tanh", apply: (c) => ({ ...c, model: { ...c.model, activation: "tanh", init: "auto" } }) },
  sigmoid: { label: "sigmoid", apply: (c) => ({ ...c, model: { ...c.model, activation: "sigmoid", init: "auto" } }) },
  sgd: { label: "SGD", apply: (c) => ({ ...c, optimizer: sgd(c.optimizer) }) },
  adam: { label: "Adam", apply: (c) => ({ ...c, optimizer: adam(c.optimizer) }) },
  lr_up: { label: "learning rate × 10", apply: (c) => ({ ...c, optimizer: { ...c.optimizer, lr: Math.min(100, Number((c.optimizer.lr * 10).toPrecision(6))) } }) },
  lr_down: { label: "learning rate ÷ 10", apply: (c) => ({ ...c, optimizer: { ...c.optimizer, lr: Number((c.optimizer.lr / 10).toPrecision(6)) } }) },
  batchnorm: { label: "add BatchNorm", apply: (c) => ({ ...c, model: { ...c.model, norm: "batch" } }) },
  clip: { label: "clip ‖g‖ at 1", apply: (c) => ({ ...c, clip_norm: 1 }) },
};
const MIRRORED = new Set(["play", "pause", "step", "reset", "speed", "regenerate"]);

/**
 * createCompare(slot, hooks) → {mirror(msg), sync(config), info}.
 * hooks: config() the main run's config; speed() its steps per frame; restart() puts the main
 * run back to step 0, paused; running() whether it plays; onStart(label), onFrame(frame, flags, label),
 * onStop(); showError(text). `info` (window.deltaflow.compare) holds the second session's id
 * (`session`, its hello.session), its `config`, `step` and `done`.
 */
export function createCompare(slot, hooks) {
  const info = { session: null, config: null, step: -1, done: false, change: null };
  const select = el("select", { "aria-label": "Change for the compared run", "data-testid": "compare-change" },
    ...Object.entries(CHANGES).map(([id, c]) => el("option", { value: id, text: c.label })));
  const start = el("button", { type: "button", "data-testid": "compare-start", text: "Compare…", title: "Train a copy of this run with one change beside it, from the same seed and data", onclick: () => begin(select.value) });
  const caption = el("span", { class: "cmp-caption", "data-testid": "compare-caption" });
  const stop = el("button", { type: "button", "data-testid": "compare-stop", text: "Stop comparing", onclick: () => end() });
  const idle = el("span", { class: "cmp-idle" }, start, select);
  const active = el("span", { class: "cmp-active", hidden: true }, caption, stop);
  slot.replaceChildren(idle, active);
  let socket = null, hello = null, state = null, pending = null, scheduled = false;

  function wanted() {
    return CHANGES[info.change].apply(structuredClone(hooks.config()));
  }

  function onMessage(msg) {
    if (msg.type === "hello") {
      hello = msg;
      info.session = msg.session;
      // no maps: the compared run shows curves and bars only, at a fraction of the bytes
      socket.send({ type: "config", config: wanted(), grid: 0 });
    } else if (msg.type === "state") {
      const first = !state;
      state = msg;
      info.config = msg.config;
      info.step = msg.step;
      socket.send({ type: "speed", steps_per_frame: hooks.speed() });
      if (first && hooks.running()) socket.send({ type: "play" });
    } else if (msg.type === "error" || msg.type === "full") {
      hooks.showError(`compared run: ${msg.message || "the server is full"}`);
    }
  }

  function draw() {
    scheduled = false;
    const f = pending;
    pending = null;
    if (!f) return;
    const flags = hello.frame.flags;
    info.step = f.step;
    info.done = Boolean(f.flags & flags.DONE);
    hooks.onFrame(f, flags, CHANGES[info.change].label);
    socket.ack(f.frameId);
  }

  function onFrame(f) {
    // a frame built before the current state (the server counts the messages it handled)
    if (!state || f.handled < (state.handled ?? 0)) return socket.ack(f.frameId);
    pending = f;
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(draw);
    }
  }

  function begin(id) {
    const now = hooks.config();
    if (JSON.stringify(CHANGES[id].apply(structuredClone(now))) === JSON.stringify(now)) {
      return hooks.showError(`the run already has ${CHANGES[id].label}: choose another change to compare`);
    }
    if (socket) end();
    info.change = id;
    info.done = false;
    hooks.restart();
    caption.textContent = `vs ${CHANGES[id].label}`;
    caption.title = `A copy of this run with ${CHANGES[id].label}, from the same seed and data: its curves are dashed, its ‖∂L/∂W‖ the dark markers on the bars`;
    idle.hidden = true;
    active.hidden = false;
    hooks.onStart(CHANGES[id].label);
    socket = connect({ onMessage, onFrame, onStatus() {} });
    stop.focus();
  }

  function end() {
    socket && socket.close();
    socket = hello = state = pending = null;
    Object.assign(info, { session: null, config: null, step: -1, done: false, change: null });
    idle.hidden = false;
    active.hidden = true;
    hooks.onStop();
  }

  return {
    info,
    /** A message the main controls sent: the compared run gets it too. */
    mirror(msg) {
      if (socket && state && MIRRORED.has(msg.type)) socket.send(msg);
    },
    /** The main run has a new config: the compared run follows it, with its change. */
    sync(config) {
      if (!socket || !state || !hello) return;
      const next = CHANGES[info.change].apply(structuredClone(config));
      if (JSON.stringify(next) !== JSON.stringify(state.config)) socket.send({ type: "config", config: next, grid: 0 });
    },
  };
}

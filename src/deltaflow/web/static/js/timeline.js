// The replay timeline: a slider over the steps the session has recorded (the server's
// `replay` answers list them) and a "Back to live" button. Moving the slider, by pointer or
// keys, asks the page to pause and request `replay` of that step; the page draws the answer
// like a live frame. One request is in flight at a time: while one is, the newest wanted step
// waits and goes out when the answer is drawn, so a fast drag never queues a backlog.
import { el } from "./util.js";

/**
 * createTimeline(root, hooks) → {badge, replaying(), setLive(step), answer(msg), shown(),
 * failed(), reset(), goLive()}.
 * hooks.onScrub(step: int ≥ 0) sends `{type: "replay", step}` (the page pauses training first);
 * hooks.onLive() draws the newest live frame again. `badge` is the "replay" mark the page puts
 * beside its step counter.
 */
export function createTimeline(root, hooks) {
  const slider = el("input", { type: "range", id: "timeline-slider", min: 0, max: 0, value: 0, step: 1, "data-testid": "timeline-slider" });
  const label = el("label", { for: "timeline-slider", "data-testid": "timeline-label" });
  const live = el("button", { type: "button", class: "timeline-live", "data-testid": "timeline-live", text: "Back to live", disabled: true });
  const badge = el("span", { class: "replay-badge", "data-testid": "replay-badge", text: "replay" });
  root.classList.add("timeline");
  root.append(label, slider, live);

  let steps = []; // recorded steps, oldest first (the last replay answer's)
  let newest = 0; // the newest live step
  let shownStep = null; // the replayed step on screen; null: live
  let cursor = null; // the step last asked for (keys walk on from it, not from an answer still on its way)
  let inFlight = false;
  let wanted = null; // a step to request once the answer in flight is drawn

  function paint() {
    const replaying = shownStep !== null;
    const at = replaying ? shownStep : newest;
    slider.max = String(Math.max(newest, at));
    slider.min = String(steps.length ? Math.min(steps[0], at) : 0);
    if (!replaying || document.activeElement !== slider) slider.value = String(at);
    label.textContent = replaying ? `Replay: step ${at.toLocaleString()} of ${newest.toLocaleString()}` : `Replay: live at step ${newest.toLocaleString()}`;
    slider.setAttribute("aria-valuetext", replaying ? `replaying step ${at} of ${newest}` : `live, step ${newest}`);
    live.disabled = !replaying;
    badge.classList.toggle("on", replaying);
    root.classList.toggle("replaying", replaying);
  }

  function request(step) {
    if (inFlight) {
      wanted = step;
      return;
    }
    inFlight = true;
    wanted = null;
    hooks.onScrub(step);
  }

  function scrub(step) {
    if (shownStep === null) shownStep = newest; // replaying from now on: live frames wait
    cursor = Math.max(0, Math.round(step));
    request(cursor);
    paint();
  }

  /** The recorded step before (dir −1) or after (+1) the one shown; null when none is known. */
  function neighbour(dir) {
    const at = cursor ?? newest;
    const pick = dir < 0 ? steps.filter((s) => s < at).pop() : steps.find((s) => s > at);
    return pick ?? null;
  }

  slider.addEventListener("input", () => scrub(Number(slider.value)));
  slider.addEventListener("keydown", (e) => {
    const keys = { ArrowLeft: -1, ArrowDown: -1, PageDown: -1, ArrowRight: 1, ArrowUp: 1, PageUp: 1 };
    let target = null;
    if (e.key === "Home") target = steps.length ? steps[0] : 0;
    else if (e.key === "End") target = steps.length ? steps[steps.length - 1] : newest;
    else if (e.key in keys) target = neighbour(keys[e.key]) ?? (cursor ?? newest) + keys[e.key];
    else return;
    e.preventDefault(); // the keys walk the recorded steps, not single steps
    target = Math.min(Math.max(target, 0), newest);
    slider.value = String(target);
    scrub(target);
  });
  live.addEventListener("click", () => api.goLive());

  const api = {
    badge,
    /** Whether a replayed step is on screen (live frames are then held, not drawn). */
    replaying: () => shownStep !== null,
    /** The newest live frame's step. */
    setLive(step) {
      newest = step;
      paint();
    },
    /** The server's {type: "replay", step, steps} answer. */
    answer(msg) {
      steps = msg.steps;
      if (shownStep !== null) shownStep = msg.step;
      paint();
    },
    /** The replayed frame is drawn: the next wanted step may go out. */
    shown() {
      inFlight = false;
      if (wanted !== null && shownStep !== null && wanted !== shownStep) request(wanted);
    },
    /** The replay was refused (an error): nothing is in flight any more. */
    failed() {
      inFlight = false;
      wanted = null;
    },
    /** A new run (a state): live, nothing recorded known. */
    reset() {
      steps = [];
      shownStep = cursor = null;
      inFlight = false;
      wanted = null;
      newest = 0;
      paint();
    },
    /** Back to the newest live state. */
    goLive() {
      if (shownStep === null) return;
      shownStep = cursor = null;
      wanted = null;
      paint();
      hooks.onLive();
    },
  };
  paint();
  return api;
}

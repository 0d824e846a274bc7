// The replay timeline: a slider over the steps the session has recorded (the server's
// `replay` answers list them) and a "Back to live" button. Moving the slider, by pointer or
// keys, asks the page to pause and request `replay` of that step; the page draws the answer
// like a live frame. One request is in flight at a time: while one is, the newest wanted step
// waits and goes out when the answer is drawn, so a fast drag never queues a backlog.
import { el } from "./util.js";

// keys that walk the recorded steps: −1 back, +1 forward
const WALK = { ArrowLeft: -1, ArrowDown: -1, PageDown: -1, ArrowRight: 1, ArrowUp: 1, PageUp: 1 };

class Timeline {
  constructor(root, hooks) {
    this.hooks = hooks;
    this.slider = el("input", { type: "range", id: "timeline-slider", min: 0, max: 0, value: 0, step: 1, "data-testid": "timeline-slider" });
    this.label = el("label", { for: "timeline-slider", "data-testid": "timeline-label" });
    this.live = el("button", { type: "button", class: "timeline-live", "data-testid": "timeline-live", text: "Back to live", disabled: true });
    /** the "replay" mark the page puts beside its step counter */
    this.badge = el("span", { class: "replay-badge", "data-testid": "replay-badge", text: "replay" });
    root.classList.add("timeline");
    root.append(this.label, this.slider, this.live);
    this.root = root;
    this.slider.addEventListener("input", () => this.scrub(Number(this.slider.value)));
    this.slider.addEventListener("keydown", (e) => this.onKey(e));
    this.live.addEventListener("click", () => this.goLive());
    this.newest = 0; // the newest live step
    this.reset();
  }

  /** A new run (a state): live, no recorded step known. */
  reset() {
    this.steps = []; // recorded steps, oldest first (the last replay answer's)
    this.shownStep = null; // the replayed step on screen; null: live
    this.cursor = null; // the step last asked for: keys walk on from it, not from an answer on its way
    this.inFlight = false;
    this.wanted = null; // a step to ask for once the answer in flight is drawn
    this.newest = 0;
    this.paint();
  }

  /** Whether a replayed step is on screen (live frames are then held, not drawn). */
  replaying() {
    return this.shownStep !== null;
  }

  /** The newest live frame's step. */
  setLive(step) {
    this.newest = step;
    this.paint();
  }

  /** The server's {type: "replay", step, steps: [int]} answer. */
  answer(msg) {
    this.steps = msg.steps;
    if (this.replaying()) this.shownStep = msg.step;
    this.paint();
  }

  /** The replayed frame is drawn: the step wanted meanwhile may go out. */
  shown() {
    this.inFlight = false;
    if (this.wanted !== null && this.replaying() && this.wanted !== this.shownStep) this.request(this.wanted);
  }

  /** The replay was refused (an error): nothing is in flight any more. */
  failed() {
    this.inFlight = false;
    this.wanted = null;
  }

  /** Back to the newest live state (hooks.onLive draws it). */
  goLive() {
    if (!this.replaying()) return;
    this.shownStep = this.cursor = this.wanted = null;
    this.paint();
    this.hooks.onLive();
  }

  scrub(step) {
    if (!this.replaying()) this.shownStep = this.newest; // from now on live frames wait
    this.cursor = Math.max(0, Math.round(step));
    this.request(this.cursor);
    this.paint();
  }

  request(step) {
    if (this.inFlight) {
      this.wanted = step;
      return;
    }
    this.inFlight = true;
    this.wanted = null;
    this.hooks.onScrub(step);
  }

  onKey(e) {
    const steps = this.steps, at = this.cursor ?? this.newest;
    let target;
    if (e.key === "Home") target = steps.length ? steps[0] : 0;
    else if (e.key === "End") target = steps.length ? steps[steps.length - 1] : this.newest;
    else if (e.key in WALK) {
      const dir = WALK[e.key];
      target = (dir < 0 ? steps.filter((s) => s < at).pop() : steps.find((s) => s > at)) ?? at + dir;
    } else return;
    e.preventDefault(); // the keys walk the recorded steps, not single steps
    target = Math.min(Math.max(target, 0), this.newest);
    this.slider.value = String(target);
    this.scrub(target);
  }

  paint() {
    const replaying = this.replaying(), at = replaying ? this.shownStep : this.newest, newest = this.newest;
    this.slider.max = String(Math.max(newest, at));
    this.slider.min = String(this.steps.length ? Math.min(this.steps[0], at) : 0);
    // not under the user's hand: a drag or a key has put the slider where they want it
    if (!replaying || document.activeElement !== this.slider) this.slider.value = String(at);
    this.label.textContent = replaying ? `Replay: step ${at.toLocaleString()} of ${newest.toLocaleString()}` : `Replay: live at step ${newest.toLocaleString()}`;
    this.slider.setAttribute("aria-valuetext", replaying ? `replaying step ${at} of ${newest}` : `live, step ${newest}`);
    this.live.disabled = !replaying;
    this.badge.classList.toggle("on", replaying);
    this.root.classList.toggle("replaying", replaying);
  }
}

/**
 * createTimeline(root, hooks) → {badge, replaying(), setLive(step), answer(msg), shown(),
 * failed(), reset(), goLive()}.
 * hooks.onScrub(step: int ≥ 0) sends `{type: "replay", step}` (the page pauses training first);
 * hooks.onLive() draws the newest live frame again.
 */
export function createTimeline(root, hooks) {
  return new Timeline(root, hooks);
}

// A preset's story in the presets bar: what to watch and why, and at the preset's key moment
// (the step it pauses after, or its NaN alarm) the "what you saw" sentence, filled with the
// numbers of the frame it stopped on as the page shows them. Texts come from hello.presets.
import { el, fmt } from "./util.js";

/** `template` with each {field} replaced by values[field] (an unknown field stays as written). */
export function fillMoment(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? values[key] : whole));
}

/** The moment's numbers from frame `f` (layers: L unit layers, each with grad_W_norm), `peak`
 * (the largest finite ‖g‖ drawn since the preset began) and `testMetric` (the test accuracy or
 * R² as the page shows it): {step, test_metric, layers, grad_first, grad_last, grad_ratio,
 * alarm_layer, peak_grad_norm}, all strings. */
export function momentValues(f, peak, testMetric) {
  const g = f.layers.map((u) => u.grad_W_norm);
  const L = g.length;
  return {
    step: f.step.toLocaleString(), test_metric: testMetric, layers: String(L),
    grad_first: fmt(g[0]), grad_last: fmt(g[L - 1]), grad_ratio: fmt(g[0] / g[L - 1]),
    alarm_layer: String(f.alarmLayer + 1), peak_grad_norm: fmt(peak),
  };
}

/** Whether state config `c` is preset `p`'s (the seed aside: regenerate keeps the story). */
function isPresets(c, p) {
  return sameDeep({ ...c, seed: 0 }, { ...p.config, seed: 0 });
}

function sameDeep(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => sameDeep(a[k], b[k]));
}

/** The story in `note` (the #preset-note paragraph); hooks: {testMetric() → the shown test metric}.
 * start(preset) when one is chosen, state(s) for each state (a config not the preset's ends the
 * story), frame(f, FLAGS) for each drawn frame. */
// shown while no preset is chosen: the note keeps its two lines, so choosing one moves nothing
const NO_STORY = "Each preset above is a short experiment: it says what to watch and why, stops by itself at its key moment and then tells you what you saw, with your run's numbers.";

export function createStory(note, hooks) {
  const said = el("strong", { class: "moment", "data-testid": "preset-moment" });
  const text = el("span", { class: "story", "data-testid": "preset-story" });
  const body = el("span", { class: "story-text" }, said, text);
  const more = el("button", { type: "button", class: "story-more", "aria-expanded": "false", "aria-label": "the whole story: what to watch and why", "data-testid": "preset-more", text: "more", hidden: true });
  more.addEventListener("click", () => {
    const open = note.classList.toggle("open");
    more.setAttribute("aria-expanded", String(open));
    more.textContent = open ? "less" : "more";
  });
  note.append(body, more);
  let preset = null;
  let peak = NaN;
  let reached = false;

  // "more" only when some of the story is hidden: clamped, or (at the moment) folded away
  const fit = () => {
    const folded = note.dataset.moment === "shown" || body.scrollHeight > body.clientHeight + 1;
    more.hidden = !note.classList.contains("open") && !folded;
  };
  new ResizeObserver(fit).observe(note);

  function show(p) {
    preset = p;
    peak = NaN;
    reached = false;
    said.textContent = "";
    text.textContent = p ? p.story : NO_STORY;
    note.dataset.preset = p ? p.name : "";
    note.dataset.moment = "";
    requestAnimationFrame(fit);
  }

  show(null);
  return {
    start: show,
    state(s) {
      if (preset && !(isPresets(s.config, preset) && (s.pause_at ?? null) === (preset.pause_at ?? null))) show(null);
      else if (preset && s.step === 0) show(preset); // reset or regenerate: the story starts again
    },
    frame(f, FLAGS) {
      if (!preset || reached) return;
      const g = f.metrics.grad_norm;
      if (Number.isFinite(g)) peak = Number.isFinite(peak) ? Math.max(peak, g) : g;
      const atMoment = preset.pause_at === null
        ? Boolean(f.flags & FLAGS.PAUSED_BY_ALARM)
        : Boolean(f.flags & FLAGS.AT_PAUSE) && f.step === preset.pause_at;
      if (!atMoment) return;
      reached = true;
      said.textContent = `What you saw: ${fillMoment(preset.moment, momentValues(f, peak, hooks.testMetric()))} `;
      note.dataset.moment = "shown";
      requestAnimationFrame(fit);
    },
  };
}

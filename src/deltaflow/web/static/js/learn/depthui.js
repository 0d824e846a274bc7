// Form pieces and the "Try this" box shared by the depth chapters (vanishing, batchnorm, universal).
import { el } from "../util.js";

export function select(testid, options, value) {
  const s = el("select", { "data-testid": testid }, ...options.map((o) => el("option", { value: o, text: o })));
  s.value = value;
  return s;
}

export function numberInput(testid, value, attrs = {}) {
  return el("input", { type: "number", "data-testid": testid, value: String(value), ...attrs });
}

export function field(label, control) {
  return el("label", { class: "lp-field" }, el("span", { text: label }), control);
}

/**
 * challengeBox(ctx, id, text, parts) → {node, meet(i), allMet(), done(summary, sentence)}.
 * Each part is ticked by meet(i) when a lesson result says it is met; done() marks the chapter
 * complete (ctx.complete) and shows "What you saw" with the run's numbers (summary.text).
 */
export function challengeBox(ctx, id, text, parts) {
  const met = parts.map(() => false);
  const items = parts.map((p, i) => el("li", { "data-testid": `challenge-${id}-part-${i}`, "data-met": "false", text: p }));
  const doneNode = el("p", { class: "lp-done", "data-testid": `challenge-done-${id}`, hidden: true, text: "✓ Challenge met." });
  const summary = el("p", { class: "lp-summary", "data-testid": `summary-${id}`, hidden: true });
  const node = el("section", { class: "lp-challenge", "data-testid": `challenge-${id}` },
    el("h3", { text: "Try this" }), el("p", { text }), el("ul", {}, ...items), doneNode,
    el("h4", { text: "What you saw", hidden: true }), summary);
  const show = (sentence) => {
    doneNode.hidden = false;
    summary.hidden = false;
    node.querySelector("h4").hidden = false;
    summary.textContent = sentence;
  };
  const before = ctx.progress && ctx.progress();
  if (before && before.done && before.summary && before.summary.text) show(`Last time: ${before.summary.text}`);
  return {
    node,
    meet(i) {
      met[i] = true;
      items[i].dataset.met = "true";
      items[i].textContent = `✓ ${parts[i]}`;
    },
    allMet: () => met.every(Boolean),
    done(numbers, sentence) {
      ctx.complete({ ...numbers, text: sentence });
      show(sentence);
    },
  };
}

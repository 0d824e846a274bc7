// Train and test curves (loss, and accuracy or R²) over training steps, with the current values
// as numbers above the output heatmap; a compared run (compare.js) adds its curves dashed.
import { createLineChart } from "./linechart.js";
import { describe, STATS } from "./statwords.js";
import { el, fmt, NEG, POS, rgb } from "./util.js";

const KEEP = 1500; // points per series; older history is thinned by half when reached
const noHistory = () => ({ trainLoss: [], testLoss: [], trainAcc: [], testAcc: [] });

/** A frame's whole-set numbers {trainLoss, testLoss, trainAcc, testAcc}; the test ones
 * undefined when the frame has no test set (`flags`: hello.frame.flags). */
export function frameMetrics(f, flags) {
  const m = f.metrics;
  const hasTest = Boolean(f.flags & flags.HAS_TEST);
  return { trainLoss: m.train_loss, testLoss: hasTest ? m.test_loss : undefined, trainAcc: m.train_metric, testAcc: hasTest ? m.test_metric : undefined };
}

function push(history, name, step, v) {
  const s = history[name];
  if (v === undefined || v === null) return;
  s.push([step, v]);
  if (s.length > KEEP) history[name] = s.filter((_, i) => i % 2 === 0 || i === s.length - 1);
}

/** Append one frame's numbers; a step before the last point's means the run went back: start again. */
function record(history, step, m) {
  const h = history.trainLoss.length && step < history.trainLoss[history.trainLoss.length - 1][0] ? noHistory() : history;
  for (const k of Object.keys(h)) push(h, k, step, m[k]);
  return h;
}

export function createCharts(numbersRoot, chartsRoot) {
  const out = {};
  const labels = {};
  // the column is narrow: "Train" on screen, the full words for screen readers
  for (const [key, label, stat] of [["test-loss", "Test loss", "loss"], ["train-loss", "Training loss", "loss"], ["test-acc", "Test accuracy", "accuracy"], ["train-acc", "Training accuracy", "accuracy"]]) {
    out[key] = el("output", { "data-testid": key, "aria-label": label, text: "–" });
    labels[key] = describe(el("span", { text: label.replace("Training", "Train") }), stat);
    numbersRoot.append(el("div", { "data-key": key }, labels[key], out[key]));
  }
  const loss = createLineChart({ title: `Loss: ${STATS.loss.short}`, yTitle: "loss", describe: (n) => describe(n, "loss") });
  const acc = createLineChart({ title: `Accuracy: ${STATS.accuracy.short}`, yTitle: "accuracy", fixed: [0, 1], describe: (n) => describe(n, "accuracy") });
  const logBox = el("input", { type: "checkbox", "data-testid": "loss-log", onchange: (e) => loss.setLog(e.target.checked) });
  loss.node.querySelector(".lc-head").append(el("label", { class: "lc-log", title: "Logarithmic loss axis: losses that span decades" }, logBox, " log"));
  loss.node.dataset.testid = "loss-chart";
  acc.node.dataset.testid = "metric-chart";
  chartsRoot.append(loss.node, acc.node);
  let history = noHistory(), other = null; // other: {label, history} of a compared run
  let classification = true, metricName = "accuracy";
  const metricText = (v) => (!Number.isFinite(v) ? "–" : classification ? `${(100 * v).toFixed(1)}%` : fmt(v, 4));

  function redraw() {
    const lines = (train, test, unit) => [
      { name: `train ${unit}`, colour: rgb(POS), points: history[train] },
      { name: `test ${unit}`, colour: rgb(NEG), points: history[test] },
      // the compared run: one legend entry for its two dashed curves
      ...(other ? [
        { name: `train ${unit} (${other.label})`, legend: `${other.label}: dashed`, colour: rgb(POS), dashed: true, points: other.history[train] },
        { name: `test ${unit} (${other.label})`, legend: null, colour: rgb(NEG), dashed: true, points: other.history[test] }] : [])];
    loss.draw(lines("trainLoss", "testLoss", "loss"));
    acc.draw(lines("trainAcc", "testAcc", metricName));
  }

  return {
    /** metric: "accuracy" (classification) or "r2" (regression) */
    reset(isClassification, metric) {
      classification = isClassification;
      history = noHistory();
      if (other) other.history = noHistory();
      for (const o of Object.values(out)) o.textContent = "–";
      const stat = metric === "r2" ? "r2" : "accuracy";
      metricName = metric === "r2" ? "R²" : "accuracy";
      for (const k of ["test-acc", "train-acc"]) describe(labels[k], stat);
      labels["test-acc"].textContent = `Test ${metricName}`;
      labels["train-acc"].textContent = `Train ${metricName}`;
      out["test-acc"].setAttribute("aria-label", `Test ${metricName}`);
      out["train-acc"].setAttribute("aria-label", `Training ${metricName}`);
      acc.setTitles(`${metric === "r2" ? "R²" : "Accuracy"}: ${STATS[stat].short}`, metricName);
      loss.resetRange();
      redraw();
    },
    /** m: {trainLoss, testLoss, trainAcc, testAcc} at training step `step` (any may be missing) */
    update(step, m) {
      const before = history;
      history = record(history, step, m);
      if (history !== before) loss.resetRange();
      this.show(m);
      redraw();
    },
    /** The compared run's numbers at its step `step` (as `update`'s). */
    overlay(step, m) {
      if (!other) return;
      other.history = record(other.history, step, m);
      redraw();
    },
    /** label: the compared run's change, shown in the legend; null: no compared run */
    setOverlay(label) {
      other = label ? { label, history: noHistory() } : null;
      redraw();
    },
    show(m) {
      out["test-loss"].textContent = fmt(m.testLoss, 4);
      out["train-loss"].textContent = fmt(m.trainLoss, 4);
      out["test-acc"].textContent = metricText(m.testAcc);
      out["train-acc"].textContent = metricText(m.trainAcc);
    },
  };
}

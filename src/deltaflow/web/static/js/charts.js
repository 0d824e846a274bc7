// Train and test curves (loss, and accuracy for classification) over training steps,
// with the current values as numbers above the output heatmap.
import { el, fmt, NEG, POS, rgb } from "./util.js";

const KEEP = 1500; // points per series; older history is thinned by half when reached
const noHistory = () => ({ trainLoss: [], testLoss: [], trainAcc: [], testAcc: [] });

function lineChart(title, unit) {
  const canvas = el("canvas", { width: 640, height: 220, "aria-label": title });
  const heading = el("b", { text: title });
  const names = [el("span", { text: `train ${unit}` }), el("span", { text: `test ${unit}` })];
  const legend = el("div", { class: "legend" },
    el("span", {}, el("i", { style: `background:${rgb(POS)}` }), names[0]),
    el("span", {}, el("i", { style: `background:${rgb(NEG)}` }), names[1]));
  return {
    canvas, legend, nodes: [el("div", { class: "legend" }, heading), canvas, legend],
    rename(t, u) {
      heading.textContent = t;
      names[0].textContent = `train ${u}`;
      names[1].textContent = `test ${u}`;
    },
  };
}

function draw(canvas, series, fixedMax) {
  const ctx = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  const pts = series.flatMap((s) => s.points);
  if (pts.length < 2) return;
  const x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  const finite = pts.map((p) => p[1]).filter(Number.isFinite);
  const top = fixedMax ?? Math.max(1e-9, ...finite) * 1.05;
  ctx.strokeStyle = "#eef1f3";
  ctx.lineWidth = 1;
  for (let g = 1; g < 4; g++) {
    ctx.beginPath();
    ctx.moveTo(0, (h * g) / 4);
    ctx.lineTo(w, (h * g) / 4);
    ctx.stroke();
  }
  ctx.fillStyle = "#6b7a84";
  ctx.font = "20px system-ui, sans-serif";
  ctx.fillText(fmt(top, 2), 4, 20);
  for (const s of series) {
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 3;
    ctx.beginPath();
    let started = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y)) continue;
      const X = x1 > x0 ? ((x - x0) / (x1 - x0)) * w : 0;
      const Y = h - Math.min(1, y / top) * (h - 4);
      started ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y);
      started = true;
    }
    ctx.stroke();
  }
}

export function createCharts(numbersRoot, chartsRoot) {
  const out = {};
  const labels = {};
  // the column is narrow: "Train" on screen, the full words for screen readers
  for (const [key, label] of [["test-loss", "Test loss"], ["train-loss", "Training loss"], ["test-acc", "Test accuracy"], ["train-acc", "Training accuracy"]]) {
    out[key] = el("output", { "data-testid": key, "aria-label": label, text: "–" });
    labels[key] = el("span", { text: label.replace("Training", "Train") });
    numbersRoot.append(el("div", { "data-key": key }, labels[key], out[key]));
  }
  const loss = lineChart("Loss", "loss");
  const acc = lineChart("Accuracy", "accuracy");
  chartsRoot.append(...loss.nodes, ...acc.nodes);
  let history = noHistory();
  let classification = true;
  const metricText = (v) => (!Number.isFinite(v) ? "–" : classification ? `${(100 * v).toFixed(1)}%` : fmt(v, 4));

  function push(name, step, v) {
    const s = history[name];
    if (v === undefined || v === null) return;
    s.push([step, v]);
    if (s.length > KEEP) history[name] = s.filter((_, i) => i % 2 === 0 || i === s.length - 1);
  }

  return {
    /** metric: "accuracy" (classification) or "r2" (regression) */
    reset(isClassification, metric) {
      classification = isClassification;
      history = noHistory();
      for (const o of Object.values(out)) o.textContent = "–";
      const name = metric === "r2" ? "R²" : "accuracy";
      labels["test-acc"].textContent = `Test ${name}`;
      labels["train-acc"].textContent = `Train ${name}`;
      out["test-acc"].setAttribute("aria-label", `Test ${name}`);
      out["train-acc"].setAttribute("aria-label", `Training ${name}`);
      acc.rename(metric === "r2" ? "R²" : "Accuracy", name);
      draw(loss.canvas, []);
      draw(acc.canvas, []);
    },
    /** m: {trainLoss, testLoss, trainAcc, testAcc} at training step `step` (any may be missing) */
    update(step, m) {
      // a step before the last point's: the run went back; the curves start again
      if (history.trainLoss.length && step < history.trainLoss[history.trainLoss.length - 1][0]) {
        history = noHistory();
      }
      push("trainLoss", step, m.trainLoss);
      push("testLoss", step, m.testLoss);
      push("trainAcc", step, m.trainAcc);
      push("testAcc", step, m.testAcc);
      this.show(m);
      draw(loss.canvas, [{ points: history.trainLoss, colour: rgb(POS) }, { points: history.testLoss, colour: rgb(NEG) }]);
      draw(acc.canvas, [{ points: history.trainAcc, colour: rgb(POS) }, { points: history.testAcc, colour: rgb(NEG) }], 1);
    },
    show(m) {
      out["test-loss"].textContent = fmt(m.testLoss, 4);
      out["train-loss"].textContent = fmt(m.trainLoss, 4);
      out["test-acc"].textContent = metricText(m.testAcc);
      out["train-acc"].textContent = metricText(m.trainAcc);
    },
  };
}

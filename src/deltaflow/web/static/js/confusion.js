// The "Confusion matrix" tab, shown for classification sets: entry (i, j) counts the examples
// of true class i the network predicts as class j, so the diagonal holds what it gets right;
// per-class accuracy is row i's diagonal over the row's total (n_ii / Σ_j n_ij). Counted from
// the frame's predictions of the test set (the training set's when there is no test set), so
// it follows training, edits and replays frame by frame.
import { showTab } from "./tabs.js";
import { clear, el, pct } from "./util.js";

/** counts(truth, predicted, K) → K×K nested arrays, rows true class, columns predicted. */
export function confusionCounts(truth, predicted, K) {
  const m = Array.from({ length: K }, () => new Array(K).fill(0));
  for (let n = 0; n < truth.length; n++) m[truth[n]][predicted[n]] += 1;
  return m;
}

/** tab, panel: the tab's button and panel; onShown() selects the tab (a tabular set's first view). */
export function createConfusion(tab, panel, { onShown }) {
  let truth = null, names = [], useTest = true, shownFor = null;
  const caption = el("p", { class: "note", "data-testid": "confusion-caption" });
  const table = el("table", { class: "confusion-table", "data-testid": "confusion-table" });
  const overall = el("p", { class: "confusion-overall", "data-testid": "confusion-overall" });
  panel.append(el("div", { class: "confusion" }, caption, el("div", { class: "confusion-scroll" }, table), overall));

  function head() {
    clear(table);
    table.append(el("caption", { class: "visually-hidden", text: "Rows: true class; columns: predicted class" }),
      el("tr", {}, el("th", { class: "corner", text: "true ↓ · predicted →" }),
        ...names.map((n) => el("th", { scope: "col", text: n })), el("th", { scope: "col", text: "class accuracy" })));
  }

  function draw(m) {
    head();
    let right = 0, all = 0;
    m.forEach((row, i) => {
      const total = row.reduce((a, b) => a + b, 0), acc = total ? row[i] / total : null;
      right += row[i];
      all += total;
      table.append(el("tr", {}, el("th", { scope: "row", text: names[i] }),
        ...row.map((c, j) => el("td", {
          class: i === j ? "hit" : c ? "miss" : "", "data-testid": `confusion-cell-${i}-${j}`, "data-count": String(c),
          // the shade is the share of the true class's examples: a row reads as where that class goes
          style: `--share: ${total ? c / total : 0}`, title: `true ${names[i]}, predicted ${names[j]}: ${c}`, text: String(c) })),
        el("td", { class: "acc", "data-testid": `class-accuracy-${i}`, "data-value": acc === null ? "" : String(acc),
          text: acc === null ? "–" : pct(100 * acc) })));
    });
    overall.dataset.value = all ? String(right / all) : "";
    overall.textContent = all ? `Accuracy ${pct(100 * right / all)}: ${right} of ${all} ${useTest ? "test" : "training"} examples on the diagonal.` : "";
  }

  return {
    setState(s) {
      const on = s.data.task === "classification";
      showTab(tab, on);
      if (!on) return void (truth = null);
      useTest = s.data.test.y.length > 0;
      truth = (useTest ? s.data.test : s.data.train).y;
      const K = s.data.n_classes;
      names = Array.from({ length: K }, (_, k) => String(s.data.class_names?.[k] ?? k));
      caption.textContent = `${useTest ? "Test" : "Training"} examples (${truth.length}) counted by true class (rows) and the network's predicted class (columns).`;
      head();
      overall.textContent = "";
      // a table of numbers is the first thing to read about a tabular set: its inputs have no map
      const tabular = s.data.projection && s.data.name !== "digits";
      if (tabular && shownFor !== s.data.name) onShown();
      shownFor = tabular ? s.data.name : null;
    },
    update(f) {
      if (!truth) return;
      const predicted = useTest ? f.predictions : f.trainPredictions;
      if (predicted && predicted.length === truth.length) draw(confusionCounts(truth, predicted, names.length));
    },
  };
}

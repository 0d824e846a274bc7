// The left column: the data set and how it is drawn and split, the class a click adds,
// CSV upload, the presets, and sharing (config file and link, trained model).
import { rangeField, selectField } from "./fields.js";
import { label } from "./labels.js";
import { createStory } from "./story.js";
import { classRgb, clear, el, rgb } from "./util.js";

/** A file's name as the server takes it for an upload: `<stem>.csv`, the stem of at most 64
 * characters of [A-Za-z0-9_. -] starting with a letter or digit (others become "_"). */
export function csvName(name) {
  const stem = name.replace(/\.csv$/i, "").replace(/[^A-Za-z0-9_. -]/g, "_").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64);
  return `${stem || "upload"}.csv`;
}

function fileButton(text, accept, testid, onFile) {
  const input = el("input", { type: "file", accept, "aria-label": text, "data-testid": testid });
  input.addEventListener("change", () => {
    const file = input.files[0];
    input.value = "";
    if (file) file.text().then((t) => onFile(t, file.name));
  });
  return el("label", { class: "file-button", role: "button" }, text, input);
}

/** hooks: {onConfig(path, value), onDataset(name), onRegenerate(), onCsv(text, name), onClickClass(k),
 *  onPreset(preset), onDownloadConfig(), onUploadConfig(text), onDownloadModel(), onCopyLink()};
 *  the data set buttons come with setDatasets(hello.datasets). */
export function createDataPanel(hooks) {
  const on = hooks.onConfig;
  const buttons = new Map();
  const grid = el("div", { class: "datasets", role: "group", "aria-label": "Data set" });
  const fields = [
    rangeField({ label: "Test data", path: "data.test_fraction", min: 0.1, max: 0.9, step: 0.05, testid: "test-fraction", onChange: on, show: (v) => `${Math.round(v * 100)}%` }),
    rangeField({ label: "Noise", path: "data.noise", min: 0, max: 1, step: 0.05, testid: "noise", onChange: on, show: (v) => v.toFixed(2) }),
    selectField({ label: "Samples", path: "data.n_samples", numeric: true, testid: "n-samples", onChange: on, options: [["", "default"], ...[100, 200, 300, 500, 1000, 2000].map((v) => [v, String(v)])] }),
    selectField({ label: "Classes (K-spiral)", path: "data.classes", numeric: true, testid: "classes", onChange: on, options: [2, 3, 4, 5, 6, 7, 8].map((v) => [v, String(v)]) }),
  ];
  const clickClass = el("select", { id: "click-class", "data-testid": "click-class", onchange: (e) => hooks.onClickClass(Number(e.target.value)) });
  const root = document.getElementById("data-controls");
  root.append(grid, ...fields.map((f) => f.node),
    el("div", { class: "field" }, el("label", { for: "click-class", text: "A click on the output adds" }), clickClass),
    el("div", { class: "row" },
      el("button", { type: "button", text: "Regenerate", "data-testid": "regenerate", onclick: () => hooks.onRegenerate() }),
      fileButton("Upload CSV…", ".csv,text/csv", "upload-csv", hooks.onCsv)),
    el("p", { class: "hint", text: "CSV: a header, numeric feature columns (two, or more: drawn on their PCA plane) and a last column with the label (class) or target value." }));

  const share = document.getElementById("share-controls");
  share.append(
    el("button", { type: "button", text: "Download config (JSON)", "data-testid": "download-config", onclick: () => hooks.onDownloadConfig() }),
    fileButton("Upload config…", ".json,application/json", "upload-config", (t) => hooks.onUploadConfig(t)),
    el("button", { type: "button", text: "Download model (.npz)", "data-testid": "download-model", onclick: () => hooks.onDownloadModel() }),
    el("button", { type: "button", text: "Copy link to this setup", "data-testid": "copy-link", onclick: () => hooks.onCopyLink() }));

  const story = createStory(document.getElementById("preset-note"), {
    testMetric: () => document.querySelector("[data-testid=test-acc]")?.textContent ?? "–",
  });

  return {
    story,
    setDatasets(datasets) {
      clear(grid);
      buttons.clear();
      for (const { name } of datasets) {
        const b = el("button", { type: "button", text: label("datasets", name), "aria-pressed": "false", "data-testid": `dataset-${name}`, onclick: () => hooks.onDataset(name) });
        buttons.set(name, b);
        grid.append(b);
      }
    },
    sync(config, info) {
      for (const [name, b] of buttons) b.setAttribute("aria-pressed", String(name === config.data.name));
      const shown = { ...config, data: { ...config.data, noise: config.data.noise ?? info.noise ?? 0 } };
      // the set's own limit, as the config checks it (none: an upload takes no noise)
      fields[1].node.hidden = info.maxNoise === null;
      if (info.maxNoise !== null) fields[1].setMax(info.maxNoise);
      fields.forEach((f) => f.sync(shown));
      fields[3].node.hidden = config.data.name !== "spiral3";
      fields[2].node.hidden = Boolean(info.fixed); // a bundled real set has its own rows
      clickClass.parentNode.hidden = Boolean(info.projection); // no point of a PCA plane is an example
      const k = info.task === "classification" ? info.nClasses || 2 : 0;
      clear(clickClass);
      for (let c = 0; c < k; c++) clickClass.append(el("option", { value: c, text: `class ${c}`, style: `color:${rgb(classRgb(c))}` }));
      if (!k) clickClass.append(el("option", { value: 0, text: "a point (x, y)" }));
      clickClass.value = String(info.clickClass ?? 0); // the class chosen before this state, kept
    },
    setPresets(presets) {
      const box = clear(document.getElementById("presets"));
      for (const p of presets) {
        const b = el("button", { type: "button", "data-testid": `preset-${p.name}`, title: p.description || "", "aria-pressed": "false", text: p.title || p.name });
        b.addEventListener("click", () => {
          box.querySelectorAll("button").forEach((o) => o.setAttribute("aria-pressed", String(o === b)));
          story.start(p);
          hooks.onPreset(p);
        });
        box.append(b);
      }
    },
  };
}

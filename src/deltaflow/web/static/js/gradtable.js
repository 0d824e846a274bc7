// The "Layer statistics" table of the gradient view: one row per unit layer (1 … L, L the
// output layer), one column per probe statistic, each header a symbol over its plain words
// with the formula as its tooltip (statwords.js).
import { describe, STATS } from "./statwords.js";
import { el, fmt, pct } from "./util.js";

const COLUMNS = ["W_norm", "delta_norm", "sigma_prime_mean", "saturated_pct", "dead_pct", "update_ratio"];
const TESTID = { saturated_pct: "saturated", dead_pct: "dead", update_ratio: "update-ratio" };
// a share above this is marked: most of the layer passes no gradient
const WARN = { saturated_pct: 50, dead_pct: 50, update_ratio: 1e-1 };

/** createGradtable() → {node, build(layerNames), update(layers)}; layers: a frame's per-layer stats. */
export function createGradtable() {
  const table = el("table", { class: "gf-table", "data-testid": "grad-stats" });
  let cells = [];
  return {
    node: table,
    build(names) {
      const head = COLUMNS.map((k) => describe(el("th", {}, el("span", { text: STATS[k].symbol }), el("small", { text: STATS[k].short })), k));
      const body = el("tbody");
      cells = names.map((n, i) => {
        const row = COLUMNS.map((k) => el("td", { "data-testid": `${TESTID[k] ?? k.replace(/_/g, "-")}-${i + 1}`, text: "–" }));
        body.append(el("tr", { "data-layer": String(i + 1) }, el("th", { scope: "row", text: `${i + 1}${i + 1 === names.length ? " · output" : ""} ${n}` }), ...row));
        return row;
      });
      table.replaceChildren(el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "layer" }), ...head)), body);
    },
    update(layers) {
      if (layers.length !== cells.length) return;
      layers.forEach((s, l) => COLUMNS.forEach((k, c) => {
        const v = s[k];
        cells[l][c].textContent = k.endsWith("_pct") ? pct(v) : fmt(v);
        cells[l][c].className = v > (WARN[k] ?? Infinity) ? "warn" : "";
      }));
    },
  };
}

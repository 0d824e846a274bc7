// Vectors and matrices as tables of numbers, for the chapters that show every number
// (forward, linear, backprop): a column vector is a matrix of one column.
import { el, fmt } from "../util.js";

/**
 * matrix(testid, rows, {name, digits}) → a <figure> with the name on the left and a bracketed
 * table of numbers; each cell has data-testid `${testid}-${i}-${j}` (row i, column j) and
 * data-value with the full number, so tests read what the engine sent, not the rounded text.
 * rows : (m, n) nested arrays; a vector v of length m is passed as v.map((x) => [x]).
 */
export function matrix(testid, rows, { name = "", digits = 3 } = {}) {
  const body = rows.map((row, i) => el("tr", {}, ...row.map((v, j) => el("td", {
    "data-testid": `${testid}-${i}-${j}`, "data-value": String(v), text: fmt(v, digits) }))));
  return el("figure", { class: "lp-matrix", "data-testid": testid },
    name ? el("figcaption", { text: `${name} =` }) : null,
    el("table", {}, ...body));
}

/** column(testid, v, opts): the column vector v : (m,) as an (m, 1) matrix. */
export const column = (testid, v, opts) => matrix(testid, v.map((x) => [x]), opts);

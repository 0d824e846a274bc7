// Typeset equations as MathML Core (Chromium renders it natively: nothing to load).
// `formula("z^(l) = W^(l)·a^(l−1) + b^(l)")` reads the plain notation the server's explain
// reply uses (explain.py) and returns a <math> element:
//   X^(…)  superscript shown with its parentheses (the layer index: z⁽ˡ⁾)
//   X^{…}  superscript without them (ℝ^{8×2});  X_k  a one-character subscript
//   Xᵀ, X'  transpose and prime;  ∂A/∂B  a fraction;  (…) a group;  other signs are operators.
// `matrix(rows)` is a bracketed MathML table of numbers coloured by sign.
import { fmt } from "./util.js";

const NS = "http://www.w3.org/1998/Math/MathML";
// words shown upright, as function names are
const WORDS = new Set(["softmax", "diag", "log", "exp", "one-hot", "tanh", "sigmoid", "relu", "identity"]);
const LETTER = /[\p{L}]/u;

/** A MathML element: m("msup", {}, base, exponent); text children become text nodes. */
export function m(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

const op = (s) => m("mo", {}, s);
const row = (nodes) => (nodes.length === 1 ? nodes[0] : m("mrow", {}, ...nodes));

/** Parse `text` from position `i` up to `close` (or the end): [nodes, next position]. */
function sequence(text, i, close) {
  const nodes = [];
  while (i < text.length && text[i] !== close) {
    const c = text[i];
    if (c === " ") {
      i += 1;
    } else if (c === "^" || c === "_" || c === "ᵀ" || c === "'" || c === "′") {
      [nodes[nodes.length - 1], i] = postfix(text, i, nodes[nodes.length - 1] || m("mrow"));
    } else if (c === "/" && nodes.length >= 2 && nodes[nodes.length - 2].textContent === "∂" && text[i + 1] === "∂") {
      const [below, j] = primary(text, i + 2);
      let den = below;
      for (i = j; "^_ᵀ'′".includes(text[i] || "."); ) [den, i] = postfix(text, i, den);
      const num = nodes.splice(nodes.length - 2, 2);
      nodes.push(m("mfrac", {}, row(num), m("mrow", {}, m("mi", { mathvariant: "normal" }, "∂"), den)));
    } else {
      let node;
      [node, i] = primary(text, i);
      nodes.push(node);
    }
  }
  return [nodes, i + 1];
}

/** One operand at text[i]: a group, a number, a word or letter, or an operator. */
function primary(text, i) {
  const c = text[i];
  if (c === undefined) return [m("mrow"), i]; // a script sign at the very end: nothing to raise
  if (c === "(") {
    const [inner, j] = sequence(text, i + 1, ")");
    return [m("mrow", {}, op("("), ...inner, op(")")), j];
  }
  if (c === "{") {
    const [inner, j] = sequence(text, i + 1, "}");
    return [row(inner), j];
  }
  if (/[0-9.]/.test(c)) {
    const n = /^[0-9.]+(e[−-]?[0-9]+)?/.exec(text.slice(i))[0];
    return [m("mn", {}, n), i + n.length];
  }
  if (LETTER.test(c) && c !== "Σ" && c !== "ℝ" && c !== "∂") {
    const word = /^[\p{L}\p{M}]+(-[\p{L}]+)?/u.exec(text.slice(i))[0];
    if (WORDS.has(word) || word.length > 2) return [m("mi", {}, word), i + word.length];
    const letter = /^\p{L}\p{M}?/u.exec(word)[0]; // one variable, with its accent (ŷ)
    return [m("mi", {}, letter), i + letter.length];
  }
  if (c === "ℝ" || c === "∂") return [m("mi", { mathvariant: "normal" }, c), i + 1];
  return [op(c === "-" ? "−" : c), i + 1];
}

/** The postfix at text[i] applied to `base`: superscript, subscript, transpose or prime. */
function postfix(text, i, base) {
  const c = text[i];
  if (c === "ᵀ") return [m("msup", {}, base, m("mi", { mathvariant: "normal" }, "T")), i + 1];
  if (c === "'" || c === "′") return [m("msup", {}, base, op("′")), i + 1];
  const [script, j] = primary(text, i + 1);
  return [m(c === "^" ? "msup" : "msub", {}, base, script), j];
}

/** `text` in the notation above as MathML nodes (an mrow, or the one node it holds). */
export function expression(text) {
  return row(sequence(text, 0, undefined)[0]);
}

/** `text` in the notation above as an inline <math> element. */
export function formula(text) {
  return m("math", {}, expression(text));
}

/** A number as a MathML token, coloured by sign (class neg / pos), with a real minus sign. */
export function number(v) {
  const text = v === null ? "NaN" : fmt(v, 3).replace("-", "−");
  return m("mn", { class: v === null || !Number.isFinite(v) ? "bad" : v < 0 ? "neg" : v > 0 ? "pos" : "zero" }, text);
}

/**
 * A value as a bracketed MathML table: a number stays a number, a vector (n,) is a column
 * (n × 1), a matrix (n, m) keeps its rows. At most `show` rows and columns are drawn; the
 * rest is elided with ⋯ / ⋮ (the shape label says how many there are).
 */
export function matrix(value, show = 8) {
  if (!Array.isArray(value)) return number(value);
  const rows = Array.isArray(value[0]) ? value : value.map((v) => [v]);
  const cells = (r) => {
    const out = r.slice(0, show).map((v) => m("mtd", {}, number(v)));
    if (r.length > show) out.push(m("mtd", {}, op("⋯")));
    return m("mtr", {}, ...out);
  };
  const trs = rows.slice(0, show).map(cells);
  if (rows.length > show) trs.push(m("mtr", {}, m("mtd", {}, op("⋮"))));
  return m("mtable", { class: "bracket" }, ...trs);
}

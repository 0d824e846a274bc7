// The network view's two tools, named as the article names them, and the key of each:
// the Neural Network Simulator (forward: a_j(x) in the neurons, edges by the sign and size
// of w) and the Backpropagation Visualiser (backward: edges and neurons by |∂L/∂w|, |∂L/∂b|
// on a fixed logarithmic scale, ‖δ⁽ˡ⁾‖ under each column).
import { LOG_HI, LOG_LO, magnitudeRgb } from "./netedges.js";
import { el, NEG, POS, rgb } from "./util.js";

export const MODES = [
  { mode: "forward", name: "Neural Network Simulator", hint: "forward pass: each neuron shows a_j(x) over the plane; edges by the sign and size of w" },
  { mode: "backward", name: "Backpropagation Visualiser", hint: "backward pass: edges by |∂L/∂w|, neurons by |∂L/∂b_j|, ‖δ⁽ˡ⁾‖ under each layer" },
];

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
/** An integer in superscript digits: −8 → ⁻⁸. */
export const superscript = (k) => String(k).split("").map((ch) => SUPERSCRIPT[ch]).join("");
/** 10^k written with superscripts: 10⁻⁸. */
export const decade = (k) => `10${superscript(k)}`;

/** The toggle in box: one button per mode (aria-pressed). onMode(mode) on a press. → {set(mode)}. */
export function createModeToggle(box, onMode) {
  const buttons = MODES.map((m) => el("button", { type: "button", class: "mode", "data-testid": `mode-${m.mode}`, title: m.hint, "aria-pressed": "false", text: m.name, onclick: () => onMode(m.mode) }));
  box.append(el("div", { class: "modes", role: "group", "aria-label": "Network view" }, ...buttons));
  return {
    set(mode) {
      buttons.forEach((b, k) => b.setAttribute("aria-pressed", String(MODES[k].mode === mode)));
    },
  };
}

const swatch = (colour, cls = "") => el("i", { class: `sw${cls}`, style: `background:${colour}` });

/** The key of `mode` (an element): what colours, widths and marks mean, the scale's decades;
 * in backward mode it starts with the "replay backward pass" button (onReplay). */
export function legend(mode, onReplay) {
  const box = el("div", { class: "net-legend", "data-testid": "net-legend" });
  if (mode === "forward") {
    box.append(el("span", {}, el("b", { text: "edges: weight w " }), swatch(rgb(NEG)), " negative ", swatch(rgb(POS)), " positive · width ∝ |w|"));
  } else {
    const stops = [0, 0.5, 1].map((t) => `${rgb(magnitudeRgb(t))} ${t * 100}%`).join(",");
    const ticks = [];
    for (let k = LOG_LO; k <= LOG_HI; k += 2) ticks.push(el("span", { text: decade(k) }));
    box.append(el("button", { type: "button", class: "replay", "data-testid": "replay-backward", text: "▶ replay backward pass", title: "Animate δ travelling from the output back to the inputs", onclick: onReplay }));
    box.append(el("span", { class: "scale-box" }, el("b", { text: "|∂L/∂w| edges, |∂L/∂b| neurons: " }),
      el("span", { class: "scale", "data-testid": "net-scale", title: `fixed logarithmic scale, ${decade(LOG_LO)} … ${decade(LOG_HI)}, the same every step` },
        el("span", { class: "ramp", style: `background:linear-gradient(90deg,${stops})` }), el("span", { class: "ticks" }, ...ticks))));
  }
  box.append(el("span", { class: "marks" }, el("i", { class: "mark sat", text: "s" }), " saturated (σ′ ≈ 0) ", el("i", { class: "mark dead", text: "✕" }), " dead (z ≤ 0 for the whole batch)"));
  return box;
}

"""Colour measures for the accessibility tests: WCAG contrast computed from rendered styles in
the page, and colour-vision-deficiency simulation (Machado, Oliveira & Fernandes 2009,
severity 1.0, in linear RGB) with CIE76 ΔE in CIELAB."""

import itertools

import numpy as np

# every visible text of the page: [text, contrast ratio, selector-ish name]; the colour and the
# backgrounds behind it are composited with their alpha and the opacity of every ancestor
CONTRAST = """(scope) => {
  const rgba = (c) => { const v = c.match(/[\\d.]+/g).map(Number); return v.length > 3 ? v : [...v, 1]; };
  const lum = (rgb) => rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + [0.2126, 0.7152, 0.0722][i] * v, 0);
  const over = (top, under) => top.slice(0, 3).map((v, i) => top[3] * v + (1 - top[3]) * under[i]);
  const opacity = (e) => { let a = 1; for (; e; e = e.parentElement) a *= Number(getComputedStyle(e).opacity); return a; };
  const background = (e) => {
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255]);
  };
  const own = (e) => [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
  const out = [];
  for (const e of document.querySelectorAll(scope)) {
    if (e.closest("[hidden], [aria-hidden=true], option, svg, math") || e.disabled) continue;
    const text = ["SELECT", "INPUT"].includes(e.tagName) ? (e.type === "checkbox" || e.type === "range" || e.type === "file" ? "" : String(e.value)) : own(e);
    const r = e.getBoundingClientRect();
    if (!text || !r.width || !r.height || getComputedStyle(e).visibility === "hidden") continue;
    const bg = background(e);
    const fg = rgba(getComputedStyle(e).color);
    const shown = over([...fg.slice(0, 3), fg[3] * opacity(e)], bg);
    const [hi, lo] = [lum(shown), lum(bg)].sort((a, b) => b - a);
    out.push([text.slice(0, 40), (hi + 0.05) / (lo + 0.05), e.tagName.toLowerCase() + (e.className && typeof e.className === "string" ? "." + e.className.split(" ")[0] : "")]);
  }
  return out;
}"""

_CVD = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}
_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def _linear(rgb) -> np.ndarray:
    c = np.asarray(rgb, dtype=np.float64) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    X = _XYZ @ linear / _WHITE
    f = np.where(X > (6 / 29) ** 3, np.cbrt(X), X / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_as(rgb, vision: str) -> np.ndarray:
    """The CIELAB colour of sRGB ``rgb`` (0-255) as seen with ``vision`` (a key of _CVD)."""
    return _lab(np.clip(_CVD[vision] @ _linear(rgb), 0, 1))


def closest_pair(palette, vision: str) -> tuple[float, int, int]:
    """(ΔE, i, j) of the two colours of ``palette`` that look most alike with ``vision``."""
    return min((float(np.linalg.norm(seen_as(a, vision) - seen_as(b, vision))), i, j)
               for (i, a), (j, b) in itertools.combinations(enumerate(palette), 2))


VISIONS = tuple(_CVD)

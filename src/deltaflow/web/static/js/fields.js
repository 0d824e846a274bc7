// Form fields bound to a path in the run config ("optimizer.lr"): each reads its value
// from the config on sync() and writes it back, parsed, on change.
import { el } from "./util.js";

export function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

export function setPath(obj, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  const target = keys.reduce((o, k) => (o[k] ??= {}), obj);
  target[last] = value;
}

const asText = (v) => (v === null || v === undefined ? "" : String(v));
// the element id of the field bound to `path`, which its label names
const fieldId = (path) => `f-${path.replace(/\W/g, "-")}`;

/**
 * A labelled select bound to `path`. options: [[value, text], ...] (or later, setOptions); a
 * numeric field parses its value (an empty value is null); a value missing from the options
 * is added on sync.
 */
export function selectField({ label, path, options = [], numeric = false, testid, onChange }) {
  const id = fieldId(path);
  const select = el("select", { id, "data-testid": testid || id });
  const add = ([v, t]) => select.append(el("option", { value: asText(v), text: t ?? String(v) }));
  options.forEach(add);
  select.addEventListener("change", () => onChange(path, numeric && select.value !== "" ? Number(select.value) : select.value === "" ? null : select.value));
  return {
    node: el("div", { class: "field" }, el("label", { for: id, text: label }), select),
    setOptions(next) {
      select.replaceChildren();
      next.forEach(add);
    },
    sync(config) {
      const v = asText(getPath(config, path));
      if (![...select.options].some((o) => o.value === v)) add([v, v === "" ? "none" : v]);
      select.value = v;
    },
  };
}

/** A labelled number input bound to `path` (blank → null when `nullable`). */
export function numberField({ label, path, min, max, step = "any", nullable = false, testid, onChange }) {
  const id = fieldId(path);
  const input = el("input", { id, type: "number", min, max, step, "data-testid": testid || id });
  input.addEventListener("change", () => {
    if (input.value === "" && nullable) return onChange(path, null);
    const v = Number(input.value);
    if (input.value !== "" && Number.isFinite(v)) onChange(path, v);
  });
  return {
    node: el("div", { class: "field" }, el("label", { for: id, text: label }), input),
    sync(config) {
      input.value = asText(getPath(config, path));
    },
  };
}

/** A labelled range slider bound to `path`; `show` formats the value beside the label. */
export function rangeField({ label, path, min, max, step, show = String, testid, onChange }) {
  const id = fieldId(path);
  const value = el("output", { for: id });
  const input = el("input", { id, type: "range", min, max, step, "data-testid": testid || id, "aria-label": label });
  input.addEventListener("input", () => (value.textContent = show(Number(input.value))));
  input.addEventListener("change", () => onChange(path, Number(input.value)));
  return {
    node: el("div", { class: "field" }, el("label", { for: id }, el("span", { text: label }), value), input),
    sync(config) {
      const v = getPath(config, path);
      input.value = v;
      value.textContent = show(Number(v));
    },
    setMax(m) {
      input.max = m;
    },
  };
}

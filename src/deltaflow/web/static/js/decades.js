// A logarithmic axis range that only widens, by whole decades: a bar or cell keeps its length
// from frame to frame, so a growing value visibly grows and a shrinking one visibly shrinks.

/**
 * createDecades(minSpan) → {fit(values), reset(), lo, hi, span(v)}.
 * `fit` takes numbers (any shape, non-positive and non-finite ones are ignored) and widens
 * [10^lo, 10^hi] to hold them: lo = ⌊log₁₀ min⌋, hi = ⌈log₁₀ max⌉ at the first fit (and after
 * `reset`), with at least `minSpan` decades (lo lowered); later fits only lower lo or raise hi.
 * Returns true when the range changed. `span(v)` = (log₁₀ v − lo)/(hi − lo), clamped to [0, 1].
 */
export function createDecades(minSpan) {
  let lo = null;
  let hi = null;
  return {
    get lo() { return lo; },
    get hi() { return hi; },
    get empty() { return lo === null; },
    reset() {
      lo = hi = null;
    },
    fit(values) {
      let min = Infinity, max = -Infinity;
      for (const v of values) {
        if (!(v > 0) || !Number.isFinite(v)) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (max === -Infinity) return false;
      const a = Math.floor(Math.log10(min)), b = Math.ceil(Math.log10(max));
      if (lo === null) {
        hi = Math.max(b, a + 1);
        lo = Math.min(a, hi - minSpan);
        return true;
      }
      if (a >= lo && b <= hi) return false;
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
      return true;
    },
    span(v) {
      if (lo === null || !(v > 0)) return 0;
      return Math.max(0, Math.min(1, (Math.log10(v) - lo) / (hi - lo)));
    },
  };
}

/** 10^e as a short label: "1e-3", "1", "1e4". */
export const decade = (e) => (e === 0 ? "1" : `1e${e}`);

// What each number of the gradient view and the charts is, in plain words and in the notation
// of the seed text (δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾, a⁽ˡ⁻¹⁾ the layer's input, L the batch-mean loss), checked
// against what diagnostics/probes.py and web/snapshot.py measure.

/** key → {symbol, short (visible words), words (a sentence), formula (the tooltip)} */
export const STATS = {
  grad_W_norm: {
    symbol: "‖∂L/∂W‖", short: "gradient size",
    words: "how strongly the loss reacts to this layer's weights",
    formula: "‖∂L/∂W⁽ˡ⁾‖ = ‖δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ‖ summed over the batch (Frobenius norm; L is the batch mean, so this is the mean gradient), as the optimiser used it, after any clipping",
  },
  delta_norm: {
    symbol: "‖δ‖", short: "error signal",
    words: "how large the error signal is when it reaches this layer on its way back from the output",
    formula: "‖δ⁽ˡ⁾‖ = ‖∂L/∂z⁽ˡ⁾‖ over the batch (Frobenius norm), with δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾)",
  },
  W_norm: {
    symbol: "‖W‖", short: "weight size",
    words: "how large this layer's weights are, after the step",
    formula: "‖W⁽ˡ⁾‖ = √(Σᵢⱼ (w⁽ˡ⁾ᵢⱼ)²) (Frobenius norm)",
  },
  sigma_prime_mean: {
    symbol: "mean σ′", short: "slope passed back",
    words: "the activation's average slope: the factor by which this layer scales δ on its way back (1 for a linear layer)",
    formula: "s⁽ˡ⁾ = (1/(B nₗ)) Σᵢⱼ σ′(z⁽ˡ⁾ᵢⱼ), the mean over the batch's B examples and the layer's nₗ units",
  },
  saturated_pct: {
    symbol: "saturated", short: "flat units",
    words: "the share of sigmoid or tanh units that are flat for every example of the batch, so pass almost no gradient back",
    formula: "% of units j with σ′(zᵢⱼ) < 1% of max σ′ for every example i (– for other activations)",
  },
  dead_pct: {
    symbol: "dead", short: "silent units",
    words: "the share of ReLU-like units that are off for every example of the batch: their output and gradient are 0",
    formula: "% of units j with zᵢⱼ ≤ 0 for every example i (– for other activations)",
  },
  update_ratio: {
    symbol: "update/weight", short: "step size",
    words: "how much one step changed the weights relative to their size",
    formula: "‖ΔW⁽ˡ⁾‖ / ‖W⁽ˡ⁾‖, ΔW⁽ˡ⁾ the last optimiser step's change and W⁽ˡ⁾ the weights before it",
  },
  loss: {
    symbol: "loss", short: "error on the whole set",
    words: "the loss averaged over every example of the training (or test) set, after the step",
    formula: "L = (1/N) Σₙ ℓ(ŷ⁽ⁿ⁾, y⁽ⁿ⁾) over the N examples of the set",
  },
  accuracy: {
    symbol: "accuracy", short: "share classified right",
    words: "the share of the set's examples whose most probable class is the true one",
    formula: "(1/N) Σₙ [argmaxₖ ŷ⁽ⁿ⁾ₖ = y⁽ⁿ⁾]",
  },
  r2: {
    symbol: "R²", short: "variance explained",
    words: "how much of the targets' variance the predictions explain (1 is perfect, 0 no better than the mean)",
    formula: "R² = 1 − Σₙ (y⁽ⁿ⁾ − ŷ⁽ⁿ⁾)² / Σₙ (y⁽ⁿ⁾ − ȳ)²",
  },
};

/** The tooltip of statistic `key`: its words, then its formula. */
export function tooltipOf(key) {
  const s = STATS[key];
  return `${s.symbol}: ${s.words}. ${s.formula}`;
}

/** Give `node` statistic `key`'s tooltip as `title` and as its accessible description. */
export function describe(node, key) {
  const text = tooltipOf(key);
  node.title = text;
  node.setAttribute("aria-description", text);
  node.dataset.stat = key;
  return node;
}

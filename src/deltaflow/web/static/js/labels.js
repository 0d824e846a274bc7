// How the page names the choices the server lists in `hello` (losses, optimisers, data sets,
// ...): display text only. The lists themselves come from the server; a name without an
// entry here is shown as it is.

const TEXT = {
  losses: { cross_entropy: "cross-entropy", bce: "binary CE", mse: "mean squared" },
  optimizers: { sgd: "SGD", nesterov: "Nesterov", adagrad: "Adagrad", rmsprop: "RMSprop", adam: "Adam", adamw: "AdamW" },
  schedules: { none: "constant", warmup: "warm-up" },
  initializers: {
    xavier_uniform: "Xavier uniform", xavier_normal: "Xavier normal", he_uniform: "He uniform", he_normal: "He normal",
    lecun_normal: "LeCun normal", torch: "PyTorch", normal: "normal(0.01)", uniform: "uniform(0.05)",
  },
  norms: { batch: "BatchNorm", layer: "LayerNorm" },
  activations: { relu: "ReLU", leaky_relu: "LeakyReLU", elu: "ELU", gelu: "GELU", identity: "linear" },
  datasets: { spiral3: "K-spiral", multi_gauss: "multi-gauss", sin: "sin x", abs: "|x|", breast_cancer: "breast cancer" },
  features: { x1: "X₁", x2: "X₂", "x1^2": "X₁²", "x2^2": "X₂²", x1x2: "X₁X₂", sin_x1: "sin(X₁)", sin_x2: "sin(X₂)" },
};

/** The page's name for `name`, one of hello's `kind` list ("losses", "activations", ...). */
export function label(kind, name) {
  return TEXT[kind]?.[name] ?? name;
}

/** [[name, label], ...] for a select's options, in the server's order. */
export function menu(kind, names) {
  return names.map((name) => [name, label(kind, name)]);
}

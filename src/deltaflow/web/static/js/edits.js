// The config edits the network view and the layer buttons make: each takes the current config
// and state (the server's) and returns the next config to send, or throws an Error whose
// message says what the limit is. Pure functions: nothing is sent here.

/** The hidden layers' activations as the state reports them, one per hidden layer. */
const hiddenActivations = (state) => state.network.layers.slice(0, -1).map((u) => u.activation);

/** The features switched on after toggling `name` (hello's order); at least one stays on. */
export function withFeatureToggled(config, state, name, features) {
  const on = new Set(state.network.inputs);
  on.has(name) ? on.delete(name) : on.add(name);
  if (!on.size) throw new Error("keep at least one input feature");
  const next = structuredClone(config);
  next.data.features = features.filter((f) => on.has(f));
  return next;
}

/** Hidden layer l (from 1) with `delta` more neurons, within 1 … limits.max_width. */
export function withNeurons(config, l, delta, limits) {
  const next = structuredClone(config);
  const w = next.model.hidden[l - 1] + delta;
  if (w < 1 || w > limits.max_width) throw new Error(`a layer has between 1 and ${limits.max_width} neurons`);
  next.model.hidden[l - 1] = w;
  return next;
}

/** Hidden layer l (from 1) with activation `name`, the others as they are. */
export function withActivation(config, state, l, name) {
  const next = structuredClone(config);
  const acts = hiddenActivations(state);
  acts[l - 1] = name;
  next.model.activation = acts;
  return next;
}

/** One hidden layer more (a copy of the last, or 4 units of `fallback`) or one fewer; one
 * activation for all layers is written as one name. */
export function withLayers(config, state, delta, limits, fallback) {
  const next = structuredClone(config);
  const hidden = next.model.hidden;
  const acts = hiddenActivations(state);
  if (delta > 0) {
    if (hidden.length >= limits.max_hidden_layers) throw new Error(`at most ${limits.max_hidden_layers} hidden layers`);
    hidden.push(hidden.length ? hidden[hidden.length - 1] : 4);
    acts.push(acts.length ? acts[acts.length - 1] : fallback);
  } else {
    if (!hidden.length) return null;
    hidden.pop();
    acts.pop();
  }
  if (!acts.length) next.model.activation = Array.isArray(next.model.activation) ? fallback : next.model.activation;
  else next.model.activation = acts.every((a) => a === acts[0]) ? acts[0] : acts;
  return next;
}

// The caption under the output map of a set with more than two inputs: which plane the map
// and the points are drawn on (the server's PCA projection, web/projection.py).

/** Fill `note` for `d` (the state's data); hidden for a set drawn on its own inputs. */
export function showProjection(note, d) {
  const p = d.projection;
  note.hidden = !p;
  if (!p) return;
  note.textContent = `${d.n_inputs} inputs, drawn on ${p.plane} of the standardised training inputs ` +
    `(${p.axes.join(", ")} of their variance). Each point of the map is the input x = μ + p·V₂ᵀ on that plane; ` +
    "each example is drawn at its projection p = (x − μ)·V₂.";
}

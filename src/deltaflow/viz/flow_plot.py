"""The gradient-flow figure of a probed run: what the simulator's visualiser draws live.

Four panels over the recorded steps, one line or row per unit layer l = 1 … L:
‖∂L/∂W^(l)‖ (log scale), log10 of ‖δ^(l)‖/‖δ^(L)‖ as a layer × step heatmap, the
update-to-weight ratio ‖ΔW^(l)‖/‖W^(l)‖ (log), and the saturated and dead units (%).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib  # the colormap registry only, never pyplot
import numpy as np
from matplotlib.figure import Figure

from deltaflow.viz.canvas import DPI, floats, positive, save

__all__ = ["plot_gradient_flow", "FLOW_SIZE"]

FLOW_SIZE = (12.0, 7.0)  # inches


def plot_gradient_flow(arrays: dict, names: list[str], path, title: str | None = None) -> Path:
    """Draw ``GradientProbe.as_arrays()`` (``steps`` (n,), each statistic (n, L)) to ``path``.

    ``names`` : the L unit-layer names, input side first. Needs at least one record.
    """
    steps = floats(arrays["steps"])
    L = len(names)
    if steps.size == 0:
        raise ValueError("plot_gradient_flow: the probe recorded no steps")
    for key in ("grad_W_norm", "attenuation", "update_ratio", "saturated_pct", "dead_pct"):
        if np.shape(arrays[key]) != (steps.size, L):
            raise ValueError(f"plot_gradient_flow: {key} has shape {np.shape(arrays[key])}, "
                             f"expected ({steps.size}, {L})")
    fig = Figure(figsize=FLOW_SIZE, dpi=DPI)  # no constrained layout: subplots_adjust below
    (ax_g, ax_a), (ax_u, ax_s) = fig.subplots(2, 2)
    cmap = matplotlib.colormaps["viridis"]
    colours = [cmap(i / max(L - 1, 1)) for i in range(L)]
    for l in range(L):
        ax_g.plot(steps, positive(arrays["grad_W_norm"][:, l]), color=colours[l], label=names[l])
        ax_u.plot(steps, positive(arrays["update_ratio"][:, l]), color=colours[l])
    ax_g.set(yscale="log", xlabel="step", ylabel="‖∂L/∂W⁽ˡ⁾‖", title="gradient norm per layer")
    if L <= 12:
        ax_g.legend(fontsize=7, loc="best")
    ax_u.set(yscale="log", xlabel="step", ylabel="‖ΔW⁽ˡ⁾‖ / ‖W⁽ˡ⁾‖", title="update-to-weight ratio")

    att = np.asarray(arrays["attenuation"], dtype=np.float64).T  # (L, n): a row per layer
    finite = att[np.isfinite(att)]
    lim = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    im = ax_a.imshow(att, aspect="auto", origin="lower", cmap="RdBu", vmin=-lim, vmax=lim,
                     extent=(steps[0], steps[-1] if steps.size > 1 else steps[0] + 1, 0.5, L + 0.5),
                     interpolation="nearest")
    ax_a.set(xlabel="step", ylabel="layer l", title="log₁₀ ‖δ⁽ˡ⁾‖ / ‖δ⁽ᴸ⁾‖")
    fig.colorbar(im, ax=ax_a)

    for key, style in (("saturated_pct", "-"), ("dead_pct", "--")):
        v = np.asarray(arrays[key], dtype=np.float64)
        for l in range(L):
            if np.isfinite(v[:, l]).any():
                ax_s.plot(steps, v[:, l], style, color=colours[l])
    ax_s.set(ylim=(-2, 102), xlabel="step", ylabel="% of units",
             title="saturated (solid, σ' < 1% of max) and dead (dashed)")
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0.07, right=0.97, top=0.9 if title else 0.94, bottom=0.08, wspace=0.25, hspace=0.4)
    return save(fig, path)

"""The ``digits`` data set in the simulator: a drawn digit read by the network, and the test
images the page draws.

A drawing reaches the server as the data set's own 64 inputs (``digit_image.downsample`` of
the learner's 32×32 bitmap, each 0–16); the network sees it as it sees every example,
standardised with the training part's μ and s::

    x̂ = (x − μ) / s            (1, 64), the data set's ``InputTransform``
    ŷ = softmax(z⁽ᴸ⁾(x̂))       (K,), the eval-mode forward pass

and ``explain`` writes out that example's forward and backward pass, with the predicted class
k = argmax ŷ as its target (the loss and δ⁽ᴸ⁾ = ŷ − onehot(k) then say how sure it is).
"""

from __future__ import annotations

import numpy as np

from deltaflow.data.digit_image import SIDE
from deltaflow.diagnostics.explain import explain

DIGITS = "digits"
N_INPUTS = SIDE * SIDE  # 64


def is_digits(s) -> bool:
    """Whether session ``s`` trains on the digits set (whose inputs are the 8×8 image)."""
    return s.config.data.name == DIGITS and s.dataset.n_features == N_INPUTS


def predict(s, x: list[float], lr: float | None) -> dict:
    """The ``predict`` reply for the drawn inputs ``x`` (64 values 0–16): the softmax
    probabilities ``ŷ : (K,)``, k = argmax ŷ, and ``explain(...).to_dict()`` of the example
    with target k (null, with ``explain_error``, for a network ``explain`` cannot write out)."""
    if not is_digits(s):
        raise ValueError(f"a drawn digit is read by a network trained on the digits data set; "
                         f"this session trains on {s.config.data.name!r}")
    d, t = s.dataset, s.trainer
    x_hat = d.transform(np.asarray([x], dtype=np.float64))  # (1, 64) in the network's dtype
    with np.errstate(all="ignore"):
        y_hat = t.task.proba(t.net.forward(x_hat, False))[0]
    k = int(np.argmax(y_hat))
    reply = {"type": "predict", "probabilities": [float(p) for p in y_hat], "predicted": k,
             "explain": None, "explain_error": None}
    try:
        target = t.task.targets(np.array([k]))[0]
        reply["explain"] = explain(t.net, t.task.loss, x_hat[0], target, lr=lr).to_dict()
    except ValueError as exc:  # BatchNorm or dropout: the probabilities stand without the pass
        reply["explain_error"] = str(exc)
    return reply


def digit_images(s) -> dict | None:
    """``state.data.images`` for the digits set: the test part's raw inputs, 0–16 each, as
    ``{"test": [[64 ints], …]}`` in ``state.data.test`` order; None for any other set."""
    if not is_digits(s) or s.dataset.X_test_raw is None:
        return None
    return {"test": np.rint(s.dataset.X_test_raw).astype(int).tolist()}


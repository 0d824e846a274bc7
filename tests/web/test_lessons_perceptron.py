"""Lesson ``perceptron``: every update against a NumPy loop of Rosenblatt's rule written here, exact
in float64; convergence on AND and OR (with Novikoff's bound), none on XOR; the schema's refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pydantic import ValidationError

from deltaflow.nn.perceptron import Perceptron
from deltaflow.web.lessons.perceptron import MAX_EPOCHS, PerceptronRequest, run

CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TRUTH = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "xor": [0, 1, 1, 0]}


def lesson(**fields) -> dict:
    return run(PerceptronRequest.model_validate(fields))


def by_hand(gate, lr=1.0, epochs=10, init="zeros", shuffle=False, seed=0):
    """The rule written out: (w₁, w₂, b) after every visit, and mistakes per epoch."""
    y = np.array(TRUTH[gate])
    if init == "random":
        w1, w2, b = np.random.default_rng([seed, 1]).uniform(-1.0, 1.0, 3)
        w = np.array([w1, w2])
    else:
        w, b = np.zeros(2), 0.0
    order_rng = np.random.default_rng(seed)
    history, mistakes = [(w[0], w[1], b)], []
    for _ in range(epochs):
        order = order_rng.permutation(4) if shuffle else range(4)
        count = 0
        for i in order:
            y_hat = 1.0 if w @ CORNERS[i] + b > 0 else 0.0
            w = w + lr * (y[i] - y_hat) * CORNERS[i]
            b = b + lr * (y[i] - y_hat)
            count += int(y_hat != y[i])
            history.append((w[0], w[1], b))
        mistakes.append(count)
        if count == 0:
            break
    return history, mistakes


def weights(result) -> list[tuple[float, float, float]]:
    return [(h["w"][0], h["w"][1], h["b"]) for h in result["history"]]


RUNS = [dict(gate=g, lr=lr, init=init, shuffle=sh, seed=seed, epochs=MAX_EPOCHS)
        for g, lr, init, sh, seed in itertools.product(("and", "or", "xor"), (1.0, 0.1, 2.5),
                                                      ("zeros", "random"), (False, True), (0, 3))]


@pytest.mark.parametrize("fields", RUNS, ids=lambda f: "-".join(str(v) for v in f.values()))
def test_every_update_equals_the_rule_by_hand_exactly(fields):
    result = lesson(**fields)
    history, mistakes = by_hand(**fields)
    assert weights(result) == history  # exact: the same float64 operations in the same order
    assert result["mistakes"] == mistakes
    assert len(result["history"]) == 1 + 4 * result["epochs_run"]
    for h in result["history"][1:]:
        assert h["mistake"] == (h["y_hat"] != TRUTH[fields["gate"]][h["point"]])
    w1, w2, b = history[-1]
    expected = [int(w1 * x1 + w2 * x2 + b > 0) for x1, x2 in CORNERS]
    assert result["predictions"] == expected and result["final"] == {"w": [w1, w2], "b": b}


@pytest.mark.parametrize("gate", ["and", "or", "xor"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_the_history_ends_where_the_engines_own_fit_ends(gate, shuffle):
    p = Perceptron(2, lr=0.5, dtype=np.float64)
    fit = p.fit(CORNERS, np.array(TRUTH[gate]), epochs=30, shuffle=shuffle, rng=4)
    result = lesson(gate=gate, lr=0.5, epochs=30, shuffle=shuffle, seed=4)
    assert result["mistakes"] == fit.mistakes and result["converged"] == fit.converged
    assert result["final"] == {"w": p.w.tolist(), "b": p.b}


# Novikoff's bound, for a start at zero: with x̃ = (x₁, x₂, 1), R = max‖x̃‖ = √3 and a unit
# separator u with margin γ = min over points of ±u·x̃ (+ for class 1), the number of mistakes is
# at most (R/γ)², whatever the order and η. u ∝ (1, 1, −1.5) for AND, (1, 1, −0.5) for OR.
SEPARATORS = {"and": np.array([1.0, 1.0, -1.5]), "or": np.array([1.0, 1.0, -0.5])}


def novikoff_bound(gate) -> float:
    u = SEPARATORS[gate] / np.linalg.norm(SEPARATORS[gate])
    X1 = np.column_stack([CORNERS, np.ones(4)])
    signs = 2 * np.array(TRUTH[gate]) - 1
    gamma = (signs * (X1 @ u)).min()
    assert gamma > 0  # u separates the gate's points
    return 3.0 / gamma**2


@pytest.mark.parametrize("gate", ["and", "or"])
def test_rosenblatt_and_and_or_converge(gate):
    bound = novikoff_bound(gate)
    for lr, init, shuffle, seed in itertools.product((0.1, 1.0, 10.0), ("zeros", "random"), (False, True), range(5)):
        r = lesson(gate=gate, lr=lr, init=init, shuffle=shuffle, seed=seed, epochs=MAX_EPOCHS)
        assert r["converged"] and r["mistakes"][-1] == 0 and min(r["mistakes"][:-1], default=1) > 0
        assert r["converged_at"] == r["epochs_run"] and r["predictions"] == TRUTH[gate]
        assert not r["never_converged"]
        if init == "zeros":
            assert sum(r["mistakes"]) <= bound
    default = lesson(gate=gate)
    assert default["converged_at"] == {"and": 6, "or": 4}[gate]  # η = 1 from zero, the fixed order


def test_from_zero_the_learning_rate_only_scales_the_weights():
    # w and b are η times a sum of ±x̃, so step(w·x + b) and every mistake are the same for all η;
    # η a power of two keeps the scaling exact in float64
    for gate in ("and", "or", "xor"):
        one = lesson(gate=gate, epochs=20)
        for lr in (0.25, 4.0):
            scaled = lesson(gate=gate, lr=lr, epochs=20)
            assert scaled["mistakes"] == one["mistakes"]
            assert weights(scaled) == [(lr * a, lr * c, lr * d) for a, c, d in weights(one)]


# Why XOR never converges: suppose an epoch had no mistake. Then no update happened during it, so
# one fixed (w, b) classified all four points: b ≤ 0 at (0,0), w₁ + b > 0 at (1,0), w₂ + b > 0 at
# (0,1), w₁ + w₂ + b ≤ 0 at (1,1). Adding the middle two, w₁ + w₂ + 2b > 0, so w₁ + w₂ + b > −b ≥ 0,
# contradicting the last. XOR is not linearly separable, so every epoch has at least one mistake,
# for every start, order and η.
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("init", ["zeros", "random"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_xor_never_converges(seed, init, shuffle):
    r = lesson(gate="xor", seed=seed, init=init, shuffle=shuffle, epochs=MAX_EPOCHS)
    assert not r["converged"] and r["converged_at"] is None
    assert r["epochs_run"] == MAX_EPOCHS and min(r["mistakes"]) >= 1
    assert r["never_converged"] is True
    assert r["predictions"] != TRUTH["xor"]


def test_the_challenge_flags():
    assert lesson(gate="and")["converged"] and lesson(gate="or")["converged"]
    assert not lesson(gate="and", epochs=1)["converged"]  # one epoch is not enough from zero
    assert lesson(gate="xor", epochs=MAX_EPOCHS)["never_converged"]
    assert not lesson(gate="xor", epochs=MAX_EPOCHS - 1)["never_converged"]  # not the full run
    assert not lesson(gate="and", epochs=MAX_EPOCHS)["never_converged"]
    assert not lesson(gate="xor", epochs=MAX_EPOCHS)["converged"]


@pytest.mark.parametrize("fields, message", [
    (dict(gate="nand"), "gate"),
    (dict(gate="and", epochs=51), "less than or equal to 50"),
    (dict(gate="and", epochs=0), "greater than or equal to 1"),
    (dict(gate="and", lr=0), "greater than 0"),
    (dict(gate="and", lr=11.0), "less than or equal to 10"),
    (dict(gate="and", lr=float("nan")), "finite"),
    (dict(gate="and", epochs="5"), "valid integer"),
    (dict(gate="and", shuffle=1), "valid boolean"),
    (dict(gate="and", init="ones"), "init"),
    (dict(gate="and", seed=-1), "greater than or equal to 0"),
    (dict(gate="and", w=[1, 2]), "Extra inputs"),
    (dict(), "gate"),
])
def test_schema_refuses(fields, message):
    with pytest.raises(ValidationError, match=message):
        PerceptronRequest.model_validate(fields)

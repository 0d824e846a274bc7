"""``make run``: backpropagation solving XOR in a few lines, then the default training run
(spiral, two hidden layers of 8 tanh units) with its progress bar, files and figures."""

from __future__ import annotations

import numpy as np

from deltaflow import Adam, SoftmaxCrossEntropy, mlp
from deltaflow.cli import main as cli_main


def xor_demo(steps: int = 300, every: int = 50) -> float:
    """Train 2-4-2 tanh on XOR with full-batch Adam, printing the loss as it falls."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    net, loss = mlp([2, 4, 2], activation="tanh", rng=0), SoftmaxCrossEntropy()
    opt = Adam(net.parameters(), lr=0.05)
    print("XOR with one hidden layer of 4 tanh units (a perceptron cannot do this):")
    for step in range(steps + 1):
        L = loss.forward(net.forward(X), y)
        if step % every == 0:
            print(f"  step {step:4d}  loss {L:.5f}")
        net.backward(loss.backward())
        opt.step()
    pred = net.forward(X, training=False).argmax(axis=1)
    print(f"  predictions {pred.tolist()} for targets {y.tolist()}\n")
    return L


def main(config: str = "configs/spiral.json") -> None:
    xor_demo()
    cli_main(["train", "--config", config])


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:2])

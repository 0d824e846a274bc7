"""One training step of each framework, built ready to call: ``step()`` runs forward,
loss, backward and the optimiser update on one fixed batch.

All three do the same work: a ReLU MLP, softmax cross-entropy on integer labels, Adam
(lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay). ``forward()``, ``backward()``
and ``update()`` run the three parts of a step on their own (for the phase timings).
"""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks.configs import Config


class DeltaflowStep:
    """deltaflow's engine loop, as ``Trainer.train_step`` runs it without its extras.

    ``input_grad=False``: no gradient for the input batch, as in PyTorch's loop (its input
    does not require grad); True computes it too, as ``net.backward(g)`` does by default.
    The optimiser packs the small params back to back (``pack=True``), as the Trainer's does."""

    def __init__(self, cfg: Config, dtype, seed: int = 0, input_grad: bool = False):
        import deltaflow as df

        self.X, self.y = cfg.data(dtype, seed)
        self.net = df.mlp(list(cfg.sizes), activation="relu", dtype=dtype, rng=seed)
        self.loss = df.SoftmaxCrossEntropy()
        self.opt = df.Adam(self.net.parameters(), lr=1e-3, pack=True)
        self.input_grad = input_grad

    def step(self) -> None:
        self.loss.forward(self.net.forward(self.X, True), self.y)
        self.net.backward(self.loss.backward(), input_grad=self.input_grad)
        self.opt.step()

    def forward(self) -> None:
        self.loss.forward(self.net.forward(self.X, True), self.y)

    def backward(self) -> None:
        self.net.backward(self.loss.backward(), input_grad=self.input_grad)

    def update(self) -> None:
        self.opt.step()


class TorchStep:
    """PyTorch: ``nn.Sequential`` of Linear/ReLU, ``CrossEntropyLoss``, ``optim.Adam`` (its
    default implementation), ``zero_grad(set_to_none=True)``; threads left at the default."""

    def __init__(self, cfg: Config, dtype, seed: int = 0):
        import torch
        from torch import nn

        X, y = cfg.data(dtype, seed)
        torch.manual_seed(seed)
        layers = []
        for i, (a, b) in enumerate(zip(cfg.sizes[:-1], cfg.sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(cfg.sizes) - 2:
                layers.append(nn.ReLU())
        tdtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
        self.net = nn.Sequential(*layers).to(tdtype)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loss_fn = nn.CrossEntropyLoss()
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self._loss = None

    def step(self) -> None:
        self.opt.zero_grad(set_to_none=True)
        self.loss_fn(self.net(self.X), self.y).backward()
        self.opt.step()

    def forward(self) -> None:
        self.opt.zero_grad(set_to_none=True)
        self._loss = self.loss_fn(self.net(self.X), self.y)

    def backward(self) -> None:
        self._loss.backward()

    def update(self) -> None:
        self.opt.step()


class SklearnStep:
    """scikit-learn: ``MLPClassifier(solver="adam")``, one ``partial_fit`` on the batch per
    step (one Adam update). It computes in its input's dtype (float32 stays float32;
    ``dtype`` tells what it used). ``alpha=0`` switches its default L2 penalty off so the
    work matches; ``partial_fit`` also validates the input and checks the labels each call."""

    def __init__(self, cfg: Config, dtype, seed: int = 0):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        self.X, self.y = cfg.data(dtype, seed)
        self.clf = MLPClassifier(
            hidden_layer_sizes=cfg.sizes[1:-1],
            activation="relu",
            solver="adam",
            alpha=0.0,
            batch_size=cfg.batch,
            learning_rate_init=1e-3,
            random_state=seed,
        )
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        self.clf.partial_fit(self.X, self.y, classes=np.arange(cfg.sizes[-1]))
        self.dtype = self.clf.coefs_[0].dtype.name

    def step(self) -> None:
        self.clf.partial_fit(self.X, self.y)


FRAMEWORKS = {"deltaflow": DeltaflowStep, "torch": TorchStep, "sklearn": SklearnStep}

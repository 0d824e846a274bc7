"""scikit-learn estimators: ``DeltaflowClassifier`` and ``DeltaflowRegressor``.

Each estimator turns its constructor parameters into a ``RunConfig`` (``config_``) and
trains with ``deltaflow.training.trainer.Trainer`` on a ``Dataset`` built from ``X, y``, so a model
fitted here is the run every other face would make from the same config, seed and data.

What ``fit(X, y)`` does, in order:

1. ``X`` is validated (2-D, finite, dense, at least one row) and converted to the
   estimator's ``dtype`` (float32 by default). That conversion is the ``dtype``
   parameter at work: the network computes in that dtype, and ``predict`` converts its
   input the same way. ``predict_proba`` and the regressor's ``predict`` return arrays in
   that dtype too.
2. With ``standardize=True`` the columns are standardised, ``x̂ = (x − μ) / s``, with μ
   and s from the training rows (``scaler_``); the regressor also standardises its
   target, ``ŷ = (y − μ_y) / s_y`` (``target_scaler_``), and maps its outputs back, so
   the network learns with O(1) targets whatever the units of y.
3. Classifier labels may be any sortable hashable values (strings too): ``classes_`` is
   their sorted set, and the network learns class indices 0 … K−1.
4. ``Trainer`` runs ``epochs`` epochs of mini-batch training. Every row is used for
   training: the data set has no test part, so ``history_`` holds only the training curves.

``partial_fit(X, y)`` trains one epoch over the rows it is given (``Trainer.run_epoch``),
continuing the same network and optimiser state; the first call fixes the scalers (and, for the classifier,
``classes_``, which it must be given as ``classes=``).

Randomness: ``random_state`` is the run's seed (``config_.seed``); None draws one from
NumPy's global generator, as scikit-learn estimators do. A fixed ``random_state`` gives
the same numbers bit for bit.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from deltaflow.training.config import RunConfig
from deltaflow.data import Dataset, Standardizer
from deltaflow.training.trainer import Trainer

__all__ = ["DeltaflowClassifier", "DeltaflowRegressor"]

_MAX_SEED = 2**32 - 1  # RunConfig.seed's range


class _DeltaflowEstimator(BaseEstimator):
    """What the classifier and the regressor share: parameters → RunConfig → Trainer.

    Subclasses set ``_task`` and implement ``_targets_fit(y, classes)``, which checks y
    and returns the network's labels or values, and ``_loss_name()``.
    """

    _task = ""

    def __init__(
        self,
        hidden=(32,),
        activation="relu",
        norm="none",
        dropout=0.0,
        init="auto",
        optimizer="adam",
        lr=1e-3,
        batch_size=32,
        epochs=200,
        weight_decay=0.0,
        l2=0.0,
        clip_norm=None,
        standardize=True,
        dtype="float32",
        random_state=None,
    ):
        self.hidden = hidden
        self.activation = activation
        self.norm = norm
        self.dropout = dropout
        self.init = init
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.weight_decay = weight_decay
        self.l2 = l2
        self.clip_norm = clip_norm
        self.standardize = standardize
        self.dtype = dtype
        self.random_state = random_state

    def _np_dtype(self) -> np.dtype:
        if self.dtype not in ("float32", "float64", np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        return np.dtype(self.dtype)

    def _seed(self) -> int:
        """The run's seed: ``random_state`` itself, or one drawn from NumPy's global state
        (None) or from a ``RandomState`` instance."""
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            if not 0 <= rs <= _MAX_SEED:
                raise ValueError(f"random_state must be an integer in [0, 2**32 - 1] or None, got {rs}")
            return int(rs)
        if rs is None or isinstance(rs, np.random.RandomState):
            return int(check_random_state(rs).randint(0, _MAX_SEED, dtype=np.int64))
        raise ValueError(f"random_state must be an integer in [0, 2**32 - 1] or None, got {rs!r}")

    def _loss_name(self) -> str | None:
        return None

    def _make_config(self, epochs: int) -> RunConfig:
        """The ``RunConfig`` these parameters describe; a bad value is a ``ValueError`` naming it."""
        hidden = self.hidden
        if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
            hidden = (hidden,)
        try:
            hidden = list(hidden)
        except TypeError:
            raise ValueError(f"hidden must be a sequence of layer widths, got {self.hidden!r}") from None
        activation = self.activation if isinstance(self.activation, str) else list(self.activation)
        return RunConfig.from_dict({
            "name": None,
            "data": {"name": "array", "task": self._task, "standardize": bool(self.standardize)},
            "model": {"hidden": hidden, "activation": activation, "norm": self.norm, "dropout": self.dropout,
                      "init": self.init},
            "loss": self._loss_name(),
            "optimizer": {"name": self.optimizer, "lr": self.lr, "weight_decay": self.weight_decay},
            "batch_size": self.batch_size, "epochs": epochs, "clip_norm": self.clip_norm, "l2": self.l2,
            "seed": self._seed(), "dtype": self._np_dtype().name,
        })

    # ----------------------------------------------------------------- training

    def _validate(self, X, y, reset: bool):
        """X as a finite 2-D array in the estimator's dtype; y as a 1-D array."""
        dtype = self._np_dtype()
        return validate_data(self, X, y, reset=reset, dtype=dtype, y_numeric=self._task == "regression")

    def _start(self, X: np.ndarray, target: np.ndarray, config: RunConfig) -> None:
        """Fit the scalers, build the Dataset and a fresh Trainer (``_trainer``) for ``config``."""
        self.config_ = config
        self.scaler_ = Standardizer().fit(X) if self.standardize else None
        Xs = self._scale(X)
        names = [str(f) for f in getattr(self, "feature_names_in_", [])] or [f"x{j + 1}" for j in range(X.shape[1])]
        classes = list(getattr(self, "classes_", []))
        # every row trains (no test part): the history has train_* columns only
        dataset = Dataset(name="the training data", task=self._task, X_train=Xs, y_train=target, X_test=None,
                          y_test=None, n_classes=len(classes), feature_names=names, target_name="y",
                          class_labels=classes)
        self._trainer = Trainer(self.config_, dataset)
        self.net_ = self._trainer.net
        self.history_ = self._trainer.history
        self.n_iter_ = 0
        self.stop_reason_ = "completed"

    def _scale(self, X: np.ndarray) -> np.ndarray:
        return X if self.scaler_ is None else self.scaler_.transform(X)

    def _fit(self, X, y):
        config = self._make_config(self.epochs)  # bad parameters fail before anything changes
        X, y = self._validate(X, y, reset=True)
        target = self._targets_fit(y, classes=None, first=True)
        self._start(X, target, config)
        result = self._trainer.run()
        self.n_iter_ = self._trainer.epoch
        self._finish(result.stop_reason, result.message)
        return self

    def _partial_fit(self, X, y, classes=None):
        first = not hasattr(self, "net_")
        config = self._make_config(1) if first else None
        X, y = self._validate(X, y, reset=first)
        target = self._targets_fit(y, classes=classes, first=first)
        if first:
            self._start(X, target, config)
        t = self._trainer
        t.run_epoch(self._scale(X), target)
        self.n_iter_ = t.epoch
        self._finish(t.stop_reason, t.message)
        return self

    def _finish(self, reason: str, message: str) -> None:
        self.stop_reason_ = reason
        self.loss_ = self.history_["train_loss"][-1] if self.history_["train_loss"] else math.nan
        if reason == "diverged":
            warnings.warn(f"{type(self).__name__}: {message}; the weights of the last completed epoch are kept "
                          "(try a smaller lr or clip_norm)", RuntimeWarning, stacklevel=3)

    def _output(self, X) -> np.ndarray:
        """The network's raw output for X, in eval mode: ``(n, n_out)`` in the estimator's dtype."""
        check_is_fitted(self, "net_")
        X = validate_data(self, X, reset=False, dtype=np.dtype(self.config_.dtype))
        return self.net_.forward(self._scale(X), training=False)


class DeltaflowClassifier(ClassifierMixin, _DeltaflowEstimator):
    """A multilayer perceptron classifier trained by backpropagation with deltaflow.

    The network is ``mlp([d, *hidden, K])`` returning logits z; with
    ``loss="cross_entropy"`` the class probabilities are ``p = softmax(z)``, and with
    ``loss="bce"`` (two classes only) one logit gives ``p(class 1) = σ(z)``.
    Training minimises the mean loss over mini-batches with ``optimizer``.

    Parameters
    ----------
    hidden : tuple of int, default (32,)
        Hidden layer widths; ``()`` is a linear model (multinomial logistic regression).
    activation : str or list of str, default "relu"
        One activation for every hidden layer, or one per layer.
    norm : {"none", "batch", "layer", "residual"}, default "none"
    dropout : float in [0, 1), default 0.0
        Dropout probability after each hidden activation (training only).
    init : str, default "auto"
        Weight initialiser; "auto" is He for the ReLU family and Xavier otherwise.
    optimizer : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}
    lr : float, default 1e-3
        The learning rate η.
    batch_size : int, default 32
    epochs : int, default 200
        Passes over the training data in ``fit``.
    weight_decay : float, default 0.0
        The optimiser's weight decay λ, on every parameter (decoupled for adamw).
    l2 : float, default 0.0
        Penalty (l2/2)·‖W‖² on the weight matrices only (not biases), added to the gradient.
    clip_norm : float or None, default None
        Rescale the gradient to this global norm when it is larger.
    standardize : bool, default True
        Standardise the columns of X with the training rows' mean and std.
    dtype : {"float32", "float64"}, default "float32"
        The dtype the network computes in; X is converted to it.
    random_state : int or None, default None
        The run's seed; None draws one from NumPy's global random state.
    loss : {"cross_entropy", "bce"}, default "cross_entropy"

    Attributes
    ----------
    classes_ : ndarray (K,)
        The class labels, sorted; column k of ``predict_proba`` is ``classes_[k]``.
    net_ : deltaflow.Sequential
        The trained network (input: standardised X; output: logits).
    config_ : RunConfig
        The run these parameters describe (seed included).
    scaler_ : Standardizer or None
    history_ : dict of lists
        Per epoch: ``epoch``, ``train_loss``, ``train_accuracy``, ``lr``, ``grad_norm``.
    loss_ : float
        The training loss after the last epoch.
    n_iter_ : int
        Epochs trained.
    stop_reason_ : str
        "completed", or "diverged" when a non-finite loss stopped training (with a warning);
        the weights are then those of the last completed epoch.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when X had column names (a DataFrame).
    """

    _task = "classification"

    def __init__(
        self,
        hidden=(32,),
        activation="relu",
        norm="none",
        dropout=0.0,
        init="auto",
        optimizer="adam",
        lr=1e-3,
        batch_size=32,
        epochs=200,
        weight_decay=0.0,
        l2=0.0,
        clip_norm=None,
        standardize=True,
        dtype="float32",
        random_state=None,
        loss="cross_entropy",
    ):
        super().__init__(
            hidden=hidden, activation=activation, norm=norm, dropout=dropout, init=init, optimizer=optimizer,
            lr=lr, batch_size=batch_size, epochs=epochs, weight_decay=weight_decay, l2=l2, clip_norm=clip_norm,
            standardize=standardize, dtype=dtype, random_state=random_state,
        )
        self.loss = loss

    def _loss_name(self) -> str:
        if self.loss not in ("cross_entropy", "bce"):
            raise ValueError(f"loss must be 'cross_entropy' or 'bce', got {self.loss!r}")
        return self.loss

    def _targets_fit(self, y, classes, first: bool) -> np.ndarray:
        """Class indices 0 … K−1 of the labels y (int64); sets ``classes_`` on a first fit."""
        check_classification_targets(y)
        if first:
            labels = np.unique(y if classes is None else np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(
                    f"y has one class only ({labels[0]!r} if any); a classifier needs at least 2 classes"
                    if len(labels) else "classes is empty; a classifier needs at least 2 classes"
                )
            if self._loss_name() == "bce" and len(labels) != 2:
                raise ValueError(f"loss='bce' needs 2 classes, y has {len(labels)} (use loss='cross_entropy')")
            self.classes_ = labels
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={classes!r} is not the same as on the first call ({self.classes_!r})")
        index = np.searchsorted(self.classes_, y)
        index = np.minimum(index, len(self.classes_) - 1)
        unseen = self.classes_[index] != y
        if unseen.any():
            raise ValueError(f"y holds labels not in classes_ {self.classes_!r}: {np.unique(y[unseen])!r}")
        return index.astype(np.int64)

    def fit(self, X, y):
        """Train a fresh network on ``X : (n, d)`` and labels ``y : (n,)`` for ``epochs`` epochs.

        Returns self.
        """
        return self._fit(X, y)

    def partial_fit(self, X, y, classes=None):
        """Train one epoch over ``X : (n, d)``, ``y : (n,)``, continuing from the current state.

        ``classes`` (every label there will ever be) is required on the first call, which
        also fits ``scaler_`` on this X; later calls keep both. Returns self.
        """
        if classes is None and not hasattr(self, "net_"):
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._partial_fit(X, y, classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n, K)``: softmax(z) (or [1 − σ(z), σ(z)] for bce); rows sum to 1."""
        out = self._output(X)  # checks that the estimator is fitted
        return self._trainer.task.proba(out)

    def predict_log_proba(self, X) -> np.ndarray:
        """log p ``(n, K)``, computed stably from the logits: log softmax(z), or for bce
        [log σ(−z), log σ(z)] with log σ(z) = −log(1 + e^(−z))."""
        out = self._output(X)
        return self._trainer.task.log_proba(out)

    def predict(self, X) -> np.ndarray:
        """The most probable class label for each row of ``X : (n, d)``; shape (n,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class DeltaflowRegressor(RegressorMixin, _DeltaflowEstimator):
    """A multilayer perceptron regressor trained by backpropagation with deltaflow.

    The network is ``mlp([d, *hidden, 1])`` with a linear output, trained on the mean
    squared error L = mean[(ŷ − y)²] over mini-batches with ``optimizer``. With
    ``standardize=True`` both X's columns and y are standardised for training, and
    ``predict`` maps the output back to y's units: ``ŷ = s_y·out + μ_y``.

    Parameters are those of ``DeltaflowClassifier`` without ``loss``.

    Attributes
    ----------
    net_, config_, scaler_, history_ (``train_r2`` instead of accuracy), loss_, n_iter_,
    stop_reason_, n_features_in_, feature_names_in_ : as for ``DeltaflowClassifier``;
    ``loss_`` is in standardised units of y when ``standardize=True``.
    target_scaler_ : Standardizer or None
        μ_y and s_y (None when ``standardize=False``).
    """

    _task = "regression"

    def _targets_fit(self, y, classes, first: bool) -> np.ndarray:
        """y as ``(n, 1)`` in the estimator's dtype, standardised with the first fit's μ_y, s_y."""
        y = np.asarray(y).reshape(-1, 1).astype(self._np_dtype())
        if first:
            self.target_scaler_ = Standardizer().fit(y) if self.standardize else None
        return y if self.target_scaler_ is None else self.target_scaler_.transform(y)

    def fit(self, X, y):
        """Train a fresh network on ``X : (n, d)`` and targets ``y : (n,)`` for ``epochs`` epochs.

        Returns self.
        """
        return self._fit(X, y)

    def partial_fit(self, X, y):
        """Train one epoch over ``X : (n, d)``, ``y : (n,)``, continuing from the current state.

        The first call fits ``scaler_`` and ``target_scaler_``; later calls keep them.
        Returns self.
        """
        return self._partial_fit(X, y)

    def predict(self, X) -> np.ndarray:
        """Predicted targets for the rows of ``X : (n, d)``: shape (n,), in the estimator's dtype."""
        out = self._output(X)
        if self.target_scaler_ is not None:
            out = self.target_scaler_.inverse_transform(out)
        return out[:, 0]

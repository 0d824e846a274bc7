"""``import deltaflow as df`` keeps every public name it had before the sub-packages, and
``help(df)`` and ``dir(df)`` list them."""

import pydoc
import subprocess
import sys

import deltaflow as df

# every name ``deltaflow`` offered when its modules sat flat in one folder
NAMES = [
    "Adagrad", "Adam", "AdamW", "BatchNorm", "BinaryCrossEntropy", "Dense", "Dropout", "ELU", "GELU", "Identity",
    "Layer", "LayerNorm", "LeakyReLU", "MeanSquaredError", "Param", "Perceptron", "RMSprop", "ReLU", "Residual",
    "RunConfig", "SGD", "Sequential", "Sigmoid", "SoftmaxCrossEntropy", "Step", "Tanh", "clip_grad_norm",
    "clip_grad_value", "collapse_linear", "fit", "gradcheck", "load_dataset", "load_model", "log_softmax", "mlp",
    "save_model", "sigmoid", "softmax",
]


def test_every_public_name_is_kept_listed_and_resolves():
    assert sorted(df.__all__) == sorted(NAMES)
    listed = dir(df)
    for name in NAMES:
        assert name in listed, name
        assert getattr(df, name) is not None, name


def test_the_names_are_the_sub_packages_objects():
    from deltaflow.nn.layers import Dense
    from deltaflow.optim.optimizers import Adam
    from deltaflow.training.config import RunConfig
    from deltaflow.training.trainer import fit

    assert (df.Dense, df.Adam, df.RunConfig, df.fit) == (Dense, Adam, RunConfig, fit)


def test_help_names_the_entry_points_and_lists_the_api():
    text = pydoc.render_doc(df, renderer=pydoc.plaintext)
    for entry in ("df.mlp", "df.fit", "df.RunConfig", "nn", "optim", "training", "diagnostics", "viz"):
        assert entry in text, entry
    assert "Dense" in text and "SoftmaxCrossEntropy" in text


def test_an_unknown_name_says_so():
    try:
        df.no_such_thing
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("df.no_such_thing resolved")


def test_the_package_import_loads_the_engine_only():
    """The training stack (pydantic, scikit-learn) loads on first use of a lazy name, not at import."""
    probe = "import sys, deltaflow; print(' '.join(m for m in ('pydantic', 'sklearn', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""

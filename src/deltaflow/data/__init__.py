"""Data for deltaflow: toy 2-D and 1-D generators, bundled real sets, user files, splits, batches.

``load_dataset("spiral", noise=0.1, seed=0)`` is the one call most code needs; it returns a
``Dataset`` with standardised train and test parts. The pieces it is built from are
public too: the generators (``circle`` … ``sawtooth``), ``make_features``, ``load_table``,
``train_test_split``, ``Standardizer``, ``InputTransform`` (raw rows → network input) and ``iterate_minibatches``.
"""

from deltaflow.data.features import FEATURES, make_features
from deltaflow.data.files import load_table, read_table
from deltaflow.data.functions import abs, sawtooth, sin, step  # noqa: A004 - abs is the data set's name
from deltaflow.data.real import breast_cancer, describe_real, digits, iris, wine
from deltaflow.data.registry import DATASETS, Dataset, DatasetInfo, load_dataset
from deltaflow.data.split import Standardizer, iterate_minibatches, train_test_split
from deltaflow.data.transform import InputTransform
from deltaflow.data.toy import circle, gauss, moons, multi_gauss, plane, spiral, spiral_k, xor

__all__ = [
    "DATASETS",
    "FEATURES",
    "Dataset",
    "DatasetInfo",
    "InputTransform",
    "Standardizer",
    "abs",
    "breast_cancer",
    "circle",
    "describe_real",
    "digits",
    "gauss",
    "iris",
    "iterate_minibatches",
    "load_dataset",
    "load_table",
    "make_features",
    "moons",
    "multi_gauss",
    "plane",
    "read_table",
    "sawtooth",
    "sin",
    "spiral",
    "spiral_k",
    "step",
    "train_test_split",
    "wine",
    "xor",
]

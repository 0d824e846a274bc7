"""Sets with more than two inputs in the simulator: the PCA plane against scikit-learn's PCA
(float64), plane → input → plane the identity, a session's points, maps and predictions
against the engine's network, and CSV uploads of five features."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from deltaflow.data import load_dataset
from deltaflow.training.config import RunConfig
from deltaflow.training.io import load_model
from deltaflow.web import frames as F
from deltaflow.web.building import grid_inputs
from deltaflow.web.projection import Projection
from web_client import Socket


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
def test_the_plane_is_scikit_learns_first_two_principal_components(name):
    X = load_dataset(name, seed=0, dtype="float64").X_train
    p = Projection.fit(X)
    pca = PCA(n_components=2, svd_solver="full").fit(X)
    np.testing.assert_allclose(p.mean, pca.mean_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p.explained, pca.explained_variance_ratio_, rtol=1e-10)
    # the same directions up to each one's sign, which ours fixes: largest entry positive
    signs = np.sign(np.sum(p.components * pca.components_.T, axis=0))
    np.testing.assert_allclose(p.components, pca.components_.T * signs, rtol=0, atol=1e-10)
    for k in range(2):
        column = p.components[:, k]
        assert column[np.argmax(np.abs(column))] > 0
    np.testing.assert_allclose(p.to_plane(X), pca.transform(X) * signs, rtol=0, atol=1e-9)


def test_plane_to_input_to_plane_is_the_identity_and_input_to_plane_projects():
    X = load_dataset("wine", seed=0, dtype="float64").X_train
    p = Projection.fit(X)
    P = np.random.default_rng(1).normal(scale=3.0, size=(50, 2))
    np.testing.assert_allclose(p.to_plane(p.to_input(P)), P, rtol=0, atol=1e-12)
    x_on_plane = p.to_input(p.to_plane(X))
    # the residual x − proj(x) is orthogonal to the plane, and projecting again changes nothing
    np.testing.assert_allclose((X - x_on_plane) @ p.components, 0, atol=1e-11)
    np.testing.assert_allclose(p.to_input(p.to_plane(x_on_plane)), x_on_plane, atol=1e-12)


@pytest.mark.parametrize("shape", [(10, 1), (1, 5), (6,)])
def test_a_plane_needs_two_rows_and_two_columns(shape):
    with pytest.raises(ValueError, match="PCA plane needs at least 2 rows and 2 columns"):
        Projection.fit(np.zeros(shape))


def test_an_iris_session_draws_the_engines_network_on_the_plane(client, tmp_path):
    with client.websocket_connect("/ws") as ws:
        s = Socket(ws)
        s.send(type="config", config={"data": {"name": "iris"}, "model": {"hidden": [6]}, "seed": 2}, grid=24)
        st = s.next("state")
        assert st["data"]["n_inputs"] == 4 and st["data"]["dims"] == 2
        assert st["data"]["projection"]["axes"][0].startswith("PC1 (")
        f = s.request(type="step", n=25)
        sid = s.hello["session"]
        config = RunConfig.from_json(client.get(f"/api/session/{sid}/config.json").text)
        path = tmp_path / "model.npz"
        path.write_bytes(client.get(f"/api/session/{sid}/model.npz").content)
        net = load_model(path).net
        d = config.data.load(seed=config.seed, dtype=config.dtype)
        p = Projection.fit(d.X_train)
        np.testing.assert_allclose(st["data"]["train"]["x"], np.round(p.to_plane(d.X_train), 6), atol=1e-6)
        # the predictions section: eval-mode argmax of the engine's network, test then train
        np.testing.assert_array_equal(f["predictions"], net.forward(d.X_test, False).argmax(axis=1))
        np.testing.assert_array_equal(f["train_predictions"], net.forward(d.X_train, False).argmax(axis=1))
        # each of the 3 output maps is P(class k) at the grid's plane points mapped back to inputs
        X_grid = grid_inputs(d, 2, 24, st["extent"], p)
        z = net.forward(X_grid, False)
        proba = np.exp(z - z.max(axis=1, keepdims=True))
        proba /= proba.sum(axis=1, keepdims=True)
        span = (f["map_ranges"][:3, 1] - f["map_ranges"][:3, 0]) / 255
        for k in range(3):
            np.testing.assert_allclose(f["maps"][k].ravel(), proba[:, k], rtol=0, atol=span[k] / 2 + 1e-6)
        s.send(type="add_point", x1=0.5, x2=0.5, label=1)
        assert "PCA plane" in s.error()
        assert s.request(type="step", n=1)["step"] == 26  # the session lives on


def test_the_predictions_section_round_trips_through_a_frame():
    rng = np.random.default_rng(3)
    for k, itemsize in ((3, 1), (300, 2)):  # a class index in one byte up to 255 classes, else two
        test, train = rng.integers(0, k, 37), rng.integers(0, k, 150)
        raw = F.encode_frame(F.Frame(frame_id=4, step=9, epoch=1, flags=0, shapes=[(k, 2)],
                                     params=[(np.zeros((k, 2)), np.zeros(k), np.zeros((k, 2)), np.zeros(k))],
                                     predictions=(test, train), n_classes=k))
        f = F.decode_frame(raw)
        assert f["flags"] & F.PREDICTIONS and f["predictions"].itemsize == itemsize
        np.testing.assert_array_equal(f["predictions"], test)
        np.testing.assert_array_equal(f["train_predictions"], train)


def test_a_csv_of_five_features_is_drawn_on_its_plane_and_a_word_is_refused(client):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5))
    y = (X[:, 0] + X[:, 3] > 0).astype(int)
    text = "a,b,c,d,e,label\n" + "\n".join(",".join(f"{v:.5f}" for v in row) + f",{c}" for row, c in zip(X, y))
    with client.websocket_connect("/ws") as ws:
        s = Socket(ws)
        s.send(type="upload_csv", text=text, name="five.csv")
        st = s.next("state")
        assert st["network"]["inputs"] == ["a", "b", "c", "d", "e"] and st["data"]["n_inputs"] == 5
        assert st["data"]["projection"]["kind"] == "pca" and st["data"]["raw_names"][0].startswith("PC1 (")
        assert s.request(type="step", n=5)["predictions"] is not None
        bad = text.replace("\n0.", "\nlots,", 1)
        s.send(type="upload_csv", text=bad, name="words.csv")
        assert "words.csv line" in s.error()
        assert s.state["network"]["inputs"] == ["a", "b", "c", "d", "e"]  # the five-feature run survives
        assert s.request(type="step", n=1)["step"] == 6

"""The digits data set in the simulator: the ``predict`` message (a drawn digit read by the
session's network) and the test images in ``state.data``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deltaflow.data.digit_image import downsample, upsample
from deltaflow.training.config import RunConfig
from deltaflow.training.io import load_model
from deltaflow.web import protocol as P
from web_client import Socket

GOOD = [0.0] * 60 + [16, 3, 8.5, 1]


@pytest.mark.parametrize(
    "x, words",
    [
        (GOOD[:63], "at least 64"),
        ([*GOOD, 0], "at most 64"),
        ([*GOOD[:63], 16.5], "less than or equal to 16"),
        ([*GOOD[:63], -1], "greater than or equal to 0"),
        ([*GOOD[:63], "3"], "valid number"),
        ([*GOOD[:63], True], "valid number"),
        ([*GOOD[:63], None], "valid number"),
        ([*GOOD[:63], [1]], "valid number"),
        ("0" * 64, "valid list"),
    ],
)
def test_a_bad_drawing_is_a_one_line_error_naming_x(x, words):
    with pytest.raises(P.ProtocolError) as exc:
        P.parse_message(json.dumps({"type": "predict", "x": x}))
    assert str(exc.value).startswith("predict: x") and words in str(exc.value) and "\n" not in str(exc.value)


def test_non_finite_and_extra_fields_are_refused():
    for text, words in [('{"type": "predict", "x": [' + "0, " * 63 + "NaN]}", "finite"),
                        ('{"type": "predict", "x": [' + "0, " * 63 + "Infinity]}", "finite"),
                        (json.dumps({"type": "predict", "x": GOOD, "y": 3}), "y: Extra inputs"),
                        ('{"type": "predict"}', "x: Field required")]:
        with pytest.raises(P.ProtocolError, match=words):
            P.parse_message(text)


def test_a_good_drawing_parses_to_64_floats():
    msg = P.parse_message(json.dumps({"type": "predict", "x": GOOD}))
    assert msg.type == "predict" and len(msg.x) == 64 and msg.x[-4:] == [16.0, 3.0, 8.5, 1.0]


def _digits_session(client, ws) -> Socket:
    s = Socket(ws)
    preset = next(p for p in s.hello["presets"] if p["name"] == "digits")
    s.send(type="config", config=preset["config"], grid=preset["grid"])
    s.next("state")
    s.request(type="step", n=60)
    return s


def _engine(client, s: Socket, tmp_path):
    """The session's network (downloaded) and its data set rebuilt from the config and seed."""
    sid = s.hello["session"]
    config = RunConfig.from_json(client.get(f"/api/session/{sid}/config.json").text)
    path = tmp_path / "model.npz"
    path.write_bytes(client.get(f"/api/session/{sid}/model.npz").content)
    return load_model(path).net, config.data.load(seed=config.seed, dtype=config.dtype), config


def test_a_drawing_is_read_by_the_sessions_network_with_its_explanation(client, tmp_path):
    with client.websocket_connect("/ws") as ws:
        s = _digits_session(client, ws)
        net, d, config = _engine(client, s, tmp_path)
        images = s.state["data"]["images"]["test"]
        np.testing.assert_array_equal(images, d.X_test_raw)  # the raw 0–16 values, in test order
        assert s.state["data"]["test"]["y"] == d.y_test.tolist()
        drawn = downsample(upsample(d.X_test_raw[7]))  # a test image, drawn pixel by pixel
        s.send(type="predict", x=drawn.tolist())
        reply = s.next("predict")
        x_hat = d.transform(drawn[None, :])
        z = net.forward(x_hat, False)[0]
        y_hat = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        np.testing.assert_allclose(reply["probabilities"], y_hat, rtol=1e-5, atol=1e-7)
        k = int(np.argmax(y_hat))
        assert reply["predicted"] == k and abs(sum(reply["probabilities"]) - 1) < 1e-5
        ex = reply["explain"]
        assert reply["explain_error"] is None and [s_["l"] for s_ in ex["layers"]] == [1, 2]
        np.testing.assert_allclose(ex["layers"][0]["quantities"]["a_prev"]["value"], x_hat[0], rtol=1e-6)
        np.testing.assert_allclose(ex["output"]["y"]["value"], np.eye(10)[k])  # the target: the predicted class
        np.testing.assert_allclose(ex["output"]["y_hat"]["value"], y_hat, rtol=1e-4, atol=1e-6)
        # a question changes nothing: the next frame shows the same step and weights
        f = s.request(type="pause")
        np.testing.assert_array_equal(f["params"][0]["W"], net.layers[0].W.value)


def test_predict_is_refused_off_digits_and_the_session_lives_on(client):
    with client.websocket_connect("/ws") as ws:
        s = Socket(ws)  # the default spiral
        assert s.state["data"]["images"] is None
        s.send(type="predict", x=GOOD)
        assert "digits data set" in s.error()
        s.send(type="predict", x=GOOD[:10])
        assert s.error().startswith("predict: x:")
        assert s.request(type="step", n=2)["step"] == 2

"""The wire protocol alone: client message validation and the binary frame round trip."""

import numpy as np
import pytest

from deltaflow.diagnostics.probes import STATS
from deltaflow.web import frames as F
from deltaflow.web import protocol as P


@pytest.mark.parametrize(
    "text, words",
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"n": 1}', "no type"),
        ('{"type": "jump"}', "unknown message type 'jump'"),
        ('{"type": "step", "n": "5"}', "step: n:"),
        ('{"type": "step", "n": 0}', "step: n:"),
        ('{"type": "step", "m": 1}', "step: m: Extra inputs"),
        ('{"type": "add_point", "x1": NaN, "x2": 0, "label": 0}', "x1: Input should be a finite number"),
        ('{"type": "add_point", "x1": 0, "x2": 0}', "exactly one of label"),
        ('{"type": "speed"}', "exactly one of steps_per_frame"),
        ('{"type": "set_weight", "layer": 0, "row": 0, "value": 1}', "column"),
        ('{"type": "set_weight", "layer": 0, "row": 0, "column": 0, "value": 1e9}', "value"),
        ('{"type": "explain", "split": "valid", "index": 0}', "split"),
        ('{"type": "upload_csv", "text": "a", "name": "../x.csv"}', "name"),
        ('{"type": "ack", "frame": true}', "frame"),
    ],
)
def test_bad_messages_are_one_line_errors_naming_the_field(text, words):
    with pytest.raises(P.ProtocolError) as exc:
        P.parse_message(text)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_every_message_type_parses():
    for text in ['{"type": "play"}', '{"type": "pause"}', '{"type": "step", "n": 3}', '{"type": "reset"}',
                 '{"type": "regenerate"}', '{"type": "speed", "steps_per_frame": 0}',
                 '{"type": "speed", "examples_per_second": 5000}', '{"type": "ack", "frame": 4}',
                 '{"type": "add_point", "x1": 1, "x2": 2.5, "label": 1}', '{"type": "config", "config": {}}',
                 '{"type": "import_config", "text": "{}"}', '{"type": "upload_csv", "text": "a,b"}',
                 '{"type": "set_weight", "layer": 1, "row": 0, "bias": true, "value": -2}',
                 '{"type": "explain", "split": "test", "index": 0}', '{"type": "replay", "step": null}',
                 '{"type": "predict", "x": [' + ", ".join(["16"] * 64) + "]}"]:
        assert P.parse_message(text).type in P.MESSAGE_TYPES
    with pytest.raises(P.ProtocolError, match="over the limit"):
        P.parse_message('{"type": "play"}', max_bytes=5)


def _frame(rng, maps_shape, grid):
    shapes = [(5, 2), (3, 5), (2, 3)]
    params = [(rng.normal(size=s), rng.normal(size=s[0]), rng.normal(size=s), None if i == 1 else rng.normal(size=s[0]))
              for i, s in enumerate(shapes)]
    return F.Frame(
        frame_id=7, step=1234, epoch=3, flags=F.RUNNING | F.HAS_STATS, alarm=F.ALARM_VANISHING, alarm_layer=0,
        lr=0.03, shapes=shapes, loss_points=rng.random((9, 2)), metrics=rng.random(len(F.METRICS)),
        stats=rng.random((len(STATS), 3)), params=params,
        units=[rng.integers(0, 4, n_out).astype(np.uint8) for n_out, _ in shapes],
        maps=None if maps_shape is None else rng.normal(size=maps_shape), grid=grid, n_outputs=1,
    )


@pytest.mark.parametrize("maps_shape, grid", [((9, 11 * 11), 11), ((9, 64), 64), (None, 0)])
def test_frame_round_trip(maps_shape, grid):
    rng = np.random.default_rng(0)
    f = _frame(rng, maps_shape, grid)
    buf = F.encode_frame(f)
    assert buf[:4] == F.MAGIC and len(buf) % 4 == 0
    d = F.decode_frame(buf)
    assert (d["frame_id"], d["step"], d["epoch"], d["alarm"], d["alarm_layer"]) == (7, 1234, 3, 1, 0)
    assert d["flags"] & F.RUNNING and d["shapes"] == f.shapes
    np.testing.assert_allclose(d["lr"], 0.03, rtol=1e-7)
    np.testing.assert_array_equal(d["loss_points"], f.loss_points.astype(np.float32))
    np.testing.assert_array_equal(list(d["metrics"].values()), f.metrics.astype(np.float32))
    for i, name in enumerate(STATS):
        np.testing.assert_array_equal(d["stats"][name], f.stats[i].astype(np.float32))
    for got, (W, b, dW, db) in zip(d["params"], f.params):
        np.testing.assert_array_equal(got["W"], W.astype(np.float32))
        np.testing.assert_array_equal(got["dW"], dW.astype(np.float32))
        np.testing.assert_array_equal(got["db"], np.zeros(len(b)) if db is None else db.astype(np.float32))
    for got, want in zip(d["units"], f.units, strict=True):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)
    assert d["flags"] == F.RUNNING | F.HAS_STATS | (d["flags"] & (F.MAPS | F.CURVES))
    replay = F.decode_frame(F.as_replay(buf))
    assert replay["flags"] == d["flags"] | F.REPLAY and F.as_replay(buf)[8:] == buf[8:]
    if maps_shape is None:
        assert d["maps"] is None and d["curves"] is None and not d["flags"] & (F.MAPS | F.CURVES)
    elif maps_shape[1] == grid:  # 1-D curves travel as float32
        assert d["flags"] & F.CURVES
        np.testing.assert_array_equal(d["curves"], f.maps.astype(np.float32))
    else:  # 2-D maps as uint8: within half a level of 255 of each map's range
        assert d["flags"] & F.MAPS and d["maps"].shape == (9, grid, grid)
        span = f.maps.max(axis=1) - f.maps.min(axis=1)
        err = np.abs(d["maps"].reshape(9, -1) - f.maps).max(axis=1)
        assert np.all(err <= span / 255 * 0.5 + 1e-5)


def test_quantize_handles_constant_and_nonfinite_maps():
    ranges, q = F.quantize(np.array([[2.0, 2.0, 2.0], [0.0, np.nan, 1.0], [np.inf, np.nan, -np.inf]]))
    np.testing.assert_array_equal(ranges, [[2, 2], [0, 1], [0, 0]])
    np.testing.assert_array_equal(q, [[0, 0, 0], [0, 0, 255], [0, 0, 0]])


def test_a_frame_without_units_has_zeros_and_wrong_units_are_refused():
    f = _frame(np.random.default_rng(2), None, 0)
    f.units = None
    assert [u.tolist() for u in F.decode_frame(F.encode_frame(f))["units"]] == [[0] * 5, [0] * 3, [0] * 2]
    f.units = [np.zeros(5), np.zeros(3), np.zeros(1)]
    with pytest.raises(ValueError, match="units has 9 bytes, expected one per unit .10."):
        F.encode_frame(f)


def test_decode_refuses_malformed_frames():
    buf = F.encode_frame(_frame(np.random.default_rng(1), (9, 100), 10))
    with pytest.raises(ValueError, match="truncated"):
        F.decode_frame(buf[:-8])
    with pytest.raises(ValueError, match="after its last section"):
        F.decode_frame(buf + b"\0\0\0\0")
    with pytest.raises(ValueError, match="not a deltaflow frame"):
        F.decode_frame(b"XXXX" + buf[4:])
    with pytest.raises(ValueError, match="header"):
        F.decode_frame(buf[:10])


def test_the_message_types_are_the_schemas_and_each_has_its_handler():
    from deltaflow.web.handlers import HANDLERS

    # read independently of the module's own derivation: each schema's JSON ``type`` constant
    assert P.MESSAGE_TYPES == tuple(m.model_json_schema()["properties"]["type"]["const"] for m in P.MESSAGES)
    assert set(HANDLERS) == set(P.MESSAGE_TYPES) and "upload_csv" in HANDLERS
    with pytest.raises(P.ProtocolError, match="known: config, import_config, play"):
        P.parse_message('{"type": "jump"}')

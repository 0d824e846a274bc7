"""The digits data set in the simulator: the ``predict`` message (a drawn digit read by the
session's network) and the test images in ``state.data``."""

from __future__ import annotations

import json

import pytest

from deltaflow.web import protocol as P

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

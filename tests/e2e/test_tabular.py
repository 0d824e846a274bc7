"""Tabular sets in the simulator as a learner meets them: the iris preset played to its pause,
the PCA plane's note, and the Confusion matrix tab read cell by cell against scikit-learn's
``confusion_matrix`` of the engine's own predictions; wine and digits show the tab too."""

from __future__ import annotations

import numpy as np
import pytest
from e2e_page import session_engine, wait_config, wait_paused
from sklearn.metrics import confusion_matrix

from deltaflow.web.presets import PRESETS

BY_NAME = {p["name"]: p for p in PRESETS}


def shown_matrix(page, k: int) -> np.ndarray:
    return np.array([[int(page.get_by_test_id(f"confusion-cell-{i}-{j}").get_attribute("data-count"))
                      for j in range(k)] for i in range(k)])


def play_preset(page, name: str) -> None:
    page.get_by_test_id(f"preset-{name}").click()
    wait_config(page, BY_NAME[name]["config"])
    page.get_by_test_id("play").click()
    page.wait_for_function(f"() => window.deltaflow.app.frame?.step >= {BY_NAME[name]['pause_at']}", timeout=60_000)
    wait_paused(page)


def test_iris_confusion_matrix_is_the_engines(open_page, server_url, tmp_path, output_dir):
    page = open_page()
    assert page.get_by_test_id("tab-confusion").is_hidden() is False  # the default set classifies
    page.get_by_test_id("preset-iris").click()
    wait_config(page, BY_NAME["iris"]["config"])
    # four inputs: drawn on the PCA plane, and the confusion matrix is the first view below
    assert page.get_by_test_id("projection-note").is_visible()
    assert page.get_by_test_id("tab-confusion").get_attribute("aria-selected") == "true"
    play_preset(page, "iris")
    net, d = session_engine(page, server_url, tmp_path)
    predicted = net.forward(d.X_test, False).argmax(axis=1)
    expected = confusion_matrix(d.y_test, predicted, labels=range(3))
    accuracy = float(np.mean(predicted == d.y_test))
    assert accuracy > 0.9 and len(d.y_test) == 30
    np.testing.assert_array_equal(shown_matrix(page, 3), expected)
    for i in range(3):
        shown = float(page.get_by_test_id(f"class-accuracy-{i}").get_attribute("data-value"))
        assert shown == pytest.approx(expected[i, i] / expected[i].sum(), rel=1e-12)
    assert float(page.get_by_test_id("confusion-overall").get_attribute("data-value")) == pytest.approx(accuracy, rel=1e-12)
    assert page.get_by_test_id("confusion-table").locator("th[scope=col]").all_text_contents()[:3] == \
        ["setosa", "versicolor", "virginica"]
    for w, h, tag in ((1440, 900, "1440"), (1280, 720, "1280"), (390, 844, "phone")):
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(200)
        page.screenshot(path=str(output_dir / f"iris-confusion-{tag}.png"), full_page=tag == "phone")


def test_wine_and_digits_show_the_tab_and_a_regression_set_hides_it(open_page, output_dir):
    page = open_page()
    play_preset(page, "wine")
    truth = page.evaluate("() => window.deltaflow.app.state.data.test.y")
    predicted = page.evaluate("() => Array.from(window.deltaflow.app.frame.predictions)")
    np.testing.assert_array_equal(shown_matrix(page, 3), confusion_matrix(truth, predicted, labels=range(3)))
    page.screenshot(path=str(output_dir / "wine-confusion-1440.png"))
    # digits opens its drawing pad first; the confusion matrix is one tab along
    page.get_by_test_id("preset-digits").click()
    wait_config(page, BY_NAME["digits"]["config"])
    assert page.get_by_test_id("tab-digits").get_attribute("aria-selected") == "true"
    page.get_by_test_id("tab-confusion").click()
    page.wait_for_function("() => document.querySelector('[data-testid=confusion-cell-9-9]')?.dataset.count !== undefined")
    assert page.get_by_test_id("confusion-table").locator("tr").count() == 11
    page.get_by_test_id("preset-uat_1d").click()
    page.wait_for_function("() => window.deltaflow.app.state.config.data.name === 'sin'")
    assert page.get_by_test_id("tab-confusion").is_hidden()
    assert page.get_by_test_id("tab-gradflow").get_attribute("aria-selected") == "true"

"""The depth chapters (vanishing, batchnorm, universal), done as a learner would: clicks and
typed values; every number the page reports is checked against the engine computed here."""

from __future__ import annotations

import numpy as np
import pytest
from e2e_page import number

from deltaflow.data import load_dataset
from deltaflow.diagnostics.probes import GradientProbe
from deltaflow.experiments import batchnorm, exploding, uat, vanishing



def open_chapter(open_page, chapter: str):
    page = open_page(f"#learn={chapter}")
    page.get_by_test_id(f"chapter-{chapter}").wait_for(state="visible")
    return page


def changed(page, testid: str, before: str) -> float:
    """The number under ``testid`` once its text differs from ``before``."""
    page.wait_for_function("([id, t]) => { const e = document.querySelector(`[data-testid='${id}']`);"
                           " return e && e.textContent !== t; }", arg=[testid, before])
    return number(page, testid)


def text(page, testid: str) -> str:
    return page.get_by_test_id(testid).text_content()


def engine_ratio(activation, init, norm, depth=20) -> float:
    data = load_dataset("circle", n_samples=vanishing.N_SAMPLES, seed=0, dtype="float64")
    X = vanishing.embed(data.X_train, vanishing.WIDTH, np.random.default_rng([0, 0]))
    net = vanishing.build(X.shape[1], depth, activation, init, norm, 0)
    return vanishing.ratio(vanishing.measure(net, GradientProbe(net, every=1), X, data.y_train)[1])


def assert_shown(shown: float, value: float) -> None:
    """The page prints 3 significant digits."""
    assert shown == pytest.approx(value, rel=6e-3)


def test_vanishing_challenge(open_page, output_dir):
    page = open_chapter(open_page, "vanishing")
    sigmoid = number(page, "vanishing-ratio")
    assert_shown(sigmoid, engine_ratio("sigmoid", "xavier", "none"))
    assert sigmoid < 1e-10 and page.get_by_test_id("challenge-vanishing-part-0").get_attribute("data-met") == "false"
    assert page.get_by_test_id("vanishing-chart").locator("rect").count() == 21
    page.get_by_test_id("vanishing-setup-relu").click()
    relu = changed(page, "vanishing-ratio", text(page, "vanishing-ratio"))
    assert_shown(relu, engine_ratio("relu", "he", "none"))
    page.get_by_test_id("vanishing-setup-batchnorm").click()
    assert_shown(changed(page, "vanishing-ratio", text(page, "vanishing-ratio")), engine_ratio("sigmoid", "xavier", "batch"))
    assert page.get_by_test_id("challenge-vanishing-part-0").get_attribute("data-met") == "true"

    # a loose threshold: finite, but the network is left at chance
    data = load_dataset("circle", n_samples=vanishing.N_SAMPLES, seed=0, dtype="float64")
    page.get_by_test_id("vanishing-train").click()
    page.get_by_test_id("vanishing-applied").wait_for()
    assert text(page, "vanishing-plain-end") == f"non-finite at step {exploding.train(exploding.build(0), data.X_train, data.y_train, 100, False)['diverged_at']}"
    assert page.get_by_test_id("challenge-vanishing-part-1").get_attribute("data-met") == "false"
    page.get_by_test_id("vanishing-max-norm").fill("1")
    before = text(page, "vanishing-applied")
    page.get_by_test_id("vanishing-train").click()
    applied = changed(page, "vanishing-applied", before)
    run = exploding.train(exploding.build(0), data.X_train, data.y_train, 100, True, max_norm=1.0)
    assert applied <= 1.0
    assert_shown(applied, max(run["applied_norm"]))
    assert_shown(number(page, "vanishing-accuracy"), run["accuracy"])
    page.get_by_test_id("challenge-done-vanishing").wait_for(state="visible")
    summary = text(page, "summary-vanishing")
    assert f"went non-finite at step {exploding.train(exploding.build(0), data.X_train, data.y_train, 100, False)['diverged_at']}" in summary
    page.screenshot(path=str(output_dir / "learn-vanishing.png"), full_page=True)


def test_batchnorm_challenge(open_page):
    page = open_chapter(open_page, "batchnorm")
    page.get_by_test_id("batchnorm-plain-status").wait_for()
    assert page.get_by_test_id("challenge-done-batchnorm").is_hidden()  # η = 0.1: both train
    page.get_by_test_id("batchnorm-lr").fill("3")
    before = text(page, "batchnorm-bn-status")
    page.get_by_test_id("batchnorm-train").click()
    page.wait_for_function("(t) => document.querySelector('[data-testid=batchnorm-bn-status]').textContent !== t",
                           arg=before)
    data = load_dataset(batchnorm.DATASET, seed=0)
    plain, bn = (batchnorm.train(data, norm, 3.0, 3, 0) for norm in (None, "batch"))
    assert text(page, "batchnorm-plain-status") == f"non-finite loss at step {plain['diverged_at']}"
    shown = float(text(page, "batchnorm-bn-status").removeprefix("test accuracy "))
    assert_shown(shown, bn["test_accuracy"][-1])
    page.get_by_test_id("challenge-done-batchnorm").wait_for(state="visible")
    assert f"step {plain['diverged_at']}" in text(page, "summary-batchnorm")
    # batch against running statistics, after 50 training batches
    page.get_by_test_id("batchnorm-passes").fill("50")
    before = text(page, "batchnorm-gap")
    page.get_by_test_id("batchnorm-stats-run").click()
    gap = changed(page, "batchnorm-gap", before)
    from deltaflow.nn.norm import BatchNorm
    rng, layer = np.random.default_rng(0), BatchNorm(2, dtype=np.float64)
    mean, std = np.array([3.0, -1.0]), np.array([2.0, 0.5])
    for _ in range(50):
        layer.forward(mean + std * rng.standard_normal((8, 2)), True)
    x = mean + std * rng.standard_normal((8, 2))
    assert number(page, "batchnorm-running-mean-0") == pytest.approx(layer.running_mean[0], abs=5e-4)
    assert_shown(gap, float(np.abs(layer.forward(x, False) - layer.forward(x, True)).max()))


def test_universal_challenge_and_open_in_simulator(open_page):
    page = open_chapter(open_page, "universal")
    page.get_by_test_id("universal-deep-params").wait_for()
    page.get_by_test_id("universal-rmse").wait_for()
    assert_shown(number(page, "universal-rmse"), uat.fit_width("sin", 1, 800, 0)[2])  # the chapter opens at H = 1
    for h in (2, 4):
        before = text(page, "universal-rmse")
        page.get_by_test_id(f"universal-h-{h}").click()
        shown = changed(page, "universal-rmse", before)
        assert_shown(shown, uat.fit_width("sin", h, 800, 0)[2])
        met = page.get_by_test_id("challenge-done-universal").is_visible()
        assert met == (h == 4)  # sin with tanh: 4 units reach RMSE < 0.05, 3 do not
    assert page.get_by_test_id("universal-fit-svg").locator("path").count() == 4 + 2
    assert "4 tanh units" in text(page, "summary-universal")
    deep = uat.fit_sawtooth([1, 16, 16, 16, 1], 400, 0, teeth=4)
    assert number(page, "universal-deep-params") == 593 and number(page, "universal-wide-params") == 592
    assert_shown(number(page, "universal-deep-rmse"), deep[1])
    page.get_by_test_id("open-sim-universal").click()
    assert page.get_by_test_id("learn-panel").is_hidden()
    page.wait_for_function("() => { const c = window.deltaflow.app.config; return c.data.name === 'sin'"
                           " && c.model.hidden.length === 1 && c.model.hidden[0] === 4 && c.model.activation === 'tanh'; }")

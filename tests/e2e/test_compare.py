"""Compare two runs: a copy of the run with one change (sigmoid → ReLU with He initialisation)
trains on a second session beside the first, from the same seed and data. Each session's
history (``/api/session/<id>/history.json``) must equal ``fit()`` of that session's config
(``config.json``), and the charts and the gradient bars show both runs.
"""

import json
import urllib.request

from deltaflow.training.config import RunConfig
from deltaflow.training.trainer import fit

from e2e_page import upload_config

RUN = {"data": {"name": "moons", "n_samples": 200}, "model": {"hidden": [6, 6], "activation": "sigmoid"},
       "optimizer": {"name": "adam", "lr": 0.02}, "batch_size": 20, "epochs": 3, "seed": 5}


def download(server_url: str, session: str, name: str) -> bytes:
    with urllib.request.urlopen(f"{server_url}api/session/{session}/{name}", timeout=10) as r:
        return r.read()


def fit_history(config_json: bytes) -> dict:
    h = fit(RunConfig.from_json(config_json.decode())).history
    return {k: [float(v) for v in vs] for k, vs in h.items()}


def series(page, testid: str) -> list[str]:
    return json.loads(page.locator(f"[data-testid={testid}] canvas").get_attribute("data-series"))


def test_compare_trains_a_changed_copy_and_both_histories_equal_fit(open_page, server_url, tmp_path):
    page = open_page()
    upload_config(page, RUN, tmp_path)
    page.get_by_test_id("speed").select_option("5")
    # a change the run already has is no comparison: said, and nothing starts
    page.get_by_test_id("compare-change").select_option("sigmoid")
    page.get_by_test_id("compare-start").click()
    assert "already has sigmoid" in page.get_by_test_id("error").text_content()
    assert page.evaluate("() => window.deltaflow.compare.session") is None
    page.get_by_test_id("compare-change").select_option("relu_he")
    page.get_by_test_id("compare-start").click()
    page.wait_for_function("() => window.deltaflow.compare.config !== null")
    main_sid = page.evaluate("() => window.deltaflow.app.hello.session")
    other_sid = page.evaluate("() => window.deltaflow.compare.session")
    assert other_sid and other_sid != main_sid
    assert "ReLU" in page.get_by_test_id("compare-caption").text_content()

    # the main controls drive both runs: one step each, then play to the end
    page.get_by_test_id("step").click()
    page.wait_for_function("() => window.deltaflow.compare.step === 1 && document.querySelector('[data-testid=step-count]').textContent === '1'")
    page.get_by_test_id("play").click()
    page.wait_for_function("() => document.querySelector('[data-testid=connection]').dataset.done === 'true' && window.deltaflow.compare.done",
                           timeout=60_000)
    main_config = RunConfig.from_json(download(server_url, main_sid, "config.json").decode()).model_dump(mode="json")
    other_config = RunConfig.from_json(download(server_url, other_sid, "config.json").decode()).model_dump(mode="json")
    # the one change, and nothing else
    assert main_config == RunConfig.from_dict(RUN).model_dump(mode="json")
    changed = json.loads(json.dumps(main_config))
    changed["model"].update(activation="relu", init="he_normal")
    assert other_config == changed
    for sid in (main_sid, other_sid):
        shown = json.loads(download(server_url, sid, "history.json"))
        assert len(shown["epoch"]) == RUN["epochs"]
        assert shown == fit_history(download(server_url, sid, "config.json"))
    assert json.loads(download(server_url, main_sid, "history.json")) != json.loads(download(server_url, other_sid, "history.json"))

    # two runs on each chart (train and test of each), the compared one named by its change
    for chart in ("loss-chart", "metric-chart"):
        names = series(page, chart)
        assert len([n for n in names if "ReLU" in n]) == 2 and len([n for n in names if "ReLU" not in n]) == 2, names
    # both gradient profiles: the compared run's marker on every layer's bar
    for l in (1, 2, 3):
        assert page.get_by_test_id(f"grad-compare-{l}").is_visible()

    page.get_by_test_id("compare-stop").click()
    page.wait_for_function("() => window.deltaflow.compare.session === null")
    assert len(series(page, "loss-chart")) == 2
    assert not page.get_by_test_id("grad-compare-1").is_visible()

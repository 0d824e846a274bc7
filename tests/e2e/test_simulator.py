"""The simulator end to end: a real server, the real page in headless Chromium.

Numbers are read from the page as a person sees them (the data-testid outputs), and the
server's state is read through ``window.deltaflow.app`` only to wait for it.
"""

import json
import math
import re
from urllib.parse import urlparse

import pytest

from deltaflow.web.presets import PRESETS

from e2e_page import config_of, number, wait_config

# Chance level for two balanced classes is ln 2 ≈ 0.693. With sin(x₁) and sin(x₂) switched
# on, the default spiral run (8-8 tanh, Adam 0.03, batch 10, seed 0) measured a test loss of
# 0.062 after 400 steps and stayed below 0.06 from there on (fit() with the same config,
# which the session reproduces step for step); 0.2 is well above that and far below chance.
SPIRAL_TEST_LOSS = 0.2


def layer_columns(page) -> int:
    return page.locator("[data-testid^='layer-col-']").count()


def wait_text_not(page, testid: str, text: str = "–") -> None:
    page.wait_for_function(
        "([id, t]) => { const e = document.querySelector(`[data-testid='${id}']`); return e && e.textContent.trim() !== t; }",
        arg=[testid, text])


def test_page_loads_with_no_request_leaving_loopback(context, server_url):
    hosts = []
    context.on("request", lambda r: hosts.append(urlparse(r.url)))
    page = context.new_page()
    page.on("websocket", lambda ws: hosts.append(urlparse(ws.url)))
    page.goto(server_url)
    page.wait_for_function("() => window.deltaflow && window.deltaflow.app.lastId > 0")
    page.wait_for_load_state("networkidle")
    outside = [u.geturl() for u in hosts if u.scheme not in ("data", "blob") and u.hostname != "127.0.0.1"]
    assert hosts and not outside, f"requests left 127.0.0.1: {outside}"
    assert {u.scheme for u in hosts} >= {"http", "ws"}
    assert page.get_by_test_id("connection").text_content() != "connecting…"


def test_play_on_spiral_brings_the_shown_test_loss_down(open_page, output_dir):
    page = open_page()
    assert config_of(page)["data"]["name"] == "spiral"
    for feature in ("sin_x1", "sin_x2"):
        before = config_of(page)
        page.get_by_test_id(f"feature-{feature}").click()
        page.wait_for_function("(f) => (window.deltaflow.app.config.data.features || []).includes(f)", arg=feature)
        assert config_of(page)["model"] == before["model"]
    assert page.get_by_test_id("feature-sin_x1").get_attribute("aria-checked") == "true"
    start = number(page, "test-loss")
    assert start > 0.5  # an untrained network is near chance (ln 2)
    page.get_by_test_id("speed").select_option("50")
    page.get_by_test_id("play").click()
    page.wait_for_function(
        "(t) => parseFloat(document.querySelector('[data-testid=test-loss]').textContent) < t",
        arg=SPIRAL_TEST_LOSS, timeout=30_000)
    page.get_by_test_id("play").click()  # pause
    shown = number(page, "test-loss")
    assert shown < SPIRAL_TEST_LOSS
    assert number(page, "test-acc") > 90
    # the δ map's legend gives norms, not exponents of exponents ("1e-13.1")
    legend = page.locator(".delta-legend").text_content()
    assert re.fullmatch(r"dark: ‖δ‖ = \d\.\de-?\d+← \d+ frames → nowbright: ‖δ‖ = \d\.\de-?\d+", legend), legend
    page.screenshot(path=str(output_dir / "simulator-spiral.png"), full_page=True)
    assert (output_dir / "simulator-spiral.png").stat().st_size > 10_000


def test_adding_a_layer_redraws_the_network(open_page):
    page = open_page()
    hidden = config_of(page)["model"]["hidden"]
    assert layer_columns(page) == len(hidden)
    page.get_by_test_id("add-layer").click()
    page.wait_for_function("(n) => document.querySelectorAll(\"[data-testid^='layer-col-']\").length === n", arg=len(hidden) + 1)
    assert config_of(page)["model"]["hidden"] == hidden + [hidden[-1]]
    assert page.get_by_test_id("layer-count").text_content() == str(len(hidden) + 1)
    # one more column of neurons, each drawn with its heatmap
    new = len(hidden) + 1
    assert page.locator(f"[data-testid^='neuron-{new}-']").count() == hidden[-1]
    page.get_by_test_id(f"add-neuron-{new}").click()
    page.wait_for_function("(n) => window.deltaflow.app.config.model.hidden.at(-1) === n", arg=hidden[-1] + 1)
    assert page.locator(f"[data-testid^='neuron-{new}-']").count() == hidden[-1] + 1


def test_each_preset_loads_and_the_vanishing_one_shows_it(open_page):
    page = open_page()
    shown = page.evaluate("() => window.deltaflow.app.hello.presets.map((p) => p.name)")
    assert shown == [p["name"] for p in PRESETS]
    for preset in PRESETS:
        page.get_by_test_id(f"preset-{preset['name']}").click()
        wait_config(page, preset["config"])
        assert layer_columns(page) == len(preset["config"]["model"]["hidden"])
        assert page.get_by_test_id("error").is_hidden(), page.get_by_test_id("error").text_content()

    page.get_by_test_id("preset-vanishing_sigmoid").click()
    config = next(p for p in PRESETS if p["name"] == "vanishing_sigmoid")["config"]
    wait_config(page, config)
    L = len(config["model"]["hidden"]) + 1
    page.get_by_test_id("step").click()
    wait_text_not(page, "grad-norm-1")
    first, last = number(page, "grad-norm-1"), number(page, f"grad-norm-{L}")
    assert 0 < first < 1e-4 * last, (first, last)
    alarm = page.get_by_test_id("alarm")
    assert alarm.is_visible() and alarm.get_attribute("data-kind") == "vanishing"
    assert "layer 1" in alarm.text_content()


def test_config_export_then_import_restores_the_same_state(open_page, tmp_path):
    page = open_page()
    page.get_by_test_id("dataset-moons").click()
    page.wait_for_function("() => window.deltaflow.app.config.data.name === 'moons'")
    page.get_by_test_id("lr").select_option("0.1")
    page.wait_for_function("() => window.deltaflow.app.config.optimizer.lr === 0.1")
    page.get_by_test_id("add-layer").click()
    page.wait_for_function("() => window.deltaflow.app.config.model.hidden.length === 3")
    page.get_by_test_id("feature-x1^2").click()
    page.wait_for_function("() => (window.deltaflow.app.config.data.features || []).includes('x1^2')")
    page.get_by_test_id("activation-2").select_option("relu")
    page.wait_for_function("() => JSON.stringify(window.deltaflow.app.config.model.activation) === '[\"tanh\",\"relu\",\"tanh\"]'")
    state = config_of(page)

    with page.expect_download() as download:
        page.get_by_test_id("download-config").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    exported = json.loads(path.read_text())
    assert exported == state

    page.get_by_test_id("preset-xor_hidden").click()
    page.wait_for_function("() => window.deltaflow.app.config.data.name === 'xor'")
    page.get_by_test_id("upload-config").set_input_files(str(path))
    wait_config(page, exported)
    assert page.get_by_test_id("dataset-moons").get_attribute("aria-pressed") == "true"
    assert page.get_by_test_id("lr").input_value() == "0.1"
    assert page.get_by_test_id("activation-2").input_value() == "relu"
    assert page.get_by_test_id("feature-x1^2").get_attribute("aria-checked") == "true"
    assert layer_columns(page) == 3

    # the same state again from the link (the config in the URL's hash), in a new tab
    other = page.context.new_page()
    other.goto(page.url)
    wait_config(other, exported)


def test_two_tabs_train_independently(open_page):
    a, b = open_page(), open_page()
    assert a.evaluate("() => window.deltaflow.app.hello.session") != b.evaluate("() => window.deltaflow.app.hello.session")
    b.get_by_test_id("preset-xor_hidden").click()
    b.wait_for_function("() => window.deltaflow.app.config.data.name === 'xor'")
    a.get_by_test_id("play").click()
    a.wait_for_function("() => parseInt(document.querySelector('[data-testid=step-count]').textContent.replace(/\\D/g, '')) >= 30")
    a.get_by_test_id("play").click()  # pause; the frame after it shows a's last step
    a.wait_for_function("() => document.querySelector('[data-testid=play]').getAttribute('aria-label') === 'Play'")
    steps_a = a.get_by_test_id("step-count").text_content()
    assert b.get_by_test_id("step-count").text_content() == "0"
    assert config_of(a)["data"]["name"] == "spiral" and config_of(b)["data"]["name"] == "xor"
    b.get_by_test_id("step").click()
    b.wait_for_function("() => document.querySelector('[data-testid=step-count]').textContent === '1'")
    a.wait_for_timeout(300)
    assert a.get_by_test_id("step-count").text_content() == steps_a  # b's step did not move a


def test_nan_shows_the_alarm_naming_the_layer(open_page):
    page = open_page()
    page.get_by_test_id("preset-exploding").click()
    page.wait_for_function("() => window.deltaflow.app.config.optimizer.lr === 1")
    page.get_by_test_id("play").click()
    alarm = page.get_by_test_id("alarm")
    page.wait_for_function("() => document.querySelector('[data-testid=alarm]').dataset.kind === 'nan'")
    layer = int(alarm.get_attribute("data-layer"))
    L = len(config_of(page)["model"]["hidden"]) + 1
    assert layer in range(1, L + 1)
    assert re.search(rf"\blayer {layer}\b", alarm.text_content()), alarm.text_content()
    # one numbering: the server's detail names the same layer as the banner
    assert set(re.findall(r"\blayer (\d+)", alarm.text_content())) == {str(layer)}, alarm.text_content()
    assert page.get_by_test_id("play").get_attribute("aria-label") == "Play"  # training paused


def test_a_hidden_tab_stops_acknowledging_and_the_server_stops_sending(open_page):
    page = open_page()
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.deltaflow.app.lastId > 5")
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(500)
    held = page.evaluate("() => window.deltaflow.app.lastId")
    page.wait_for_timeout(700)  # ~20 frames at 30 per second if the server kept sending
    assert page.evaluate("() => window.deltaflow.app.lastId") - held <= 4  # at most the credit window
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_function("(n) => window.deltaflow.app.lastId > n + 5", arg=held)
    page.get_by_test_id("play").click()


@pytest.mark.parametrize("split", ["train"])
def test_show_the_maths_steps_through_one_example(open_page, split):
    page = open_page()
    page.get_by_test_id("tab-maths").click()
    page.get_by_test_id("maths-index").fill("3")
    page.get_by_test_id("explain").click()
    title = page.get_by_test_id("maths-title")
    title.wait_for()
    assert title.text_content().startswith("Input")
    stages = page.get_by_test_id("maths-stage").text_content()
    total = int(stages.split("/")[1])
    assert total == 1 + 3 + 1 + 3 + 1  # input, forward ×3, loss, backward ×3, ∂L/∂x
    page.get_by_test_id("maths-next").click()
    body = page.get_by_test_id("maths-body").text_content()
    assert "z(1)" in body and "W(1)" in body  # z⁽¹⁾, W⁽¹⁾ typeset: MathML msup reads as "z(1)"
    assert page.locator("[data-testid=maths-body] msup").count() > 0
    assert not math.isnan(float(page.locator("[data-testid=maths-body] mtable mn").first.text_content().replace("−", "-")))


"""The simulator end to end, the page's edits and files: points added by a click, an uploaded
CSV, a weight edited on its edge, hover values, the server's errors, the model and config
downloads checked against the engine, and stale frames dropped.

Numbers are read from the page as a person sees them; what the server holds is read through
its own downloads (``/api/session/<id>/model.npz`` and ``history.json``).
"""

import json
import urllib.request

import numpy as np

from deltaflow.data import DATASETS
from deltaflow.training.config import RunConfig
from deltaflow.training.io import load_model
from deltaflow.training.task import Task
from deltaflow.training.trainer import fit

from e2e_page import EDGE_PIXEL, config_of, edge_middle, edge_pixel, number, upload_config, wait_config, wait_ready

POS = (8, 119, 189)  # class 1's colour (util.js)
SHOWN = 5e-4  # the page shows 4 significant digits: half a unit of the 4th, relative


def state(page) -> dict:
    return page.evaluate("() => window.deltaflow.app.state")


def session_id(page) -> str:
    return page.evaluate("() => window.deltaflow.app.hello.session")


def fetch(server_url: str, page, name: str) -> bytes:
    with urllib.request.urlopen(f"{server_url}api/session/{session_id(page)}/{name}", timeout=10) as r:
        return r.read()


def server_model(server_url, page, tmp_path):
    path = tmp_path / "server-model.npz"
    path.write_bytes(fetch(server_url, page, "model.npz"))
    return load_model(path)


def plot_box(page) -> dict:
    """The output's plot square (the input plane) in page pixels: the box of its background."""
    return page.locator("#output-heatmap canvas.bg").bounding_box()


def pixel(page, u: float, v: float) -> tuple[int, int, int]:
    """The colour of the output's points layer at (u, v), fractions of the plot's width and height."""
    return tuple(page.evaluate(
        """([u, v]) => {
            const c = document.querySelector("[data-testid=output-heatmap]"), b = c.getBoundingClientRect();
            const p = document.querySelector("#output-heatmap canvas.bg").getBoundingClientRect();
            const s = c.width / b.width;
            const x = Math.floor((p.left - b.left + u * p.width) * s), y = Math.floor((p.top - b.top + v * p.height) * s);
            const d = c.getContext("2d").getImageData(x, y, 1, 1).data;
            return [d[0], d[1], d[2]];
        }""", [u, v]))


def shown_close(shown: float, value: float) -> bool:
    return abs(shown - value) <= SHOWN * abs(value) + 1e-12


def tooltip_number(page, prefix: str) -> float:
    """The number after ``prefix`` in the hover tooltip."""
    text = page.get_by_test_id("tooltip").text_content()
    line = next(s for s in text.splitlines() if s.startswith(prefix))
    return float(line.removeprefix(prefix).strip().replace("−", "-"))


def test_a_click_on_the_output_adds_a_point_of_the_chosen_class(open_page):
    page = open_page()
    s = state(page)
    n = len(s["data"]["train"]["x"])
    (x0, x1), (y0, y1) = s["extent"]["x1"], s["extent"]["x2"]
    u, v = 0.92, 0.08  # a corner the spiral leaves empty
    assert pixel(page, u, v) != POS
    page.get_by_test_id("click-class").select_option("1")
    box = plot_box(page)
    page.mouse.click(box["x"] + u * box["width"], box["y"] + v * box["height"])
    page.wait_for_function("(n) => window.deltaflow.app.state.data.train.x.length === n + 1", arg=n)
    d = state(page)["data"]  # the server's data set, as its state reply sent it
    (px, py), label = d["train"]["x"][-1], d["train"]["y"][-1]
    assert label == 1 and d["added"] == 1
    cell = 1.5 * (x1 - x0) / box["width"]  # a click lands within a pixel or so of where it was aimed
    assert abs(px - (x0 + u * (x1 - x0))) < cell and abs(py - (y1 - v * (y1 - y0))) < cell
    assert pixel(page, u, v) == POS  # drawn where it was clicked, in class 1's colour


def test_an_uploaded_csv_becomes_the_data_set(open_page, tmp_path):
    page = open_page()
    rng = np.random.default_rng(4)
    X = rng.uniform(-3, 3, size=(60, 2))
    path = tmp_path / "quadrants.csv"
    path.write_text("a,b,cls\n" + "".join(f"{p:.4f},{q:.4f},{int(p * q > 0)}\n" for p, q in X))
    page.get_by_test_id("upload-csv").set_input_files(str(path))
    page.wait_for_function("() => window.deltaflow.app.config.data.name === 'csv'")
    s = state(page)
    assert s["config"]["data"]["path"] == "quadrants.csv" and s["data"]["raw_names"] == ["a", "b"]
    shown = s["data"]["train"]["x"] + s["data"]["test"]["x"]
    assert sorted(map(tuple, shown)) == sorted((round(p, 4), round(q, 4)) for p, q in np.round(X, 4))
    # the network's inputs are the file's columns, and the output plots its points
    assert page.get_by_test_id("feature-a").is_visible() and page.get_by_test_id("feature-b").is_visible()
    (x0, x1), (y0, y1) = s["extent"]["x1"], s["extent"]["x2"]
    assert x0 < X[:, 0].min() and X[:, 0].max() < x1 and y0 < X[:, 1].min() and X[:, 1].max() < y1
    (p, q), label = s["data"]["train"]["x"][-1], s["data"]["train"]["y"][-1]  # drawn last: on top
    colour = pixel(page, (p - x0) / (x1 - x0), (y1 - q) / (y1 - y0))
    assert colour == (POS if label == 1 else (245, 147, 34))
    page.get_by_test_id("step").click()
    page.wait_for_function("() => document.querySelector('[data-testid=step-count]').textContent === '1'")


def test_hover_shows_values_and_a_click_edits_a_weight(open_page, server_url, tmp_path):
    page = open_page()
    model = server_model(server_url, page, tmp_path)
    W, b = model.net.layers[0].W.value, model.net.layers[0].b.value
    x, y = edge_middle(page, "feature-x1", "neuron-1-0")  # W(1)[0, 0]: neuron 1 of layer 1 from x₁
    page.mouse.move(x, y)
    assert shown_close(tooltip_number(page, "W(1)[1,1] ="), W[0, 0])
    page.get_by_test_id("neuron-1-0").hover()
    assert shown_close(tooltip_number(page, "b ="), b[0])

    widest = (*POS, 255)  # |w| ≥ 2 draws the widest edge, opaque blue; an initial weight is far smaller
    assert edge_pixel(page, x, y) != widest
    page.mouse.click(x, y)
    page.get_by_test_id("weight-input").fill("2.5")
    page.get_by_test_id("weight-input").press("Enter")
    page.wait_for_function(f"(p) => String(({EDGE_PIXEL})(p)) === '{','.join(map(str, widest))}'", arg=[x, y])
    W_new = server_model(server_url, page, tmp_path).net.layers[0].W.value
    assert W_new[0, 0] == np.float32(2.5)
    np.testing.assert_array_equal(np.delete(W_new.ravel(), 0), np.delete(W.ravel(), 0))  # that weight only
    page.mouse.move(x, y)
    assert tooltip_number(page, "W(1)[1,1] =") == 2.5


def test_the_downloaded_model_predicts_what_the_page_shows(open_page, tmp_path):
    page = open_page()
    for n in range(1, 4):
        page.get_by_test_id("step").click()
        page.wait_for_function("(n) => document.querySelector('[data-testid=step-count]').textContent === String(n)", arg=n)
    shown_loss, shown_acc = number(page, "test-loss"), number(page, "test-acc")
    with page.expect_download() as download:
        page.get_by_test_id("download-model").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".npz"
    model = load_model(path)
    assert model.meta["step"] == 3
    config = RunConfig.from_dict(model.config)
    assert config == RunConfig.from_dict(config_of(page))
    data = config.data.load(seed=config.seed, dtype=config.dtype)
    task = Task.for_dataset(data, config.loss)
    out = model.net.forward(data.X_test, False)
    loss, acc = task.loss.forward(out, task.targets(data.y_test)), task.metric(out, data.y_test)
    assert shown_close(shown_loss, loss), (shown_loss, loss)
    assert abs(shown_acc - 100 * acc) <= 0.05 + 1e-9, (shown_acc, acc)  # shown as 12.3%


def test_the_page_shows_the_servers_errors_and_the_session_lives_on(open_page, tmp_path):
    page = open_page()
    before = config_of(page)
    error = page.get_by_test_id("error")
    too_wide = tmp_path / "too-wide.json"
    too_wide.write_text(json.dumps({**before, "model": {**before["model"], "hidden": [100]}}))
    page.get_by_test_id("upload-config").set_input_files(str(too_wide))
    error.wait_for()
    assert "100 neurons in a layer is over the limit of 64" in error.text_content()
    assert config_of(page) == before

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,cls\n1,2,0\n1,x,1\n")
    page.get_by_test_id("upload-csv").set_input_files(str(bad))
    page.wait_for_function("() => document.querySelector('[data-testid=error]').textContent.includes('bad.csv line 3')")
    assert error.is_visible() and "deltaflow-upload" not in error.text_content()
    assert config_of(page) == before

    page.get_by_test_id("step").click()  # the same session trains on
    page.wait_for_function("() => document.querySelector('[data-testid=step-count]').textContent === '1'")
    assert page.get_by_test_id("connection").text_content() == "paused"


def test_a_downloaded_config_gives_the_pages_numbers_through_fit(open_page, server_url, tmp_path):
    run = {"data": {"name": "moons", "n_samples": 200}, "model": {"hidden": [6], "activation": "tanh"},
           "optimizer": {"name": "adam", "lr": 0.02}, "batch_size": 20, "epochs": 4, "seed": 5}
    page = open_page()
    upload_config(page, run, tmp_path)
    page.get_by_test_id("speed").select_option("5")
    page.get_by_test_id("play").click()
    # the run stops by itself after its 4 whole epochs
    page.wait_for_function("() => document.querySelector('[data-testid=connection]').dataset.done === 'true'")
    assert page.get_by_test_id("epoch-count").text_content() == "4"
    shown = {k: number(page, k) for k in ("train-loss", "test-loss", "train-acc", "test-acc")}

    with page.expect_download() as download:
        page.get_by_test_id("download-config").click()
    path = tmp_path / "downloaded.json"
    download.value.save_as(path)
    ref = fit(RunConfig.from_json(path.read_text()))
    h = ref.history
    assert len(h["epoch"]) == 4
    assert json.loads(fetch(server_url, page, "history.json")) == {k: [float(v) for v in vs] for k, vs in h.items()}
    assert shown_close(shown["train-loss"], h["train_loss"][-1]) and shown_close(shown["test-loss"], h["test_loss"][-1])
    assert abs(shown["train-acc"] - 100 * h["train_accuracy"][-1]) <= 0.05 + 1e-9
    assert abs(shown["test-acc"] - 100 * h["test_accuracy"][-1]) <= 0.05 + 1e-9


def test_a_frame_built_before_a_state_is_not_drawn(context, open_page):
    """Frame 'step 1 of the spiral' is held on the wire and delivered just after the state of a
    new data set with the same network shapes: the page must drop it (its ``handled`` is lower)."""
    held, mode = [], {"hold": None}
    routes = []

    def route(ws):
        server = ws.connect_to_server()
        routes.append(ws)

        def from_server(message):
            if isinstance(message, bytes) and mode["hold"]:
                held.append(message)
                mode["hold"] = None
                return
            ws.send(message)
            if isinstance(message, str) and json.loads(message)["type"] == "state" and held:
                ws.send(held.pop(0))  # the old frame right behind the new state
                mode["hold"] = "next"  # and the new state's own frame after a pause

        server.on_message(from_server)

    context.route_web_socket("**/ws", route)
    page = open_page()
    page.evaluate("""() => {
        window.shownSteps = [];
        new MutationObserver(() => window.shownSteps.push(document.querySelector('[data-testid=step-count]').textContent))
            .observe(document.querySelector('[data-testid=step-count]'), {childList: true, characterData: true, subtree: true});
    }""")
    mode["hold"] = "step"
    page.get_by_test_id("step").click()
    while not held:
        page.wait_for_timeout(20)
    page.get_by_test_id("dataset-moons").click()
    page.wait_for_function("() => window.deltaflow.app.config.data.name === 'moons'")
    while not held:  # the old frame went out behind the state; the state's own frame is held
        page.wait_for_timeout(20)
    page.wait_for_timeout(300)  # time to draw the old frame, were it drawn
    assert page.evaluate("() => window.shownSteps").count("1") == 0
    assert page.evaluate("() => window.deltaflow.app.dropped") == 1
    assert page.get_by_test_id("step-count").text_content() == "0"
    routes[0].send(held.pop())  # the state's own frame is drawn
    page.wait_for_function("() => window.deltaflow.app.lastId >= 3 && window.deltaflow.app.dropped === 1")
    assert page.get_by_test_id("step-count").text_content() == "0"


def test_a_preset_keeps_its_grid_and_data_of_other_dimensions_get_their_own(open_page):
    page = open_page()
    hello = page.evaluate("() => window.deltaflow.app.hello")
    uat = next(p for p in hello["presets"] if p["name"] == "uat_1d")
    page.get_by_test_id("preset-uat_1d").click()
    wait_config(page, uat["config"])
    assert state(page)["grid"] == uat["grid"] <= hello["limits"]["max_grid"]
    page.get_by_test_id("dataset-spiral").click()
    page.wait_for_function("() => window.deltaflow.app.state.data.name === 'spiral'")
    assert state(page)["grid"] == hello["defaults"]["grid"]
    page.get_by_test_id("dataset-sin").click()
    page.wait_for_function("() => window.deltaflow.app.state.data.name === 'sin'")
    assert state(page)["grid"] == hello["defaults"]["curve_grid"]
    assert page.get_by_test_id("error").is_hidden()


def test_csv_file_names_are_sent_as_the_server_takes_them(open_page, tmp_path):
    """The server takes ``<stem>.csv``, a stem of ≤ 64 characters of [A-Za-z0-9_. -] starting
    with a letter or digit: the page makes any file's name so instead of sending an error's cause."""
    page = open_page()
    text = "a,b,cls\n" + "".join(f"{x:.2f},{x * x:.2f},{int(x > 0)}\n" for x in np.linspace(-2, 2, 30))
    for name, sent in [("Data.CSV", "Data.csv"), ("x" * 100 + ".csv", "x" * 64 + ".csv"),
                       ("_ünï (2).csv", "n_ _2_.csv"), ("points.txt", "points.txt.csv")]:
        path = tmp_path / name
        path.write_text(text)
        page.get_by_test_id("upload-csv").set_input_files(str(path))
        page.wait_for_function("(name) => window.deltaflow.app.config.data.path === name", arg=sent)
        assert not page.get_by_test_id("error").is_visible()


def test_a_session_closed_as_idle_is_not_reopened(context, idle_server):
    """An abandoned tab must not hold a session: after the idle close the page says so and
    opens no new session."""
    url, app = idle_server
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    wait_ready(page)
    session = session_id(page)
    page.wait_for_function("() => document.querySelector('[data-testid=connection]').textContent.includes('idle')")
    page.wait_for_timeout(2500)  # a reconnect would come 1.5 s after the close
    assert page.get_by_test_id("connection").text_content() == "closed as idle — reload the page to start again"
    assert session_id(page) == session and app.state.registry.sessions == {}
    assert not errors


def test_the_noise_slider_spans_each_sets_own_limit(open_page):
    """The slider's maximum is the limit the config checks (a fraction for a 2-D set, the
    std added to y for a 1-D one), and the server takes that maximum."""
    page = open_page()
    hello = page.evaluate("() => window.deltaflow.app.hello")
    for name in ("spiral", "sin"):
        page.get_by_test_id(f"dataset-{name}").click()
        page.wait_for_function(f"() => window.deltaflow.app.state.data.name === '{name}'")
        limit = next(d for d in hello["datasets"] if d["name"] == name)["max_noise"]
        slider = page.get_by_test_id("noise")
        assert float(slider.get_attribute("max")) == limit == DATASETS[name].max_noise
        slider.fill(str(limit))
        page.wait_for_function(f"() => window.deltaflow.app.state.config.data.noise === {limit}")
        assert page.get_by_test_id("error").is_hidden()
    assert DATASETS["spiral"].max_noise != DATASETS["sin"].max_noise  # the slider changed with the set

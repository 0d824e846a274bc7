"""Reading the simulator page in the end-to-end tests: its state, and numbers as shown."""

import json
import time
import urllib.request


def wait_ready(page) -> None:
    """Until the page has the server's state and has drawn a frame."""
    page.wait_for_function("() => window.deltaflow && window.deltaflow.app.state && window.deltaflow.app.lastId > 0")


def config_of(page) -> dict:
    return page.evaluate("() => window.deltaflow.app.config")


def wait_config(page, expected: dict, timeout: float = 15.0) -> None:
    """Until the page shows the server's state for ``expected`` (a RunConfig dict; compared
    in Python, where 1.0 == 1 as JSON means it)."""
    deadline = time.monotonic() + timeout
    while config_of(page) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"the page's config is {json.dumps(config_of(page))}, expected {json.dumps(expected)}")
        page.wait_for_timeout(50)


def upload_config(page, run: dict, folder) -> None:
    """Load RunConfig dict ``run`` into the page through its config upload (a file written to
    ``folder``), until the page shows the server's state for it."""
    from deltaflow.training.config import RunConfig

    upload = folder / "run.json"
    upload.write_text(RunConfig.from_dict(run).to_json())
    page.get_by_test_id("upload-config").set_input_files(str(upload))
    wait_config(page, RunConfig.from_dict(run).model_dump(mode="json"))


def number(page, testid: str) -> float:
    """A number as the page shows it (e.g. '1.72e-13', '0.0431', '99.0%'), once it shows one
    ('–' until the first frame after a state is drawn)."""
    page.wait_for_function(
        "(id) => { const e = document.querySelector(`[data-testid='${id}']`); return e && e.textContent.trim() !== '–'; }",
        arg=testid)
    text = page.get_by_test_id(testid).text_content().strip()
    return float(text.replace("−", "-").replace("%", ""))


def edge_middle(page, source: str, target: str) -> tuple[float, float]:
    """The page point halfway along the edge drawn from neuron ``source`` to neuron ``target``
    (test ids): the edge runs from the right side of the one to the left side of the other and,
    a Bézier symmetric about its middle, passes through the midpoint of the two."""
    a, b = page.get_by_test_id(source).bounding_box(), page.get_by_test_id(target).bounding_box()
    return (a["x"] + a["width"] + b["x"]) / 2, (a["y"] + a["height"] / 2 + b["y"] + b["height"] / 2) / 2


EDGE_PIXEL = """([x, y]) => {
    const c = document.querySelector("[data-testid=edge-canvas]"), r = c.getBoundingClientRect();
    const k = c.width / r.width;
    const d = c.getContext("2d").getImageData(Math.floor((x - r.left) * k), Math.floor((y - r.top) * k), 1, 1).data;
    return [d[0], d[1], d[2], d[3]];
}"""


def edge_pixel(page, x: float, y: float) -> tuple[int, int, int, int]:
    """The RGBA of the network's edge canvas at the page point (x, y)."""
    return tuple(page.evaluate(EDGE_PIXEL, [x, y]))


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def session_engine(page, server_url, tmp_path):
    """The page's session network, downloaded as a model file, and its data set rebuilt from
    the session's config and seed: (net, dataset)."""
    from deltaflow.training.config import RunConfig
    from deltaflow.training.io import load_model

    sid = page.evaluate("() => window.deltaflow.app.hello.session")
    config = RunConfig.from_json(download(f"{server_url}api/session/{sid}/config.json").decode())
    path = tmp_path / "model.npz"
    path.write_bytes(download(f"{server_url}api/session/{sid}/model.npz"))
    return load_model(path).net, config.data.load(seed=config.seed, dtype=config.dtype)


def wait_paused(page) -> None:
    """Until the page has drawn a frame of the paused session newer than its state."""
    page.wait_for_function("""() => { const a = window.deltaflow.app, f = a.frame;
        return f && !(f.flags & a.hello.frame.flags.RUNNING) && f.handled >= a.state.handled + 1; }""")

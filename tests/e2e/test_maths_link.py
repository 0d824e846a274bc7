"""The maths linked to the picture: pick the explained example on the output plot (mouse and
keyboard), its ring, the layer lit while stepping, MathML equations, a neuron's map large in
the output view, and the output view sizing itself from its container."""

from __future__ import annotations

import json

import pytest

# the plot square is the background canvas's box; the points and the ring are on the canvas over it
PLOT = "#output-heatmap canvas.bg"


def _explain_replies(page) -> list[dict]:
    """Every `explain` message the server sends to the page, as it arrives."""
    replies: list[dict] = []

    def on_ws(ws):
        ws.on("framereceived", lambda payload: _keep(payload, replies))

    page.on("websocket", on_ws)
    return replies


def _keep(payload, replies):
    if isinstance(payload, str):
        msg = json.loads(payload)
        if msg.get("type") == "explain":
            replies.append(msg)


def _wait_reply(page, replies):
    """The first explain reply, once the page shows it."""
    page.wait_for_function("() => document.querySelector('[data-testid=maths-example]').textContent !== ''")
    page.wait_for_function("() => document.querySelector('[data-testid=maths-title]') !== null")
    assert replies, "the page shows an explanation, but no explain reply was seen"
    return replies[0]


def _show_maths(page) -> None:
    """Bring the maths panel forward where the page holds it in a tab."""
    tab = page.get_by_test_id("tab-maths")
    if tab.count():
        tab.click()


def _isolated_point(page) -> int:
    """The training point farthest from its nearest neighbour (so a click on it is unambiguous)."""
    return page.evaluate("""() => {
        const x = window.deltaflow.app.state.data.train.x;
        let best = 0, far = -1;
        for (let i = 0; i < x.length; i++) {
            let near = Infinity;
            for (let j = 0; j < x.length; j++) if (j !== i) near = Math.min(near, (x[i][0] - x[j][0]) ** 2 + (x[i][1] - x[j][1]) ** 2);
            if (near > far) (far = near), (best = i);
        }
        return best;
    }""")


def _on_screen(page, x1, x2) -> tuple[float, float]:
    """A point of the input plane in page pixels, from the plot's box and the state's extent."""
    box = page.locator(PLOT).bounding_box()
    ext = page.evaluate("() => window.deltaflow.app.state.extent")
    (a, b), (c, d) = ext["x1"], ext["x2"]
    return box["x"] + (x1 - a) / (b - a) * box["width"], box["y"] + (1 - (x2 - c) / (d - c)) * box["height"]


RING_PIXELS = """([cx, cy]) => {
    // the front canvas at distance 9 (the ring's radius) right, left, below and above: the
    // darkest pixel of the 3×3 around each place (the ring's edges are antialiased)
    const c = document.querySelector('[data-testid=output-heatmap]');
    const b = c.getBoundingClientRect(), s = c.width / b.width;
    const g = c.getContext('2d');
    return [[9, 0], [-9, 0], [0, 9], [0, -9]].map(([dx, dy]) => {
        const d = g.getImageData(Math.round((cx - b.left + dx) * s) - 1, Math.round((cy - b.top + dy) * s) - 1, 3, 3).data;
        let best = [255, 255, 255, 0];
        for (let k = 0; k < d.length; k += 4) {
            if (d[k + 3] === 255 && Math.max(d[k], d[k + 1], d[k + 2]) < Math.max(...best.slice(0, 3))) best = Array.from(d.slice(k, k + 4));
        }
        return best;
    });
}"""


def _ringed(pixels) -> bool:
    return all(p[3] == 255 and max(p[:3]) < 60 for p in pixels)


def test_pick_mode_click_on_a_training_point_explains_it_and_rings_it(open_page):
    page = open_page()
    replies = _explain_replies(page)
    page.reload()
    page.wait_for_function("() => window.deltaflow && window.deltaflow.app.state && window.deltaflow.app.lastId > 0")
    i = _isolated_point(page)
    x = page.evaluate("(i) => window.deltaflow.app.state.data.train.x[i]", i)
    cx, cy = _on_screen(page, *x)
    assert not _ringed(page.evaluate(RING_PIXELS, [cx, cy]))
    n_points = page.evaluate("() => window.deltaflow.app.state.data.train.x.length")
    page.mouse.click(cx, cy)  # not in pick mode: a click adds a point, it explains nothing
    page.wait_for_function("(n) => window.deltaflow.app.state.data.train.x.length === n + 1", arg=n_points)
    assert not replies
    page.get_by_test_id("pick-mode").click()
    assert page.get_by_test_id("pick-mode").get_attribute("aria-pressed") == "true"
    page.mouse.click(cx + 2, cy - 1)
    reply = _wait_reply(page, replies)
    assert reply["split"] == "train"
    # the click 2 px off the point picks the nearest point: this one, or the point just added on it
    assert reply["index"] in (i, n_points)
    assert reply["x_raw"] == pytest.approx(x, abs=0.05)
    assert f"#{reply['index']}" in page.get_by_test_id("maths-example").text_content()
    page.wait_for_function(f"(p) => ({RING_PIXELS})(p).every((q) => q[3] === 255 && Math.max(q[0], q[1], q[2]) < 60)", arg=[cx, cy])
    # the ring stays while it is the explained example: a frame later it is still there
    step = page.evaluate("() => window.deltaflow.app.lastId")
    page.get_by_test_id("step").click()
    page.wait_for_function("(n) => window.deltaflow.app.lastId > n", arg=step)
    assert _ringed(page.evaluate(RING_PIXELS, [cx, cy]))


def test_keyboard_only_pick_explains_the_point_nearest_the_cursor(open_page):
    page = open_page()
    replies = _explain_replies(page)
    page.reload()
    page.wait_for_function("() => window.deltaflow && window.deltaflow.app.state && window.deltaflow.app.lastId > 0")
    # outside pick mode Enter adds a point of the chosen class where the cursor is (first: the centre)
    n = page.evaluate("() => window.deltaflow.app.state.data.train.x.length")
    page.get_by_test_id("output-heatmap").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("(n) => window.deltaflow.app.state.data.train.x.length === n + 1", arg=n)
    ext = page.evaluate("() => window.deltaflow.app.state.extent")
    added = page.evaluate("() => window.deltaflow.app.state.data.train.x.at(-1)")
    assert added == pytest.approx([sum(ext["x1"]) / 2, sum(ext["x2"]) / 2], abs=1e-3)
    page.get_by_test_id("pick-mode").focus()
    page.keyboard.press("Enter")
    plot = page.get_by_test_id("output-heatmap")
    assert plot.get_attribute("tabindex") == "0" and "pick mode" in plot.get_attribute("aria-label")
    page.keyboard.press("Shift+Tab")  # the plot comes just before its pick toggle
    assert page.evaluate("() => document.activeElement.dataset.testid") == "output-heatmap"
    for key in ["ArrowRight"] * 6 + ["ArrowUp"] * 4:
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    reply = _wait_reply(page, replies)
    (a, b), (c, d) = ext["x1"], ext["x2"]
    cursor = ((a + b) / 2 + 6 * (b - a) / 40, (c + d) / 2 + 4 * (d - c) / 40)
    train = page.evaluate("() => window.deltaflow.app.state.data.train.x")
    # nearest on screen: the plot is square, so distances are in units of each axis's span
    dist = [((p[0] - cursor[0]) / (b - a)) ** 2 + ((p[1] - cursor[1]) / (d - c)) ** 2 for p in train]
    assert reply["split"] == "train" and reply["index"] == dist.index(min(dist))
    assert page.locator("[data-testid=maths-body] math").count() > 0


def test_stepping_through_the_maths_lights_each_layer(open_page):
    page = open_page()
    page.evaluate("""() => {
        const n = window.deltaflow.network, real = n.highlightLayer;
        window.litLayers = [];
        n.highlightLayer = (l) => { window.litLayers.push(l); if (real) real.call(n, l); };
    }""")
    _show_maths(page)
    page.get_by_test_id("maths-index").fill("2")
    page.get_by_test_id("explain").click()
    page.get_by_test_id("maths-title").wait_for()
    total = int(page.get_by_test_id("maths-stage").text_content().split("/")[1])
    for _ in range(total - 1):
        page.get_by_test_id("maths-next").click()
    lit = page.evaluate("() => window.litLayers")
    # input, forward 1..3, the loss at the output (3), backward 3..1, ∂L/∂x at the input
    assert lit[-total:] == [0, 1, 2, 3, 3, 3, 2, 1, 0]
    page.get_by_test_id("maths-prev").click()
    assert page.evaluate("() => window.litLayers.at(-1)") == 1


def test_equations_are_typeset_in_mathml_with_numbers_coloured_by_sign(open_page):
    page = open_page()
    _show_maths(page)
    page.get_by_test_id("explain").click()
    page.get_by_test_id("maths-title").wait_for()
    page.get_by_test_id("maths-next").click()  # forward pass, layer 1
    body = page.locator("[data-testid=maths-body]")
    assert body.locator("math msup").count() >= 5 and body.locator("math mtable").count() >= 3
    # z⁽¹⁾ is typeset: the superscript (1) sits higher than the base z
    raised = page.evaluate("""() => {
        const sup = [...document.querySelectorAll('[data-testid=maths-title] msup')].find((m) => m.firstElementChild.textContent === 'z');
        const [base, script] = sup.children;
        return script.getBoundingClientRect().bottom < base.getBoundingClientRect().bottom - 2;
    }""")
    assert raised
    assert "∈" in body.text_content() and "ℝ" in body.text_content()  # shapes as shapes: W⁽¹⁾ ∈ ℝ^{8×2}
    colours = page.evaluate("""() => [...document.querySelectorAll('[data-testid=maths-body] mtable mn')].map((n) =>
        [n.textContent, n.getAttribute('class'), getComputedStyle(n).color])""")
    assert len(colours) >= 16
    for text, cls, colour in colours:
        v = float(text.replace("−", "-"))
        assert cls == ("neg" if v < 0 else "pos" if v > 0 else "zero"), (text, cls)
        rgb = [int(c) for c in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3]]
        assert _contrast(rgb, [255, 255, 255]) >= 4.5, (text, colour)
    assert page.locator(".sign-legend .neg").count() == 1 and page.locator(".sign-legend .pos").count() == 1
    page.get_by_test_id("maths-next").click()
    page.get_by_test_id("maths-next").click()
    page.get_by_test_id("maths-next").click()  # the loss: L = −Σ_k y_k log(ŷ_k)
    assert body.locator("math msub").count() >= 1
    page.get_by_test_id("maths-next").click()  # backward, layer 3: ∂L/∂W⁽³⁾ = δ⁽³⁾ (a⁽²⁾)ᵀ
    assert body.locator("math mfrac").count() >= 1


def _contrast(a, b) -> float:
    def lum(c):
        c = [v / 255 for v in c]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted([lum(a), lum(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


SIGNS = """() => {
    // sign agreement between the plot's pixels (blue − red) and a map's values, over a grid of samples
    const bg = document.querySelector('#output-heatmap canvas.bg'), g = bg.getContext('2d');
    return (values, offset) => {
        const G = bg.width; let agree = 0, n = 0;
        for (let r = 1; r < G; r += 3) for (let c = 1; c < G; c += 3) {
            const v = values[r * G + c] - offset;
            if (Math.abs(v) < 0.15) continue;
            const p = g.getImageData(c, r, 1, 1).data;
            n += 1; agree += Math.sign(p[2] - p[0]) === Math.sign(v) ? 1 : 0;
        }
        return [agree, n];
    };
}"""


def test_hovering_a_neuron_shows_its_map_large_and_leaving_restores_the_output(open_page):
    page = open_page()
    page.evaluate(f"() => {{ window.signs = ({SIGNS})(); }}")
    page.evaluate("() => window.deltaflow.hoverNeuron(1, 2)")
    caption = page.get_by_test_id("output-caption")
    assert caption.is_visible() and caption.text_content() == "layer 1, neuron 3: a(x)"
    agree, n = page.evaluate("() => window.signs(Array.from(window.deltaflow.app.maps[0][2].values), 0)")
    assert n > 20 and agree == n
    assert "a(x)" in page.get_by_test_id("output-legend").text_content()
    # while hovered it follows training: after a step it shows the new frame's map
    step = page.evaluate("() => window.deltaflow.app.lastId")
    page.get_by_test_id("step").click()
    page.wait_for_function("(n) => window.deltaflow.app.lastId > n", arg=step)
    page.wait_for_function("() => { const [a, n] = window.signs(Array.from(window.deltaflow.app.maps[0][2].values), 0); return n > 20 && a === n; }")
    page.evaluate("() => window.deltaflow.hoverNeuron(null)")
    assert not caption.is_visible()
    assert "P(class 1)" in page.get_by_test_id("output-legend").text_content()
    # the prediction again: blue where the network says class 1 (P > 0.5), orange where class 0
    agree, n = page.evaluate("""() => {
        const o = window.deltaflow.app.maps.at(-1).at(-1);  // the output neuron's 2p − 1
        return window.signs(Array.from(o.values), 0);
    }""")
    assert n > 20 and agree >= 0.97 * n


def test_the_output_view_sizes_itself_from_its_container_with_axes_and_legend(open_page):
    page = open_page()
    before = page.locator(PLOT).bounding_box()
    page.evaluate("() => { const b = document.getElementById('output-heatmap'); b.style.width = '240px'; b.style.height = '240px'; }")
    page.wait_for_function(f"(w) => document.querySelector('{PLOT}').getBoundingClientRect().width < w - 30", arg=before["width"])
    box = page.locator("#output-heatmap").bounding_box()
    plot = page.locator(PLOT).bounding_box()
    assert plot["x"] >= box["x"] and plot["x"] + plot["width"] <= box["x"] + box["width"] + 0.5
    assert plot["y"] + plot["height"] <= box["y"] + box["height"]
    assert abs(plot["width"] - plot["height"]) < 1
    legend = page.get_by_test_id("output-legend").text_content()
    assert "P(class 1)" in legend and "class 0" in legend
    assert page.get_by_test_id("pick-mode").bounding_box()["height"] >= 24


CLASS_AGREEMENT = """async () => {
    // each sampled pixel of the plot against the class its K planes make most probable: the
    // pixel is that class's colour mixed towards a light grey, 240 + (c − 240)·m, so the
    // class whose colour fits the pixel with one mix m for all three channels is the one shown
    const { classRgb } = await import('/static/js/util.js');
    const bg = document.querySelector('#output-heatmap canvas.bg'), g = bg.getContext('2d');
    const planes = window.deltaflow.app.maps.at(-1), K = planes.length, G = bg.width;
    let agree = 0, n = 0;
    for (let i = 0; i < G * G; i += 7) {
        const p = planes.map((m) => (m.values[i] + 1) / 2);  // the output column shows 2p − 1
        const best = p.indexOf(Math.max(...p));
        const second = Math.max(...p.filter((_, k) => k !== best));
        if (p[best] - second < 0.02) continue;  // a near tie: the 8-bit maps may rank it either way
        const px = g.getImageData(i % G, Math.floor(i / G), 1, 1).data;
        const fit = (k) => { const c = classRgb(k); const m = [0, 1, 2].map((j) => (px[j] - 240) / (c[j] - 240 || 1e-9));
            return Math.max(...m) - Math.min(...m); };
        const shown = [...Array(K).keys()].reduce((a, k) => (fit(k) < fit(a) ? k : a), 0);
        n += 1; agree += shown === best ? 1 : 0;
    }
    return [agree, n];
}"""


def test_k_classes_are_painted_in_the_colour_of_the_most_probable_class(open_page):
    page = open_page()
    page.evaluate("""() => { const d = window.deltaflow, c = structuredClone(d.app.config);
        c.data.name = 'spiral3'; c.loss = null; d.send({type: 'config', config: c, grid: d.app.grid}); }""")
    page.wait_for_function("() => window.deltaflow.app.config.data.name === 'spiral3' && window.deltaflow.app.maps?.at(-1)?.length === 3")
    step = page.evaluate("() => window.deltaflow.app.lastId")
    page.get_by_test_id("step").click()
    page.wait_for_function("(n) => window.deltaflow.app.lastId > n", arg=step)
    agree, n = page.evaluate(CLASS_AGREEMENT)
    assert n > 20 and agree >= 0.95 * n, (agree, n)
    legend = page.get_by_test_id("output-legend").text_content()
    assert all(f"class {k}" in legend for k in range(3))


@pytest.mark.parametrize("dataset", ["plane", "sin", "spiral3"])
def test_every_stage_is_typeset_for_each_loss(open_page, dataset):
    """Mean squared error (plane, sin x) and K-class cross-entropy: every stage's equations
    parse into MathML, and every quantity shows its numbers (uncaught page errors fail)."""
    page = open_page()
    page.evaluate("""(name) => { const d = window.deltaflow, c = structuredClone(d.app.config);
        c.data.name = name; c.loss = null; Object.assign(c.data, {noise: null, n_samples: null, features: null});
        d.send({type: 'config', config: c, grid: name === 'sin' ? d.app.hello.defaults.curve_grid : d.app.grid}); }""", dataset)
    page.wait_for_function("(name) => window.deltaflow.app.config.data.name === name", arg=dataset)
    _show_maths(page)
    page.get_by_test_id("explain").click()
    page.get_by_test_id("maths-title").wait_for()
    total = int(page.get_by_test_id("maths-stage").text_content().split("/")[1])
    for k in range(total):
        title = page.locator("[data-testid=maths-title] math")
        assert title.count() == 1 and title.locator("mi").count() >= 1, k
        quantities = page.get_by_test_id("maths-quantity")
        assert quantities.count() >= 1
        for q in range(quantities.count()):
            assert quantities.nth(q).locator("mn").count() >= 1, (k, q)
        if k < total - 1:
            page.get_by_test_id("maths-next").click()


def test_the_plot_keeps_its_place_when_the_legend_or_caption_changes(open_page):
    """No layout shift: the plot square stays put from the first state through frames, a
    hovered neuron, pick mode and the K-class legend."""
    page = open_page()
    first = page.locator(PLOT).bounding_box()
    page.evaluate("() => window.deltaflow.hoverNeuron(1, 0)")
    page.get_by_test_id("pick-mode").click()
    page.evaluate("() => window.deltaflow.hoverNeuron(null)")
    page.evaluate("""() => { const d = window.deltaflow, c = structuredClone(d.app.config);
        c.data.name = 'spiral3'; c.loss = null; d.send({type: 'config', config: c, grid: d.app.grid}); }""")
    page.wait_for_function("() => window.deltaflow.app.maps?.at(-1)?.length === 3")
    page.wait_for_function("() => document.querySelector('[data-testid=output-legend]').textContent.includes('class 2')")
    assert page.locator(PLOT).bounding_box() == first

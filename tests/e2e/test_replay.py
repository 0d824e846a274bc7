"""The replay timeline end to end: train, scrub back with the keyboard and the pointer, see an
earlier step's values as the server sent them at that step, then back to live; and frame
version 2 as the page decodes it (per-unit marks, maps as views of the quantised bytes)."""

from e2e_page import wait_ready

LIVE = "() => window.deltaflow.app.live"


def step_once(page) -> dict:
    """Click Step; once the page has drawn the new step: what it shows and the frame it drew."""
    before = page.evaluate(f"() => ({LIVE})()?.step ?? 0")
    page.get_by_test_id("step").click()
    page.wait_for_function(f"(s) => ({LIVE})() && ({LIVE})().step > s && "
                           "document.querySelector('[data-testid=step-count]').textContent.trim() !== String(s)", arg=before)
    return shown(page)


def shown(page) -> dict:
    """The step counter, layer 1's ‖∂L/∂W‖ and W(1)[0, 0] of the last live frame, as shown."""
    return page.evaluate("""() => ({
        step: document.querySelector("[data-testid=step-count]").textContent.trim(),
        grad: document.querySelector("[data-testid=grad-norm-1]").textContent.trim(),
        w00: window.deltaflow.app.live.layers[0].W[0],
    })""")


def replay_shown(page, step: int) -> dict:
    """Once the page shows the replay of ``step``: its counter, ‖∂L/∂W^(1)‖ and W(1)[0, 0]."""
    page.wait_for_function("(s) => document.querySelector('[data-testid=connection]').textContent === `replay of step ${s}`",
                           arg=f"{step:,}")
    return page.evaluate("""() => ({
        step: document.querySelector("[data-testid=step-count]").textContent.trim(),
        grad: document.querySelector("[data-testid=grad-norm-1]").textContent.trim(),
        w00: window.deltaflow.last_replay.layers[0].W[0],
    })""")


def capture_replays(page) -> None:
    """Keep the last REPLAY frame the page receives, decoded a second time for the test (the
    socket's messages reach ``__replayHook``: see the init script)."""
    page.evaluate("""async () => {
        const { decodeFrame } = await import("/static/js/socket.js");
        const constants = window.deltaflow.app.hello.frame;
        window.deltaflow.last_replay = null;
        window.__replayHook = (data) => {
            if (!(data instanceof ArrayBuffer)) return;
            const f = decodeFrame(data, constants);
            if (f.flags & constants.flags.REPLAY) window.deltaflow.last_replay = f;
        };
    }""")


def open_hooked(context, server_url, errors: list):
    """The page, with every message its socket receives passed to ``__replayHook`` as well."""
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script("""(() => {
        const Native = window.WebSocket;
        window.WebSocket = class extends Native {
            constructor(...a) {
                super(...a);
                this.addEventListener("message", (e) => window.__replayHook && window.__replayHook(e.data));
            }
        };
    })()""")
    page.goto(server_url)
    wait_ready(page)
    capture_replays(page)
    return page


def test_scrubbing_back_shows_the_values_sent_at_that_step_then_back_to_live(context, server_url):
    errors = []
    page = open_hooked(context, server_url, errors)
    recorded = {}
    for _ in range(4):
        s = step_once(page)
        recorded[int(s["step"])] = s
    assert sorted(recorded) == [1, 2, 3, 4] and all(v["grad"] != "–" for v in recorded.values())
    page.get_by_test_id("play").click()
    page.wait_for_function(f"() => ({LIVE})().step >= 60")
    acked = page.evaluate("() => window.deltaflow.app.lastId")

    # keyboard: Home → the oldest recorded step, → twice: steps 1 and 2 (recorded one by one)
    slider = page.get_by_test_id("timeline-slider")
    slider.focus()
    slider.press("Home")
    replay_shown(page, 0)
    slider.press("ArrowRight")
    slider.press("ArrowRight")
    got = replay_shown(page, 2)
    assert got == {**recorded[2], "step": "2"}, (got, recorded[2])
    assert page.get_by_test_id("replay-badge").is_visible()
    assert page.get_by_test_id("timeline-label").text_content().startswith("Replay: step 2 of ")
    # training paused when the scrub began, and no replayed frame was acked
    page.wait_for_function(f"() => !(({LIVE})().flags & window.deltaflow.app.hello.frame.flags.RUNNING)")
    assert page.get_by_test_id("play").get_attribute("aria-label") == "Play"
    newest = page.evaluate(f"() => ({LIVE})().step")
    assert newest >= 60
    # the last frame id the page knows (and acks) is a live frame's: replayed ones are not counted
    assert page.evaluate("() => window.deltaflow.app.lastId") == page.evaluate(f"() => ({LIVE})().frameId") >= acked

    # the pointer: a click a third of the way along shows an earlier recorded step
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
    page.wait_for_function("() => { const f = window.deltaflow.last_replay; return f && f.step > 4; }")
    mid = page.evaluate("() => window.deltaflow.last_replay.step")
    got = replay_shown(page, mid)
    assert 4 < mid < newest and got["step"] == f"{mid:,}"

    # back to live: the newest step and its values again, no badge
    page.get_by_test_id("timeline-live").click()
    page.wait_for_function("(s) => document.querySelector('[data-testid=step-count]').textContent.trim() === s",
                           arg=f"{newest:,}")
    assert not page.get_by_test_id("replay-badge").is_visible()
    assert page.get_by_test_id("timeline-live").is_disabled()
    assert page.get_by_test_id("timeline-label").text_content() == f"Replay: live at step {newest:,}"
    live = shown(page)
    assert live["step"] == f"{newest:,}" and page.get_by_test_id("connection").text_content() == "paused"
    assert not errors, errors


def test_the_page_decodes_frame_version_2(open_page):
    """f.units: a Uint8Array per unit layer; maps: views of the frame's bytes, values on demand."""
    page = open_page()
    page.get_by_test_id("step").click()
    page.wait_for_function(f"() => ({LIVE})() && ({LIVE})().step >= 1")
    got = page.evaluate(f"""() => {{
        const f = ({LIVE})(), s = window.deltaflow.app.state;
        const m = f.maps[0];
        let worst = 0;
        const v = m.values;
        for (let i = 0; i < m.q.length; i++) worst = Math.max(worst, Math.abs(v[i] - (m.lo + m.q[i] * (m.hi - m.lo) / 255)));
        return {{
            units: f.units.map((u) => [u.constructor.name, u.length]),
            nOut: s.network.layers.map((l) => l.n_out),
            q: [m.q.constructor.name, m.q.length, m.q.buffer === f.layers[0].W.buffer],
            cached: m.values === v, worst, grid: f.grid,
        }};
    }}""")
    assert got["units"] == [["Uint8Array", n] for n in got["nOut"]]
    assert got["q"] == ["Uint8Array", got["grid"] ** 2, True]  # a view into the frame, not a copy
    assert got["cached"] and got["worst"] <= 1e-6

"""Near an alarm the simulator slows down by itself: in the exploding preset the page draws the
gradient norm growing over several frames, says why it slowed down, then pauses at the NaN."""

from __future__ import annotations

from e2e_page import wait_config

from deltaflow.web.presets import PRESETS

# each time the step counter changes: the step, the largest ‖∂L/∂W‖ shown and the banner
RECORD = """() => {
  window.__drawn = [];
  const step = document.querySelector('[data-testid=step-count]');
  new MutationObserver(() => {
    const norms = [...document.querySelectorAll('[data-testid^=grad-norm-]')].map((e) => parseFloat(e.textContent.replace('−', '-')));
    const alarm = document.querySelector('[data-testid=alarm]');
    window.__drawn.push({ step: Number(step.textContent.replace(/,/g, '')), g: Math.max(...norms),
                          kind: alarm.hidden ? '' : alarm.dataset.kind, text: alarm.hidden ? '' : alarm.textContent });
  }).observe(step, { childList: true, characterData: true, subtree: true });
}"""


def test_the_exploding_preset_draws_its_gradients_growing_slowly_before_the_nan(open_page):
    page = open_page()
    preset = next(p for p in PRESETS if p["name"] == "exploding")
    page.get_by_test_id("preset-exploding").click()
    wait_config(page, preset["config"])
    page.evaluate(RECORD)
    page.get_by_test_id("play").click()
    page.wait_for_function("() => document.querySelector('[data-testid=alarm]').dataset.kind === 'nan'", timeout=60_000)
    drawn = page.evaluate("() => window.__drawn")
    nan_step = drawn[-1]["step"]
    slowed = [d for d in drawn if d["step"] < nan_step and "Slowed down" in d["text"]]
    assert len(slowed) >= 3, drawn
    steps = [d["step"] for d in slowed]
    assert steps == list(range(steps[0], steps[0] + len(steps))) and steps[-1] == nan_step - 1
    norms = [d["g"] for d in slowed]
    assert norms == sorted(norms) and len(set(norms)) == len(norms), norms  # the bars grow frame by frame
    assert page.get_by_test_id("play").get_attribute("aria-label") == "Play"  # paused at the alarm

"""The presets tell their story: each shows what to watch (in at most two lines above the
workspace) and, played, stops at its key moment with the sentence filled from the page's numbers."""

from __future__ import annotations

import re

from e2e_page import wait_config

from deltaflow.web.presets import PRESETS

BY_NAME = {p["name"]: p for p in PRESETS}


def top_of_workspace(page) -> float:
    return page.evaluate("() => document.querySelector('main').getBoundingClientRect().top")


def wait_moment(page) -> str:
    page.wait_for_function("() => document.querySelector('[data-testid=preset-note]').dataset.moment === 'shown'",
                           timeout=60_000)
    return page.get_by_test_id("preset-moment").text_content()


def test_a_preset_shows_its_story_and_stops_at_its_moment_with_the_pages_numbers(open_page):
    page = open_page()
    preset = BY_NAME["xor_hidden"]
    before = top_of_workspace(page)
    page.get_by_test_id(f"preset-{preset['name']}").click()
    wait_config(page, preset["config"])
    note = page.get_by_test_id("preset-note")
    assert note.is_visible() and preset["story"] in page.get_by_test_id("preset-story").text_content()
    assert top_of_workspace(page) == before  # the note's two lines were there already
    page.get_by_test_id("play").click()
    said = wait_moment(page)
    step = page.get_by_test_id("step-count").text_content()
    assert step.replace(",", "") == str(preset["pause_at"])
    page.wait_for_function("() => document.querySelector('[data-testid=play]').getAttribute('aria-label') === 'Play'")
    accuracy = page.get_by_test_id("test-acc").text_content()
    assert re.fullmatch(r"\d+(\.\d)?%", accuracy)
    expected = preset["moment"].format(step=step, test_metric=accuracy)
    assert said.strip() == f"What you saw: {expected}"
    # the sentence takes the story's place; "more" brings the story back
    more = page.get_by_test_id("preset-more")
    assert page.get_by_test_id("preset-story").is_hidden() and more.get_attribute("aria-expanded") == "false"
    more.focus()
    page.keyboard.press("Enter")
    assert page.get_by_test_id("preset-story").is_visible() and more.get_attribute("aria-expanded") == "true"
    # play goes on past the moment, and the sentence stays
    page.get_by_test_id("play").click()
    page.wait_for_function(f"() => Number(document.querySelector('[data-testid=step-count]').textContent.replace(/,/g, '')) > {preset['pause_at']}")
    assert page.get_by_test_id("preset-moment").text_content() == said


def test_the_exploding_presets_moment_is_its_nan_alarm_and_names_the_banners_layer(open_page):
    page = open_page()
    preset = BY_NAME["exploding"]
    page.get_by_test_id(f"preset-{preset['name']}").click()
    wait_config(page, preset["config"])
    page.get_by_test_id("play").click()
    said = wait_moment(page)
    alarm = page.get_by_test_id("alarm")
    assert alarm.get_attribute("data-kind") == "nan"
    assert f"first in layer {alarm.get_attribute('data-layer')}:" in said
    assert said.startswith(f"What you saw: At step {page.get_by_test_id('step-count').text_content()} ")


def test_another_config_ends_the_story(open_page):
    page = open_page()
    page.get_by_test_id("preset-perceptron_xor").click()
    wait_config(page, BY_NAME["perceptron_xor"]["config"])
    assert page.get_by_test_id("preset-note").is_visible()
    page.get_by_test_id("dataset-circle").click()
    page.wait_for_function("() => window.deltaflow.app.config.data.name === 'circle'")
    page.wait_for_function("() => document.querySelector('[data-testid=preset-note]').dataset.preset === ''")
    assert "Each preset" in page.get_by_test_id("preset-story").text_content()

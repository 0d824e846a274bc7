"""Learn mode's frame: the toggle, a chapter's own link, progress kept across a reload, and a
corrupt record ignored."""

from __future__ import annotations


def test_toggle_links_and_progress_survive_a_reload(open_page, output_dir):
    page = open_page()
    assert page.get_by_test_id("learn-panel").is_hidden()
    page.get_by_test_id("learn-toggle").click()
    first = page.get_by_test_id("chapter-list").locator("a").first.get_attribute("data-testid").removeprefix("chapter-link-")
    page.get_by_test_id(f"chapter-{first}").wait_for(state="visible")  # the first chapter not done
    assert page.evaluate("location.hash") == f"#learn={first}"
    assert page.get_by_test_id("workspace").count() == 0 or page.locator(".workspace").is_hidden()
    page.get_by_test_id("chapter-link-universal").click()
    page.get_by_test_id("chapter-universal").wait_for(state="visible")
    assert page.get_by_test_id("chapter-link-universal").get_attribute("aria-current") == "page"
    page.evaluate("localStorage.setItem('deltaflow-learn', JSON.stringify({universal: {done: true, summary: {text: 'x'}, at: 1}}))")
    page.reload()
    page.get_by_test_id("chapter-universal").wait_for(state="visible")  # the link opens its chapter
    assert page.get_by_test_id("chapter-link-universal").get_attribute("data-done") == "true"
    assert page.get_by_test_id("chapter-link-vanishing").get_attribute("data-done") == "false"
    page.screenshot(path=str(output_dir / "learn-mode.png"))
    page.get_by_test_id("learn-toggle").click()
    assert page.get_by_test_id("learn-panel").is_hidden() and page.locator(".workspace").is_visible()
    page.wait_for_function("() => location.hash.startsWith('#config=')")  # the simulator's own link again


def test_a_corrupt_record_is_ignored(open_page):
    page = open_page()
    page.evaluate("localStorage.setItem('deltaflow-learn', '{not json')")
    page.goto(page.url.split("#")[0] + "#learn=batchnorm")
    page.get_by_test_id("chapter-batchnorm").wait_for(state="visible")
    assert page.get_by_test_id("chapter-link-batchnorm").get_attribute("data-done") == "false"

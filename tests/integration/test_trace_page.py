"""The local trace page, opened in headless Chromium: what a person would see."""

import contextlib
import os
import shutil
from pathlib import Path

import pytest

from llm_hyperparameters import trace, write_html
from llm_strategy import OutputParseError, llm_function

from ..helpers import scripted

pytestmark = pytest.mark.integration
playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@llm_function
def summarize(model, text: str) -> str:
    """Summarize the text in one sentence."""
    raise NotImplementedError


@llm_function
def count(model, text: str) -> int:
    """Count the words."""
    raise NotImplementedError


def recorded_trace():
    with trace("page demo") as recorded:
        summarize(scripted('{"return_value": "Bees make honey."}'), "Bees collect nectar and make honey.")
        with contextlib.suppress(OutputParseError):
            count(scripted("many", "lots", "plenty"), "a b c")
    return recorded


@pytest.fixture
def page(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("LLM_STRATEGY_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required here but not installed")
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    path = write_html(recorded_trace(), tmp_path / "trace.html")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        opened = browser.new_page(viewport={"width": 1200, "height": 900})
        requests: list[str] = []
        opened.on("request", lambda request: requests.append(request.url))
        opened.goto(path.as_uri())
        yield opened, requests, tmp_path
        browser.close()


def test_the_page_is_self_contained(page):
    opened, requests, _ = page
    assert requests == [opened.url]  # nothing but the file itself


def test_tree_summary_and_errors_are_visible(page):
    opened, _, _ = page
    assert opened.get_by_role("heading", name="Trace: page demo").is_visible()
    summary = opened.locator(".summary").inner_text()
    assert "2 calls" in summary and "4 LLM requests" in summary and "1 errors" in summary
    assert opened.get_by_text("summarize", exact=True).is_visible()
    failed = opened.locator("details.failed").first
    assert failed.is_visible()
    error = failed.locator(".error").first
    assert error.is_visible() and "OutputParseError" in error.inner_text()
    color = error.evaluate("element => getComputedStyle(element).color")
    assert color == "rgb(187, 0, 0)"  # highlighted in red


def test_llm_requests_open_to_show_messages_and_reply(page):
    opened, _, tmp_path = page
    request = opened.locator("details.span-llm").first
    assert request.get_attribute("open") is None  # collapsed at first
    assert not request.get_by_text("Bees make honey.").first.is_visible()
    request.locator("summary").first.click()
    assert request.get_by_text("Summarize the text in one sentence.").first.is_visible()  # the system message
    assert request.get_by_text('{"return_value": "Bees make honey."}').is_visible()  # the reply
    assert "tokens" in request.locator("summary").first.inner_text()
    opened.get_by_role("button", name="Collapse all").click()
    assert not opened.get_by_text("summarize", exact=True).is_visible()  # inside the collapsed root
    opened.get_by_role("button", name="Expand all").click()
    assert request.get_by_text('{"return_value": "Bees make honey."}').is_visible()
    opened.screenshot(path=str(tmp_path / "trace-page.png"), full_page=False)
    assert Path(tmp_path / "trace-page.png").stat().st_size > 10_000

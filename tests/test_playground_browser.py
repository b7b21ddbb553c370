"""The playground page in a real browser: Debian's headless Chromium driven by Playwright.

Each test starts ``fulfillmap playground`` on a copy of the order mapping and its test file,
and keeps a screenshot of the state it checks (the folder is printed, under pytest's
temporary directory). Without Chromium or Playwright the tests skip, saying why; under
CI=true that is a failure (.ci/run installs Chromium).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parent.parent
ORDER = "order-to-fulfillment-order"
BIN = Path(sys.executable).parent
TIMEOUT_MS = 30_000  # generous: CI machines are shared


def _missing() -> str:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (make install)"
    return ""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("playground-screenshots")
    print(f"playground screenshots: {folder}")
    return folder


class Playground:
    """A running ``fulfillmap playground`` and a page on it, at 1280x800."""

    def __init__(self, browser: Any, folder: Path, screenshots: Path) -> None:
        self.folder, self.screenshots = folder, screenshots
        self.mapping = folder / f"{ORDER}.yaml"
        self.mapping.write_text((REPO / "mappings" / f"{ORDER}.yaml").read_text())
        tests = (REPO / "mappings" / f"{ORDER}.fmtest.yaml").read_text()
        self.test_file = folder / f"{ORDER}.fmtest.yaml"
        self.test_file.write_text(tests.replace(f"mapping: {ORDER}\n", f"mapping: {ORDER}.yaml\n"))
        command = [str(BIN / "fulfillmap"), "playground", str(self.mapping), "--no-browser"]
        # the time limit is tested in test_playground.py; here a busy CI machine must not hit it
        self.process = subprocess.Popen(
            [*command, "--port", "0", "--timeout", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", first)
        assert match, first + self.process.stderr.read() if self.process.stderr else first
        self.url = match.group(0)
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(self.url)
        self.wait_output('"upstreamId": "278815640336"')

    def close(self) -> None:
        self.page.close()
        self.process.terminate()
        self.process.wait(timeout=30)

    def panel(self, name: str) -> Any:
        return self.page.get_by_test_id(name)

    def wait_output(self, text: str) -> None:
        self.page.wait_for_function(
            "text => document.querySelector('[data-testid=output]').textContent.includes(text)",
            arg=text,
            timeout=TIMEOUT_MS,
        )

    def replace(self, editor: str, old: str, new: str) -> None:
        """Select ``old`` in an editor and type ``new`` over it, as a person would."""
        self.page.evaluate(
            """([editor, old]) => {
                const view = CM.EditorView.findFromDOM(
                    document.querySelector(`[data-testid=${editor}] .cm-editor`));
                const from = view.state.doc.toString().indexOf(old);
                if (from < 0) throw new Error(`${old} is not in the ${editor}`);
                view.focus();
                view.dispatch({selection: {anchor: from, head: from + old.length}});
            }""",
            [editor, old],
        )
        if new:
            self.page.keyboard.type(new)
        else:
            self.page.keyboard.press("Delete")

    def cursor_line(self) -> int:
        return int(
            self.page.evaluate(
                """() => {
                const view = CM.EditorView.findFromDOM(
                    document.querySelector('[data-testid=mapping] .cm-editor'));
                return view.state.doc.lineAt(view.state.selection.main.head).number;
            }"""
            )
        )

    def shot(self, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path))
        assert not self.errors, self.errors
        return path


@pytest.fixture
def playground(browser: Any, tmp_path: Path, screenshots: Path) -> Iterator[Playground]:
    opened = Playground(browser, tmp_path, screenshots)
    yield opened
    opened.close()


def line_of(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


def test_the_page_shows_the_mapping_and_its_output_for_the_example_input(
    playground: Playground,
) -> None:
    output = json.loads(playground.panel("output").text_content())
    assert output["currency"] == "USD"
    assert output["shippingChoice"]["id"] == "SG"
    assert "name: order-to-fulfillment-order" in playground.panel("mapping").text_content()
    assert '"278815640336"' in playground.panel("input").text_content()
    assert '"shippingQuote"' in playground.panel("context").text_content()
    assert "No problems" in playground.panel("problems").text_content()
    assert playground.panel("trace").locator("tbody tr").count() > 20
    assert playground.page.locator(".cm-lineNumbers").first.is_visible()
    playground.shot("1-loaded")


def test_editing_the_mapping_changes_the_output(playground: Playground) -> None:
    playground.replace("mapping", "upper(currency)", "lower(currency)")
    # production's answer: the target schema wants upper-case ISO codes
    playground.wait_output('currency: "usd" is not a valid currency')
    row = playground.panel("trace").locator("tbody tr[data-target=currency]")
    assert row.locator("td").nth(2).text_content() == '"usd"'
    assert row.locator("td").nth(3).text_content() == "lower(currency)"
    assert "Save mapping •" in playground.page.locator("#save-mapping").text_content()
    playground.shot("2-lower-currency")


def test_a_typo_in_a_key_shows_the_problem_at_its_line(playground: Playground) -> None:
    line = line_of(playground.mapping, "  currency:")
    playground.replace("mapping", "  currency:", "  curency:")
    problem = playground.panel("problems").locator("li", has_text="curency").first
    problem.wait_for(timeout=TIMEOUT_MS)
    assert problem.locator(".where").text_content() == f"{line}:3"
    playground.wait_output("the mapping is invalid")
    playground.replace("mapping", "name: order", "name: order")  # the cursor elsewhere
    problem.click()
    assert playground.cursor_line() == line
    playground.shot("3-typo-in-a-key")


def test_a_required_value_removed_from_the_input_shows_the_error(playground: Playground) -> None:
    playground.replace("input", '"currency": "USD",', "")
    playground.wait_output("field 'currency': required value is absent")
    assert "error" in (playground.panel("output").get_attribute("class") or "")
    failed = playground.panel("trace").locator("tr.failed")
    assert failed.first.locator("td").nth(1).text_content() == "currency"
    playground.shot("4-required-value-missing")


def test_clicking_a_trace_row_highlights_its_mapping_line(playground: Playground) -> None:
    line = line_of(playground.mapping, "  name:")
    row = playground.panel("trace").locator("tbody tr[data-target=name]")
    assert "fallback" not in (row.text_content() or "")
    row.click()
    highlighted = playground.panel("mapping").locator(".cm-line.cm-fm-highlight")
    assert highlighted.text_content() == "  name:"
    assert playground.cursor_line() == line
    playground.shot("5-trace-row-selected")


def test_a_fallback_that_fired_is_named_in_the_trace(playground: Playground) -> None:
    playground.replace("input", '"name": "Jane Doe",\n    "phone"', '"phone"')
    row = playground.panel("trace").locator("tbody tr[data-target=name]")
    row.filter(has_text="fallback 2 of 2").wait_for(timeout=TIMEOUT_MS)
    assert "shipTo.name is missing" in (row.text_content() or "")


def test_save_as_test_case_writes_a_case_fulfillmap_test_passes(playground: Playground) -> None:
    playground.replace("input", '"currency": "USD"', '"currency": "eur"')
    playground.wait_output('"currency": "EUR"')
    assert playground.page.locator("#case-name").input_value() == "playground-1"
    playground.page.locator("#save-case").click()
    playground.page.locator("#status", has_text="appended").wait_for(timeout=TIMEOUT_MS)
    playground.shot("6-saved-as-test-case")
    saved = playground.test_file.read_text()
    assert "  - name: playground-1\n" in saved
    tested = subprocess.run(
        [str(BIN / "fulfillmap"), "test", "-v", str(playground.test_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "case 'playground-1' passed" in tested.stdout
    assert playground.page.locator("#case-name").input_value() == "playground-2"


def test_save_mapping_writes_the_file(playground: Playground) -> None:
    playground.replace("mapping", "upper(currency)", "lower(currency)")
    playground.wait_output("is not a valid currency")
    playground.page.locator("#save-mapping").click()
    playground.page.locator("#status", has_text="saved").wait_for(timeout=TIMEOUT_MS)
    assert "from: lower(currency)" in playground.mapping.read_text()
    assert playground.page.locator("#save-mapping").text_content() == "Save mapping"
    playground.replace("mapping", "lower(currency)", "upper(currency)")
    assert playground.page.locator("#save-mapping").text_content() == "Save mapping •"
    playground.page.keyboard.press("Control+s")  # in the mapping editor
    playground.page.locator("#save-mapping", has_text="•").wait_for(state="detached")
    assert "from: upper(currency)" in playground.mapping.read_text()


def test_the_page_says_when_the_server_is_gone(playground: Playground) -> None:
    playground.process.terminate()
    playground.process.wait(timeout=30)
    playground.page.locator("#gone").wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "server is gone" in (playground.page.locator("#gone").text_content() or "")
    playground.shot("7-server-gone")


def test_the_newest_edit_wins(playground: Playground) -> None:
    typed = "en_US"
    for letter in "abcdefgh":  # edits faster and slower than the debounce
        playground.replace("input", typed, typed + letter)
        typed += letter
        playground.page.wait_for_timeout(60 if letter < "e" else 260)
    playground.wait_output('"locale": "en_USabcdefgh"')
    playground.page.wait_for_timeout(1000)  # no older answer arrives after it
    assert '"locale": "en_USabcdefgh"' in playground.panel("output").text_content()


def test_a_too_large_input_is_a_clear_error_and_the_page_recovers(playground: Playground) -> None:
    original = playground.page.evaluate(
        """() => {
            const view = CM.EditorView.findFromDOM(
                document.querySelector('[data-testid=input] .cm-editor'));
            const text = view.state.doc.toString();
            const items = Array.from({length: 40000}, (_, n) => ({id: String(n), quantity: 1}));
            const huge = JSON.stringify({id: "1", items}, null, 1);  // 2.5 MB, many lines
            view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: huge}});
            return text;
        }"""
    )
    playground.wait_output("too large to send")
    assert "Not checked" in playground.panel("problems").text_content()
    playground.shot("8-too-large")
    playground.page.evaluate(
        """text => {
            const view = CM.EditorView.findFromDOM(
                document.querySelector('[data-testid=input] .cm-editor'));
            view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}});
        }""",
        original,
    )
    playground.wait_output('"upstreamId": "278815640336"')

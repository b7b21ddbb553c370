"""docs/testing.md stays true: its walk-through is replayed step by step, its example test file
runs, and the failure it shows is the failure pytest prints."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "testing.md"
DOC_ROOT = "/home/you/fulfillmap"  #: the clone's folder, as the doc shows it

_STEP = re.compile(r"<!-- walkthrough: (\w+)(?: (\S+))? -->\n```\w*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Step:
    action: str  #: ``edit``, ``file`` or ``run``
    target: str  #: the file edited or written
    text: str


def steps() -> list[Step]:
    return [
        Step(m.group(1), m.group(2) or "", m.group(3))
        for m in _STEP.finditer(DOC.read_text(encoding="utf-8"))
    ]


def first_yaml_block(section: str) -> str:
    text = DOC.read_text(encoding="utf-8").split(f"## {section}\n", 1)[1]
    return text.split("```yaml\n", 1)[1].split("```", 1)[0]


@pytest.fixture
def clone(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A folder with what the walk-through uses from a clone: the mapping and the examples.

    pytest writes its summary lines in full on CI (``CI`` or ``BUILD_NUMBER`` set) and cut to
    the terminal width elsewhere; the doc shows a terminal, so the runs here do not see CI.
    """
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    (pytester.path / "mappings").mkdir()
    shutil.copy(REPO / "mappings" / "order-to-fulfillment-order.yaml", pytester.path / "mappings")
    shutil.copytree(REPO / "examples", pytester.path / "examples")
    (pytester.path / "my-mappings").mkdir()
    shutil.copy(
        pytester.path / "mappings" / "order-to-fulfillment-order.yaml",
        pytester.path / "my-mappings" / "order-to-warehouse.yaml",
    )
    return pytester


def apply_edit(path: Path, diff: str) -> None:
    """Apply a doc's ``diff`` block: its context and ``-`` lines become its context and ``+``."""
    lines = diff.splitlines()
    old = "".join(line[1:] + "\n" for line in lines if line[:1] in (" ", "-"))
    new = "".join(line[1:] + "\n" for line in lines if line[:1] in (" ", "+"))
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the doc's edit does not apply to {path.name}:\n{old}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def expected_lines(block: str, root: Path) -> Iterator[str]:
    """The doc's output lines as fnmatch patterns ('...' lines skipped, banners loosened)."""
    for line in block.splitlines()[1:]:
        if line in ("", "..."):
            continue
        escaped = re.sub(r"([\[\]?*])", r"[\1]", line.replace(DOC_ROOT, str(root)))
        escaped = re.sub(r"^[=_]+ | [=_]+$", "*", escaped)
        yield escaped if re.search(r"\d+ (passed|failed)$", line) is None else f"*{escaped}*"


def run_fulfillmap(folder: Path, args: list[str]) -> list[str]:
    """The installed console script, run in ``folder``: its output and error lines."""
    script = Path(sys.executable).parent / "fulfillmap"
    done = subprocess.run(
        [str(script), *args], cwd=folder, capture_output=True, text=True, check=False
    )
    return (done.stdout + done.stderr).splitlines()


def replay(clone: pytest.Pytester, until_runs: int | None = None) -> int:
    """Replay the walk-through; return how many runs were checked."""
    runs = 0
    for step in steps():
        if step.action == "edit":
            apply_edit(clone.path / step.target, step.text)
        elif step.action == "file":
            (clone.path / step.target).write_text(step.text, encoding="utf-8")
        else:
            assert step.action == "run", step
            command = step.text.splitlines()[0]
            if command.startswith("$ .venv/bin/fulfillmap "):
                lines = run_fulfillmap(clone.path, command.split()[2:])
            else:
                assert command == "$ .venv/bin/pytest my-mappings"
                lines = clone.runpytest("my-mappings").outlines
            patterns = list(expected_lines(step.text, clone.path))
            missing = [p for p in patterns if not any(fnmatchcase(line, p) for line in lines)]
            assert not missing, "\n".join(["not in pytest's output:", *missing, "", *lines])
            runs += 1
            if runs == until_runs:
                break
    return runs


def test_the_walk_through_passes_then_fails_as_the_doc_shows(clone: pytest.Pytester) -> None:
    actions = ["edit", "edit", "file", "run", "edit", "run", "run"]
    assert [step.action for step in steps()] == actions
    assert replay(clone) == 3


def test_the_walk_through_failure_is_real(clone: pytest.Pytester) -> None:
    replay(clone)
    result = clone.runpytest("my-mappings")
    result.assert_outcomes(failed=1)
    assert "absent: customer_id is missing" in result.stdout.str()


def test_the_format_example_runs(clone: pytest.Pytester) -> None:
    replay(clone, until_runs=1)
    example = first_yaml_block("Writing test cases")
    (clone.path / "my-mappings" / "example.fmtest.yaml").write_text(example, encoding="utf-8")
    result = clone.runpytest("my-mappings", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*example.fmtest.yaml::no-currency PASSED*"])


def test_the_patterns_are_strict_enough_to_fail() -> None:
    patterns = list(expected_lines("$ cmd\n  [x] a*b?\n==== 1 passed ====\n", Path("/r")))
    assert patterns == ["  [[]x[]] a[*]b[?]", "*1 passed*"]
    assert not fnmatchcase("  [x] aXb?", patterns[0])

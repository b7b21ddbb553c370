"""`fulfillmap test`: runs mapping test files, reports failures and coverage, exits non-zero."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from fulfillmap.cli import main

WIDGET = Path(__file__).parent / "data" / "widget"

PASSING = """
  - name: full
    input: {id: "1", shipTo: {name: A}, note: n, importerOfRecordTax: true,
            items: [{sku: a, quantity: 1}, {sku: b, quantity: 0}]}
    expect:
      contains: {id: "1", name: A}
"""
FAILING = """
  - name: wrong-kind
    input: {id: "2"}
    expect:
      contains: {kind: gadget}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(WIDGET, tmp_path, dirs_exist_ok=True)
    return tmp_path


def write(folder: Path, cases: str, name: str = "widget.fmtest.yaml") -> Path:
    path = folder / name
    path.write_text("mapping: widget.yaml\ncases:" + textwrap.dedent(cases), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["test", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_shipped_cases_pass_and_cover_every_branch(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "--coverage", "--fail-under", "100")
    assert code == 0, out
    assert err.endswith(" passed, 0 failed\n")
    assert [line for line in out.splitlines() if "never" in line] == []


def test_a_passing_folder(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(folder, PASSING)
    code, out, err = run(capsys, str(folder), "-v")
    assert code == 0
    assert out.splitlines()[0] == f"{folder / 'widget.fmtest.yaml'}:3:3: case 'full' passed"
    assert out.splitlines()[1].startswith("coverage: ")
    assert err == "1 passed, 0 failed\n"


def test_a_failure_is_reported_and_exits_1(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(folder, PASSING + FAILING)
    code, out, err = run(capsys, str(path))
    assert code == 1
    assert out.splitlines()[:4] == [
        f"{path}:9:3: case 'wrong-kind' (mapping 'widget') failed",
        "  the output differs from the expected subset in 1 place:",
        '    kind: expected "gadget", got "widget"',
        f"        field kind ({folder / 'widget.yaml'}:24:3): a constant",
    ]
    assert err == "1 passed, 1 failed\n"


def test_coverage_lists_what_no_case_exercised(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(folder, PASSING)
    code, out, _ = run(capsys, str(folder), "--coverage")
    assert code == 0
    assert f"    {folder / 'widget.yaml'}:12:5: rule 'has-id': never failed" in out.splitlines()
    code, out, _ = run(capsys, str(folder))
    assert "never failed" not in out


def test_fail_under_fails_the_run_and_lists_the_gaps(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(folder, PASSING)
    code, out, err = run(capsys, str(folder), "--fail-under", "100")
    assert code == 1
    assert "rule 'has-id': never failed" in out
    assert err.splitlines()[-1].startswith("fulfillmap: error: coverage ")
    assert err.splitlines()[-1].endswith("% is below --fail-under 100%")
    assert run(capsys, str(folder), "--fail-under", "10")[0] == 0


@pytest.mark.parametrize("value", ["101", "-1", "most"])
def test_fail_under_takes_a_percentage(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["test", "--fail-under", value])
    assert exited.value.code == 2
    assert "expected a percentage from 0 to 100" in capsys.readouterr().err


def test_a_broken_test_file_is_reported_and_the_others_still_run(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(folder, PASSING)
    broken = folder / "broken.fmtest.yaml"
    broken.write_text(
        "mapping: widget.yaml\ncases:\n  - name: x\n    expect: {}\n", encoding="utf-8"
    )
    code, out, err = run(capsys, str(folder))
    assert code == 1
    assert f"{broken}:4:13: give exactly one of output, outputFile, contains or error" in out
    assert f"{broken}:3:5: missing key: give the input inline (input) or as inputFile" in out
    assert err == "1 passed, 0 failed, 1 file(s) with errors\n"


def test_an_invalid_mapping_is_reported_once(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "widget.yaml").write_text("name: widget\nfields: {a: b}\n", encoding="utf-8")
    path = write(folder, PASSING + FAILING)
    code, out, err = run(capsys, str(path))
    assert code == 1
    assert out.splitlines()[0] == f"{path}:1:10: mapping {folder / 'widget.yaml'} is invalid:"
    assert out.count("missing key: source") == 1
    assert err == "0 passed, 0 failed, 1 file(s) with errors\n"


def test_a_missing_path_is_one_error_with_nothing_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, str(tmp_path / "nope"))
    assert (code, out) == (1, "")
    assert err == f"fulfillmap: error: {tmp_path / 'nope'} does not exist\n"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"id": "1", "note": 1.6050000000000000001}', None),
        ('{"id": "1", "id": "2"}', 'duplicate key "id"'),
        ('{"id": "\\ud800"}', "lone surrogate"),
        ('{"id": "1", "note": NaN}', "NaN"),
    ],
)
def test_input_files_are_read_as_map_reads_them(
    folder: Path, capsys: pytest.CaptureFixture[str], text: str, said: str | None
) -> None:
    """A case's input file is read as ``map`` and ``handle`` read input: a fraction keeps its
    digits (a test expecting the float's 1.605 fails), and what they refuse is a problem."""
    (folder / "in.json").write_text(text, encoding="utf-8")
    write(
        folder,
        "\n  - name: c\n    inputFile: in.json\n    expect:\n      contains: {note: 1.605}\n",
    )
    code, out, err = run(capsys, str(folder / "widget.fmtest.yaml"))
    assert code == 1
    if said is None:
        assert "note" in out + err
    else:
        assert said in out + err


def test_an_expected_output_that_is_not_an_object_is_a_problem_of_the_file(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mapping's output is an object: ``contains: 5`` could never pass, and is said so
    where it is written, before anything runs."""
    path = write(folder, "\n  - name: c\n    input: {id: '1'}\n    expect: {contains: 5}\n")
    code, out, _ = run(capsys, str(path))
    assert code == 1
    assert f"{path}:5:22: expected an object, not 5 (at cases[0].expect.contains)" in out

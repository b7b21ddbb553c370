"""The pytest plugin collects *.fmtest.yaml files as tests (run in a fresh pytest with pytester)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

WIDGET = Path(__file__).parent / "data" / "widget"

CASES = """\
mapping: widget.yaml
cases:
  - name: full
    input: {id: "1", shipTo: {name: A}, items: [{sku: a, quantity: 1}]}
    expect:
      contains: {id: "1", name: A}

  - name: wrong-kind
    input: {id: "2"}
    expect:
      contains: {kind: gadget}
"""


def write(project: pytest.Pytester, name: str, text: str) -> Path:
    path = project.path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(WIDGET, pytester.path, dirs_exist_ok=True)
    return pytester


def test_cases_are_items_and_failures_show_the_difference(project: pytest.Pytester) -> None:
    write(project, "widget.fmtest.yaml", CASES)
    result = project.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "widget.fmtest.yaml::full PASSED*",
            "widget.fmtest.yaml::wrong-kind FAILED*",
            "*_ mapping test wrong-kind _*",
            "the output differs from the expected subset in 1 place:",
            '  kind: expected "gadget", got "widget"',
            f"      field kind ({project.path / 'widget.yaml'}:24:3): a constant",
            f"{project.path / 'widget.fmtest.yaml'}:8:5: case 'wrong-kind' (mapping 'widget')",
            "FAILED widget.fmtest.yaml::wrong-kind - the output differs from the expected*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_items_point_at_their_case(project: pytest.Pytester) -> None:
    path = write(project, "widget.fmtest.yaml", CASES)
    items = project.inline_genitems(path)[0]
    assert [item.name for item in items] == ["full", "wrong-kind"]
    assert [item.location for item in items] == [
        ("widget.fmtest.yaml", 2, "mapping test full"),
        ("widget.fmtest.yaml", 7, "mapping test wrong-kind"),
    ]


def test_other_yaml_files_are_not_collected(project: pytest.Pytester) -> None:
    write(project, "settings.yaml", "mapping: widget.yaml\ncases: []\n")
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_broken_file_is_a_collection_error_with_its_lines(project: pytest.Pytester) -> None:
    write(project, "broken.fmtest.yaml", "mapping: widget.yaml\ncases:\n  - nme: x\n")
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting broken.fmtest.yaml*",
            "invalid mapping test file:",
            f"{project.path / 'broken.fmtest.yaml'}:3:5: unknown key 'nme' (did you mean 'name'?)*",
            f"{project.path / 'broken.fmtest.yaml'}:3:5: missing key: name (at cases[0])",
            f"{project.path / 'broken.fmtest.yaml'}:3:5: missing key: expect (at cases[0])",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_an_invalid_mapping_fails_each_case_with_its_problems(project: pytest.Pytester) -> None:
    (project.path / "widget.yaml").write_text("name: widget\nfields: {a: b}\n", encoding="utf-8")
    write(project, "widget.fmtest.yaml", CASES)
    result = project.runpytest()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            f"{project.path / 'widget.fmtest.yaml'}:1:10: mapping {project.path / 'widget.yaml'} is invalid:",
            f"{project.path / 'widget.yaml'}:1:1: missing key: source",
        ]
    )


def test_a_missing_mapping_fails_with_the_case_location(project: pytest.Pytester) -> None:
    write(project, "x.fmtest.yaml", CASES.replace("widget.yaml", "no-such-mapping"))
    result = project.runpytest()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [f"{project.path / 'x.fmtest.yaml'}:3:5: no mapping named 'no-such-mapping'*"]
    )


def test_coverage_is_summed_up_and_listed_on_request(project: pytest.Pytester) -> None:
    write(project, "widget.fmtest.yaml", CASES)
    result = project.runpytest()
    result.stdout.fnmatch_lines(["*fulfillmap coverage*", "coverage: * of 19 branches (*%)"])
    assert "never failed" not in result.stdout.str()
    result = project.runpytest("--fulfillmap-coverage")
    result.stdout.fnmatch_lines(
        [
            "  widget (*widget.yaml): * of 19 (*%)",
            f"    {project.path / 'widget.yaml'}:12:5: rule 'has-id': never failed",
        ]
    )


def test_python_tests_and_mapping_tests_run_together(project: pytest.Pytester) -> None:
    write(project, "widget.fmtest.yaml", CASES.split("\n\n")[0] + "\n")
    project.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = project.runpytest()
    result.assert_outcomes(passed=2)

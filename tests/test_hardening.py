"""Every failure is a FulfillmapError, every resource is bounded: the reproducers of issue 9's
"Tracebacks, hangs and silent acceptance", each as a test."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fulfillmap.errors import SpecError
from fulfillmap.language._limits import Limits, limits, set_limits
from fulfillmap.language._loader import parse_yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FULFILLMAP = Path(sys.executable).parent / "fulfillmap"


def run(*args: str, stdin: str = "", **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FULFILLMAP), *args], input=stdin, capture_output=True, text=True, timeout=30, **options
    )


@pytest.fixture
def small_limits() -> Iterator[Limits]:
    previous = set_limits(
        Limits(max_input_bytes=1000, max_file_bytes=1000, max_expression_length=200)
    )
    yield limits()
    set_limits(previous)


# -- strict YAML (item 4) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object/apply:os.system [id]\n", "!!python/object/apply:os.system"),
        ("a: !!python/name:os.system x\n", "!!python/name:os.system"),
        ("a: !!set {x: null}\n", "!!set"),
        ("a: !!omap [x: 1]\n", "!!omap"),
        ("a:\n  b: !foo {x: 1}\n", "!foo"),
        ("a: !bar [1]\n", "!bar"),
    ],
)
def test_an_unknown_or_python_tag_anywhere_is_an_error_at_its_position(text: str, tag: str) -> None:
    document = parse_yaml(text, "m.yaml")
    assert [problem.message.split(" is not")[0] for problem in document.problems] == [
        f"the YAML tag {tag}"
    ]
    problem = document.problems[0]
    line = text[: text.index("!")].count("\n")
    column = text.index("!") - (text.rfind("\n", 0, text.index("!")) + 1)
    assert (problem.line, problem.column) == (line + 1, column + 1)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("017", 17),  # YAML 1.1: 15 (octal)
        ("10:30", "10:30"),  # YAML 1.1: 630 (sexagesimal)
        ("1_0", "1_0"),  # YAML 1.1: 10
        ("0o17", 15),
        ("0x1F", 31),
        ("-5", -5),
        ("1e3", 1000.0),
        ("1.50", 1.5),
        ("yes", "yes"),
        ("true", True),
    ],
)
def test_yaml_numbers_follow_the_yaml_1_2_core_schema(text: str, value: Any) -> None:
    document = parse_yaml(f"a: {text}\n", "m.yaml")
    assert document.data == {"a": value}
    assert type(document.data["a"]) is type(value)
    assert not document.problems


@pytest.mark.parametrize("text", [".nan", ".inf", "-.Inf"])
def test_yaml_nan_and_infinity_are_not_json_values(text: str) -> None:
    (problem,) = parse_yaml(f"a: {text}\n", "m.yaml").problems
    assert problem.message == f"'{text}' is not a JSON value; quote it to make it text"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: " + "9" * 5000, "an integer of more than 100 digits"),  # was ValueError (4,300)
        ("a: !!int '1_0'", "'1_0' is not a YAML 1.2 integer"),
        ("a: " + "[" * 999 + "]" * 999, "lists and objects nest more than 64 deep"),
        ("a: " + "{b: " * 600 + "1" + "}" * 600, "lists and objects nest more than 64 deep"),
        ("".join("  " * i + "k:\n" for i in range(500)), "lists and objects nest more than 64"),
    ],
)
def test_hostile_yaml_is_a_spec_error_not_a_traceback(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        parse_yaml(text, "m.yaml")
    assert caught.value.problems[0].file == "m.yaml"


def test_a_deep_mapping_file_fails_validate_with_file_line_col(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nfields:\n  a: " + "[" * 800 + "]" * 800 + "\n")
    done = run("validate", str(path))
    assert done.returncode == 1
    assert f"{path}:3:" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr

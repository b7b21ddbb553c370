"""The command line's options: anywhere among a command's arguments, --version, and a
did-you-mean for a mistyped mapping name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fulfillmap.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EVENT = str(EXAMPLES / "cancelled-event.json")


@pytest.mark.parametrize(
    "argv",
    [
        ["map", "cancelled-event-to-fulfillment", "--compact", EVENT],
        ["map", "--compact", "cancelled-event-to-fulfillment", EVENT],
        ["map", "cancelled-event-to-fulfillment", EVENT, "--compact"],
    ],
)
def test_options_anywhere(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out)["orderId"] == "278815640336"


def test_options_anywhere_in_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "mappings/routes.yaml", "--strict", "--format", "json"]) == 0
    assert main(["trace", "cancelled-event-to-fulfillment", "--format", "json", EVENT]) == 0
    assert main(["explain", "cancelled-event-to-fulfillment", "--format", "json"]) == 0
    capsys.readouterr()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"fulfillmap {version('fulfillmap')}\n"


def test_a_mistyped_mapping_name_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", "canceled-event-to-fulfillment", EVENT]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        "fulfillmap: error: no mapping named 'canceled-event-to-fulfillment' "
        "(did you mean 'cancelled-event-to-fulfillment'?): the shipped mappings are "
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["handle", "--context", "-"],
        ["handle", "-", "--context", "-"],
        ["map", "cancelled-event-to-fulfillment", "--context", "-"],
        ["trace", "cancelled-event-to-fulfillment", "-", "--context", "-"],
    ],
)
def test_standard_input_as_input_and_context_is_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Standard input is read once: the event would be taken for the context, and nothing
    mapped (exit 0, silently) or the context refused with a misleading message."""
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    assert "standard input is read once: give the input or --context as a file" in (
        capsys.readouterr().err
    )


def test_a_context_of_null_and_a_file_given_as_the_mapping_folder_are_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "null.json").write_text("null")
    assert main(["handle", EVENT, "--context", str(tmp_path / "null.json")]) == 1
    assert f"the context ({tmp_path / 'null.json'}) must be a JSON object, not null" in (
        capsys.readouterr().err
    )
    assert main(["handle", EVENT, "--mappings", EVENT]) == 1
    assert f"the mapping directory {EVENT} is not a directory" in capsys.readouterr().err

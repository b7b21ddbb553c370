"""Static checks against a mapping's schemas, and ``fulfillmap validate``'s output formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fulfillmap.cli import main
from fulfillmap.errors import Problem
from fulfillmap.evaluate._mapping import load
from fulfillmap.tooling._lint import lint
from fulfillmap.tooling._reports import github_report, json_report, text_report

CANCEL_ITEMS = """\
  items:
    each: data.object.items
    required: true
    fields:
      itemId: {from: upstreamId, required: true}
      cancelQuantity: {from: cancelled, required: true}
"""
GOOD_ORDER_ID = "fields:\n  orderId: {from: data.object.upstreamId, required: true}\n"


def problems(path: Path) -> list[tuple[int, str, str]]:
    return [(p.line, p.severity, p.message) for p in lint(load(path))]


@pytest.mark.parametrize(
    "name",
    [
        "order-to-fulfillment-order",
        "shipped-event-to-fulfillment",
        "cancelled-event-to-fulfillment",
    ],
)
def test_shipped_mappings_have_no_static_problems(name: str) -> None:
    assert lint(load(name)) == []


def test_a_required_target_field_that_no_field_produces(write_mapping: Any) -> None:
    path = write_mapping(GOOD_ORDER_ID)
    assert problems(path) == [
        (1, "error", "the target schema requires 'items', but no field produces it")
    ]


def test_a_required_target_field_that_may_be_left_out(write_mapping: Any) -> None:
    path = write_mapping("fields:\n  orderId: data.object.upstreamId\n" + CANCEL_ITEMS)
    assert problems(path) == [
        (
            5,
            "error",
            "the target schema requires 'orderId', but the mapping may leave it out: "
            "mark it 'required: true' or give it a 'default'",
        )
    ]
    [problem] = lint(load(path))
    assert problem.spec_path == "fields.orderId"
    assert str(problem).startswith(f"{path}:5:3: the target schema requires 'orderId'")


def test_required_fields_inside_array_elements(write_mapping: Any) -> None:
    body = GOOD_ORDER_ID + (
        "  items:\n"
        "    each: data.object.items\n"
        "    required: true\n"
        "    fields:\n"
        "      itemId: {from: upstreamId, default: x}\n"
    )
    assert problems(write_mapping(body)) == [
        (
            6,
            "error",
            "the target schema requires 'items[].cancelQuantity', but no field produces it",
        )
    ]


def test_constants_and_defaults_must_fit_the_target_schema(write_mapping: Any) -> None:
    body = (
        "fields:\n"
        "  orderId: {value: 42}\n"
        "  items:\n"
        "    each: data.object.items\n"
        "    required: true\n"
        "    fields:\n"
        "      itemId: {from: upstreamId, default: ''}\n"
        "      cancelQuantity: {value: two}\n"
        "  metadata:\n"
        "    fields:\n"
        "      note: {value: {nested: true}}\n"
        "      flag: {value: true}\n"
    )
    assert problems(write_mapping(body)) == [
        (
            5,
            "error",
            "the constant 42 does not fit the target schema at 'orderId': expected text, not 42",
        ),
        (
            10,
            "error",
            "the default \"\" does not fit the target schema at 'items[].itemId': "
            '"" is too short: at least 1 character(s)',
        ),
        (
            11,
            "error",
            "the constant \"two\" does not fit the target schema at 'items[].cancelQuantity': "
            'expected an integer, not "two"',
        ),
    ]


def test_enum_of_the_target_schema(write_mapping: Any) -> None:
    body = (
        "fields:\n"
        "  currency: {value: USD}\n"
        "  upstreamOrderTime: {from: createdTime, required: true}\n"
        "  shipTo: {from: shipTo, required: true}\n"
        "  items: {from: items, required: true}\n"
        "  shippingChoice:\n"
        "    required: true\n"
        "    fields:\n"
        "      id: {value: SG}\n"
        "      signatureRequiredType: {plugin: signature-required-type, default: gold}\n"
    )
    path = write_mapping(body, "order", "fulfillment-order-request")
    [(line, severity, message)] = problems(path)
    assert (line, severity) == (13, "error")
    assert message.startswith(
        'the default "gold" does not fit the target schema at '
        '\'shippingChoice.signatureRequiredType\': expected one of "standard", "adult", '
        'not "gold"'
    )


def test_paths_the_source_schema_does_not_define_are_warnings(write_mapping: Any) -> None:
    body = (
        "fields:\n"
        "  orderId: {from: [data.object.upstreamID, to_id(data.objet.id)], required: true}\n"
        "  items:\n"
        "    each: data.object.items\n"
        "    where: canceled > `0`\n"
        "    required: true\n"
        "    fields:\n"
        "      itemId: {from: upstreamId, required: true}\n"
        "      cancelQuantity: {from: cancelled, required: true}\n"
        "  metadata:\n"
        "    fields:\n"
        "      note: {from: whatever.you.like, scope: context}\n"
        "      event: {from: data.previousAttributes.anything}\n"
    )
    assert problems(write_mapping(body)) == [
        (
            5,
            "warning",
            "`data.object.upstreamID` reads data.object.upstreamID, which the source schema "
            "does not define (did you mean 'upstreamId'?)",
        ),
        (
            5,
            "warning",
            "`to_id(data.objet.id)` reads data.objet, which the source schema does not define "
            "(did you mean 'object'?)",
        ),
        (
            6,
            "warning",
            "`canceled > `0`` reads canceled, which the source schema does not define "
            "(did you mean 'cancelled'?)",
        ),
    ]


def test_root_scope_inside_an_array_reads_from_the_root(write_mapping: Any) -> None:
    body = GOOD_ORDER_ID + CANCEL_ITEMS.replace(
        "{from: upstreamId, required: true}",
        "{from: data.object.upstreamId, scope: root, required: true}",
    )
    assert problems(write_mapping(body)) == []
    wrong = GOOD_ORDER_ID + CANCEL_ITEMS.replace(
        "{from: upstreamId, required: true}", "{from: upstreamId, scope: root, required: true}"
    )
    [(_, severity, message)] = problems(write_mapping(wrong))
    assert severity == "warning"
    assert message.startswith("`upstreamId` reads upstreamId, which the source schema")


# -- the validate command ------------------------------------------------------------------

WARNING_BODY = "fields:\n  orderId: {from: data.object.upstreamID, required: true}\n" + CANCEL_ITEMS


def test_validate_text_reports_warnings_without_failing(
    write_mapping: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_mapping(WARNING_BODY)
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == (
        f"{path}:5:3: warning: `data.object.upstreamID` reads data.object.upstreamID, which the "
        "source schema does not define (did you mean 'upstreamId'?) (at fields.orderId)\n"
        f"{path}: ok (1 warning(s))\n"
    )
    assert captured.err == "1 file(s) checked, 0 invalid (0 error(s), 1 warning(s))\n"


def test_validate_strict_fails_on_warnings(
    write_mapping: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_mapping(WARNING_BODY)
    assert main(["validate", "--strict", str(path)]) == 1
    assert "1 invalid" in capsys.readouterr().err


def test_validate_fails_on_static_errors(
    write_mapping: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_mapping(GOOD_ORDER_ID)
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == (
        f"{path}:1:1: the target schema requires 'items', but no field produces it\n"
    )
    assert "1 invalid (1 error(s), 0 warning(s))" in captured.err


def test_validate_json(write_mapping: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_mapping(WARNING_BODY)
    assert main(["validate", "--format", "json", str(path), "cancelled-event-to-fulfillment"]) == 0
    data = json.loads(capsys.readouterr().out)
    first, second = data["mappings"]
    assert first == {
        "mapping": str(path),
        "file": str(path),
        "valid": True,
        "errors": 0,
        "warnings": 1,
        "problems": [
            {
                "file": str(path),
                "line": 5,
                "column": 3,
                "message": first["problems"][0]["message"],
                "spec_path": "fields.orderId",
                "severity": "warning",
            }
        ],
    }
    assert second["mapping"] == "cancelled-event-to-fulfillment"
    assert second["problems"] == []


def test_validate_github_annotations(
    write_mapping: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    warned = write_mapping(WARNING_BODY)
    broken = write_mapping("fields:\n  orderId: {from: 'a[', required: true}\n", name="bad.yaml")
    assert main(["validate", "--format", "github", str(warned), str(broken)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"::warning file={warned},line=5,col=3,title=fulfillmap%3A fields.orderId::"
        "`data.object.upstreamID` reads data.object.upstreamID, which the source schema does "
        "not define (did you mean 'upstreamId'?)"
    )
    assert all(line.startswith(f"::error file={broken},") for line in lines[1:])
    assert any("invalid JMESPath expression `a[`" in line for line in lines[1:])
    # the static checks run beside the structural ones: the other problem shows in one run
    assert any("the target schema requires 'items'" in line for line in lines[1:])
    assert len(lines) == 3


def test_validate_github_reports_unreadable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.yaml"
    assert main(["validate", "--format", "github", str(missing)]) == 1
    out = capsys.readouterr().out
    assert out == (
        f"::error file={missing},line=1,col=1,title=fulfillmap%3A {missing}::"
        f"mapping file {missing} does not exist\n"
    )


def test_annotations_escape_newlines_percent_colons_and_commas() -> None:
    from fulfillmap.tooling._reports import MappingReport

    problem = Problem("a,b:c.yaml", 3, 4, "50% wrong\nsecond line", "fields.x", "error")
    report = MappingReport("t", "a,b:c.yaml", (problem,))
    assert github_report([report]) == (
        "::error file=a%2Cb%3Ac.yaml,line=3,col=4,title=fulfillmap%3A fields.x::"
        "50%25 wrong%0Asecond line\n"
    )
    assert text_report([report]) == "a,b:c.yaml:3:4: 50% wrong\nsecond line (at fields.x)\n"
    assert json.loads(json_report([report]))["mappings"][0]["valid"] is False


def test_problem_keeps_its_old_form_for_errors() -> None:
    assert str(Problem("f.yaml", 1, 2, "bad")) == "f.yaml:1:2: bad"
    assert str(Problem("f.yaml", 1, 2, "odd", severity="warning")) == "f.yaml:1:2: warning: odd"


def test_schema_command_prints_the_language_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    shipped = Path(__file__).resolve().parent.parent / "schemas" / "mapping.schema.json"
    assert json.loads(capsys.readouterr().out) == json.loads(shipped.read_text(encoding="utf-8"))

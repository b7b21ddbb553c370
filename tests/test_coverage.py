"""Mapping coverage: the branches of a mapping, and which ones traced runs exercised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap.tooling._coverage import (
    Coverage,
    MappingCoverage,
    format_coverage,
    percent,
    total_percent,
)

WIDGET = Path(__file__).parent / "data" / "widget" / "widget.yaml"

FULL = {"id": "1", "shipTo": {"name": "A"}, "note": "n", "importerOfRecordTax": True}
LINES = [{"sku": "a", "quantity": 1}, {"sku": "b", "quantity": 0}]


@pytest.fixture(scope="module")
def widget() -> fulfillmap.CompiledMapping:
    return fulfillmap.load(WIDGET)


def coverage_of(mapping: fulfillmap.CompiledMapping, *sources: Any) -> MappingCoverage:
    coverage = Coverage()
    for source in sources:
        coverage.add(mapping, mapping.trace(source))
    (report,) = coverage.report()
    return report


def uncovered(report: MappingCoverage) -> list[tuple[str, str]]:
    return [(branch.subject, branch.name) for branch in report.uncovered]


def test_every_branch_of_the_mapping_is_listed_in_file_order(
    widget: fulfillmap.CompiledMapping,
) -> None:
    report = coverage_of(widget, ["not an object"])
    assert (report.mapping, report.file, report.covered) == ("widget", str(WIDGET), 0)
    assert [(b.subject, b.name) for b in report.branches] == [
        ("id", "value"),
        ("kind", "value"),
        ("name", "from[0]"),
        ("name", "from[1]"),
        ("name", "omitted"),
        ("note", "value"),
        ("note", "default"),
        ("paid", "value"),
        ("paid", "omitted"),
        ("lines", "kept"),
        ("lines", "skipped"),
        ("lines", "omitted"),
        ("lines[].sku", "value"),
        ("lines[].qty", "value"),
        ("lines[].qty", "omitted"),
        ("rule 'has-id'", "passed"),
        ("rule 'has-id'", "failed"),
        ("rule 'few-lines'", "passed"),
        ("rule 'few-lines'", "failed"),
    ]


def test_a_full_run_covers_values_and_what_it_filtered(widget: fulfillmap.CompiledMapping) -> None:
    report = coverage_of(widget, {**FULL, "items": LINES})
    assert uncovered(report) == [
        ("name", "from[1]"),
        ("name", "omitted"),
        ("note", "default"),
        ("paid", "omitted"),
        ("lines", "omitted"),
        ("lines[].qty", "omitted"),
        ("rule 'has-id'", "failed"),
        ("rule 'few-lines'", "failed"),
    ]


def test_absences_fallbacks_defaults_and_failed_rules_complete_it(
    widget: fulfillmap.CompiledMapping,
) -> None:
    many = [{"sku": "c"}] * 3
    report = coverage_of(
        widget,
        {**FULL, "items": LINES},
        {"id": "2", "billTo": {"name": "B"}, "items": many},  # fallback, default, warn fails
        {"id": "3"},  # every optional field absent
        {},  # the error rule fails
    )
    assert uncovered(report) == []
    assert (report.covered, report.percent) == (len(report.branches), 100.0)


def test_a_field_that_failed_is_not_covered(widget: fulfillmap.CompiledMapping) -> None:
    report = coverage_of(widget, {"id": "1", "items": [{"quantity": 1}]})
    assert ("lines[].sku", "value") in uncovered(report)
    assert ("rule 'has-id'", "passed") not in uncovered(report)


def test_an_error_rule_is_recorded_before_it_stops_the_run(
    widget: fulfillmap.CompiledMapping,
) -> None:
    trace = widget.trace({"items": []})
    assert trace.error is not None
    assert trace.error.rule == "has-id"
    (check,) = trace.rules
    assert (check.rule.name, check.passed, check.violations[0].message) == (
        "has-id",
        False,
        "the order has no id",
    )
    passed = widget.trace({"id": "1"})
    assert [(c.rule.name, c.passed) for c in passed.rules] == [
        ("has-id", True),
        ("few-lines", True),
    ]


def test_the_uncovered_branches_read_as_a_list(widget: fulfillmap.CompiledMapping) -> None:
    report = coverage_of(widget, {"id": "1", "items": LINES})
    lines = format_coverage([report], details=True)
    assert lines[0] == f"coverage: 11 of 19 branches ({percent(11, 19):g}%)"
    assert lines[1] == f"  widget ({WIDGET}): 11 of 19 (57.8%)"
    assert lines[2:5] == [
        f"    {WIDGET}:26:3: name: `shipTo.name` (expression 1 of 2) never gave the value",
        f"    {WIDGET}:26:3: name: `billTo.name` (expression 2 of 2) never gave the value",
        f"    {WIDGET}:28:3: note: never produced a value",
    ]
    assert f"    {WIDGET}:33:3: lines: never seen absent (no case leaves it out)" in lines
    assert f"    {WIDGET}:12:5: rule 'has-id': never failed" in lines
    assert format_coverage([report], details=False) == lines[:1]
    assert format_coverage([], details=True) == []


def test_where_filters_need_a_kept_and_a_skipped_element(
    widget: fulfillmap.CompiledMapping,
) -> None:
    only_kept = coverage_of(widget, {"id": "1", "items": [{"sku": "a", "quantity": 1}]})
    only_skipped = coverage_of(widget, {"id": "1", "items": [{"sku": "a", "quantity": 0}]})
    assert ("lines", "skipped") in uncovered(only_kept)
    assert ("lines", "kept") not in uncovered(only_kept)
    assert ("lines", "kept") in uncovered(only_skipped)
    assert ("lines", "skipped") not in uncovered(only_skipped)


def test_percentages_round_down_so_that_only_full_coverage_is_100() -> None:
    assert percent(999, 1000) == 99.9
    assert percent(1999, 2000) == 99.9
    assert percent(2, 3) == 66.6
    assert percent(0, 0) == 100.0
    assert total_percent([]) == 100.0


def test_coverage_is_kept_per_mapping_file(widget: fulfillmap.CompiledMapping) -> None:
    coverage = Coverage()
    shipped = fulfillmap.load("cancelled-event-to-fulfillment")
    coverage.add(widget, widget.trace({"id": "1"}))
    coverage.add(shipped, shipped.trace({"data": {"object": {"upstreamId": "1", "items": []}}}))
    names = [report.mapping for report in coverage.report()]
    assert sorted(names) == ["cancelled-event-to-fulfillment", "widget"]

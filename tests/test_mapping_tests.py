"""Mapping test files (*.fmtest.yaml): reading them, running cases, and the failure reports."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from fulfillmap import FulfillmapError, SpecError
from fulfillmap.language._resources import shipped_mapping_names, shipped_test_files
from fulfillmap.tooling._testing import (
    CaseResult,
    ExpectedError,
    Session,
    find_case_files,
    load_cases,
    parse_cases,
)

WIDGET = Path(__file__).parent / "data" / "widget"

ORDER = """
    id: "7"
    shipTo: {name: Ada}
    note: fragile
    importerOfRecordTax: true
    items:
      - {sku: a, quantity: 2}
      - {sku: b, quantity: 0}
"""
OUTPUT = """
    id: "7"
    kind: widget
    name: Ada
    note: fragile
    paid: true
    lines:
      - {sku: a, qty: 2}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding the widget mapping (widget.yaml) and its schema."""
    shutil.copytree(WIDGET, tmp_path, dirs_exist_ok=True)
    return tmp_path


def write(folder: Path, text: str, name: str = "widget.fmtest.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def case_yaml(name: str, expect: str, source: str = ORDER, extra: str = "") -> str:
    """One case of a test file, indented to sit under ``cases:``."""
    body = f"- name: {name}\n{extra}  input:\n{_indent(source, 4)}  expect:\n{_indent(expect, 4)}"
    return _indent(body, 2)


def _indent(text: str, width: int) -> str:
    return textwrap.indent(textwrap.dedent(text).strip() + "\n", " " * width)


def run_one(folder: Path, case: str) -> CaseResult:
    path = write(folder, "mapping: widget.yaml\ncases:\n" + case)
    (only,) = load_cases(path).cases
    return Session().run(only)


def problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_cases(path)
    return [str(problem) for problem in caught.value.problems]


# -- reading ------------------------------------------------------------------------------


def test_a_file_is_read_with_locations_and_paths_relative_to_it(folder: Path) -> None:
    (folder / "payloads").mkdir()
    (folder / "payloads" / "order.json").write_text('{"id": "9"}', encoding="utf-8")
    (folder / "payloads" / "context.json").write_text('{"shippingQuote": null}', encoding="utf-8")
    (folder / "payloads" / "out.json").write_text('{"id": "9"}', encoding="utf-8")
    path = write(
        folder,
        """
        mapping: widget.yaml
        description: widget cases
        cases:
          - name: from-files
            inputFile: payloads/order.json
            contextFile: payloads/context.json
            expect:
              outputFile: payloads/out.json
              warnings: []
          - name: inline
            description: inline input
            input: {id: "1"}
            expect:
              contains: {id: "1"}
          - name: fails
            input: {}
            expect:
              error: {rule: has-id, message: no id}
        """,
    )
    cases = load_cases(path)
    assert cases.mapping == str(folder / "widget.yaml")
    assert cases.description == "widget cases"
    files, inline, fails = cases.cases
    assert (files.input, files.context, files.check, files.expected) == (
        {"id": "9"},
        {"shippingQuote": None},
        "output",
        {"id": "9"},
    )
    assert files.warnings == ()
    assert (inline.check, inline.context, inline.warnings, inline.description) == (
        "contains",
        None,
        None,
        "inline input",
    )
    assert fails.expected == ExpectedError(message="no id", rule="has-id")
    assert [(c.location.line, c.location.column) for c in cases.cases] == [(4, 5), (10, 5), (15, 5)]
    assert str(files.location) == f"{path}:4:5"


def test_a_shipped_mapping_is_named_not_resolved(folder: Path) -> None:
    path = write(
        folder, "mapping: shipped-event-to-fulfillment\ncases:\n" + case_yaml("x", "contains: {}")
    )
    assert load_cases(path).mapping == "shipped-event-to-fulfillment"


def test_broken_yaml_is_reported_at_its_line(folder: Path) -> None:
    path = write(folder, "mapping: widget.yaml\ncases:\n  - name: [unclosed\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:4:1: invalid YAML")


def test_schema_problems_name_the_line_and_suggest(folder: Path) -> None:
    path = write(
        folder,
        """
        mapping: widget.yaml
        cases:
          - name: one
            input: {}
            expct: {output: {}}
          - name: two
            input: {}
            expect:
              error: {}
        """,
    )
    assert problems(path) == [
        f"{path}:3:5: missing key: expect (at cases[0])",
        f"{path}:5:5: unknown key 'expct' (did you mean 'expect'?); allowed: "
        "context, contextFile, description, expect, input, inputFile, name (at cases[0].expct)",
        f"{path}:9:14: give at least one of dataPath, field, message, rule "
        "(at cases[1].expect.error)",
    ]


def test_what_the_schema_cannot_see_is_reported_all_at_once(folder: Path) -> None:
    (folder / "bad.json").write_text("{'single': 'quotes'}", encoding="utf-8")
    (folder / "nan.json").write_text("[NaN]", encoding="utf-8")
    path = write(
        folder,
        """
        mapping: widget.yaml
        cases:
          - name: both
            input: {}
            inputFile: order.json
            expect: {output: {}}
          - name: none
            expect: {output: {}, contains: {}}
          - name: both
            inputFile: bad.json
            contextFile: nan.json
            expect:
              error: {field: id}
              warnings: [few-lines]
        """,
    )
    found = problems(path)
    assert found == [
        f"{path}:5:5: give input or inputFile, not both (at cases[0].inputFile)",
        f"{path}:7:5: missing key: give the input inline (input) or as inputFile (at cases[1])",
        f"{path}:8:13: give exactly one of output, outputFile, contains or error "
        "(found output, contains) (at cases[1].expect)",
        f"{path}:9:11: another case is already named 'both' (on line 3) (at cases[2].name)",
        f"{path}:10:16: the input file {folder / 'bad.json'} is not valid JSON: Expecting "
        "property name enclosed in double quotes at line 1 column 2 (at cases[2].inputFile)",
        f"{path}:11:18: the context file {folder / 'nan.json'} is not valid JSON: NaN is not a "
        "JSON number (at cases[2].contextFile)",
        f"{path}:14:17: a case that expects an error has no warnings (at cases[2].expect.warnings)",
    ]


def test_a_test_file_reads_only_files_in_its_folder_or_the_current_one(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test file is data from whoever wrote it: its inputs, outputs and mapping are read
    from its own folder or the current directory (the project's), nowhere else."""
    secret = tmp_path_factory.mktemp("elsewhere") / "secret.json"
    secret.write_text('{"client_secret": "x"}', encoding="utf-8")
    (folder / "link.json").symlink_to(secret)
    inside = folder / "sub" / "cases"
    inside.mkdir(parents=True)
    (folder / "sub" / "order.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(folder)
    path = write(
        folder,
        f"""
        mapping: {secret.parent / "m.yaml"}
        cases:
          - {{name: absolute, inputFile: {secret}, expect: {{output: {{}}}}}}
          - {{name: up, inputFile: ../{secret.parent.name}/secret.json, expect: {{output: {{}}}}}}
          - {{name: link, inputFile: link.json, expect: {{outputFile: link.json}}}}
        """,
    )
    found = problems(path)
    assert len(found) == 5, found
    assert f"the mapping file {secret.parent / 'm.yaml'} is an absolute path" in found[0]
    assert f"the input file {secret} is an absolute path" in found[1]
    for problem in found[2:]:
        assert "is outside the folders a test file may read" in problem
    # a file in a folder above the test file's, inside the current directory, is read
    text = (
        "mapping: widget\ncases:\n  - {name: x, inputFile: ../order.json, expect: {output: {}}}\n"
    )
    (inside / "ok.fmtest.yaml").write_text(text, encoding="utf-8")
    assert load_cases(inside / "ok.fmtest.yaml").cases[0].input == {}
    monkeypatch.chdir(inside)  # and no longer from a current directory below it
    with pytest.raises(SpecError, match="outside the folders a test file may read"):
        load_cases(inside / "ok.fmtest.yaml")


def test_an_unreadable_or_missing_file_is_an_error(folder: Path) -> None:
    with pytest.raises(FulfillmapError, match="does not exist"):
        load_cases(folder / "nope.fmtest.yaml")
    (folder / "latin1.fmtest.yaml").write_bytes(b"mapping: caf\xe9")
    with pytest.raises(FulfillmapError, match="cannot read test file"):
        load_cases(folder / "latin1.fmtest.yaml")


def test_a_file_inside_a_package_needs_inline_payloads() -> None:
    from fulfillmap.language._resources import MappingSource

    text = "mapping: widget\ncases:\n  - {name: x, inputFile: a.json, expect: {output: {}}}\n"
    with pytest.raises(SpecError, match=r"the input file a\.json cannot be found: give it inline"):
        parse_cases(MappingSource(text, "zip.fmtest.yaml", None))


def test_case_files_are_found_in_folders_but_not_hidden_or_build_ones(folder: Path) -> None:
    for name in ("a/one.fmtest.yaml", "a/b/two.fmtest.yaml", ".venv/x.fmtest.yaml"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("", encoding="utf-8")
    (folder / "build" / "lib").mkdir(parents=True)
    (folder / "build" / "lib" / "y.fmtest.yaml").write_text("", encoding="utf-8")
    (folder / "a" / "notes.yaml").write_text("", encoding="utf-8")
    explicit = folder / "a" / "notes.yaml"
    found = find_case_files([folder, explicit, folder / "a" / "one.fmtest.yaml"])
    assert found == [folder / "a/b/two.fmtest.yaml", folder / "a/one.fmtest.yaml", explicit]


def test_a_folder_without_case_files_or_a_missing_path_is_an_error(folder: Path) -> None:
    with pytest.raises(FulfillmapError, match=r"no test files \(\*\.fmtest\.yaml\) in"):
        find_case_files([folder])
    with pytest.raises(FulfillmapError, match=r"nothing\.yaml does not exist"):
        find_case_files([folder / "nothing.yaml"])


def test_the_shipped_test_files_are_not_mappings() -> None:
    names = shipped_mapping_names()
    assert names
    assert not any(name.endswith((".fmtest", "routes")) for name in names)
    tested = {
        Path(source.file).name.removesuffix(".fmtest.yaml") for source in shipped_test_files()
    }
    assert tested == set(names)


def test_routes_and_test_files_are_skipped_among_shipped_mappings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.yaml", "a.fmtest.yaml", "routes.yaml", "README.md"):
        (tmp_path / name).write_text("mapping: a\n", encoding="utf-8")
    monkeypatch.setattr("fulfillmap.language._resources.files", lambda package: tmp_path)
    assert shipped_mapping_names() == ["a"]
    (source,) = shipped_test_files()
    assert (source.text, source.directory) == ("mapping: a\n", tmp_path)


# -- running ------------------------------------------------------------------------------


def test_an_exact_output_passes(folder: Path) -> None:
    result = run_one(folder, case_yaml("ok", f"output:\n{_indent(OUTPUT, 2)}warnings: []"))
    assert result.passed
    assert (result.report(), result.details()) == ("", "")


def test_a_different_output_names_each_place_and_the_field_that_wrote_it(folder: Path) -> None:
    expected = """
        output:
          id: "7"
          kind: gadget
          name: Ada
          note: fragile
          lines:
            - {sku: a, qty: 2.0}
            - {sku: b, qty: 0}
          extra: {deep: true}
    """
    result = run_one(folder, case_yaml("wrong", expected))
    mapping = folder / "widget.yaml"
    case = folder / "widget.fmtest.yaml"
    assert result.report() == "\n".join(
        [
            f"{case}:3:5: case 'wrong' (mapping 'widget') failed",
            "  the output differs from the expected output in 5 places:",
            '    kind: expected "gadget", got "widget"',
            f"        field kind ({mapping}:24:3): a constant",
            "    lines[0].qty: expected 2.0 (decimal), got 2 (integer)",
            f"        field lines[].qty ({mapping}:40:7): from `quantity`, "
            "read at input items[0].quantity",
            '    lines[1]: expected {"sku": "b", "qty": 0}, got nothing (absent)',
            f"        field lines ({mapping}:33:3): one element per element of `items` where "
            "`quantity != `0`` is true; items[1] left out: `quantity != `0`` is not true",
            '    extra: expected {"deep": true}, got nothing (absent)',
            "        no field of the mapping writes extra",
            "    paid: not expected, got true",
            f"        field paid ({mapping}:31:3): computed by plugin 'duties-paid'",
        ]
    )


def test_a_missing_value_says_why_it_is_absent(folder: Path) -> None:
    source = "{id: '1', billTo: {}}"
    result = run_one(folder, case_yaml("absent", "contains: {name: Ada, note: fragile}", source))
    mapping = folder / "widget.yaml"
    assert result.details().splitlines()[1:] == [
        '  name: expected "Ada", got nothing (absent)',
        f"      field name ({mapping}:26:3): "
        "absent: shipTo.name is missing, billTo.name is missing",
        '  note: expected "fragile", got "none"',
        f"      field note ({mapping}:28:3): the source value is absent; the default was used",
    ]


def test_a_fallback_is_named_with_its_position(folder: Path) -> None:
    source = "{id: '1', shipTo: {name: null}, billTo: {name: Bo}}"
    result = run_one(folder, case_yaml("fallback", "contains: {name: Ada}", source))
    assert (
        result.details()
        .splitlines()[2]
        .endswith("from `billTo.name` (expression 2 of 2), read at input billTo.name")
    )


def test_a_value_inside_a_copied_object_is_traced_to_the_object(folder: Path) -> None:
    source = "{id: '1', items: [{sku: {code: a}, quantity: 1}]}"
    result = run_one(folder, case_yaml("deep", "contains: {lines: [{sku: {code: b}}]}", source))
    assert result.details().splitlines()[1:] == [
        '  lines[0].sku.code: expected "b", got "a"',
        f"      field lines[].sku ({folder / 'widget.yaml'}:37:7): from `sku`, "
        "read at input items[0].sku",
    ]


def test_contains_ignores_other_keys_but_not_array_lengths(folder: Path) -> None:
    assert run_one(folder, case_yaml("subset", "contains: {lines: [{sku: a}]}")).passed
    result = run_one(folder, case_yaml("subset", "contains: {lines: []}"))
    assert result.details().splitlines()[:2] == [
        "the output differs from the expected subset in 1 place:",
        '  lines[0]: not expected, got {"sku": "a", "qty": 2}',
    ]


def test_an_unexpected_failure_shows_the_error(folder: Path) -> None:
    result = run_one(folder, case_yaml("boom", "contains: {}", "{items: []}"))
    assert result.details() == (
        "the mapping failed: mapping 'widget', rule 'has-id': the order has no id "
        f"(expression `id`; defined at {folder / 'widget.yaml'}:12:5)"
    )


def test_an_expected_error_that_does_not_happen(folder: Path) -> None:
    result = run_one(folder, case_yaml("no-error", "error: {field: id}", "{id: '1'}"))
    assert result.details() == "\n".join(
        [
            "expected the mapping to fail (field 'id'), but it succeeded",
            '  output: {"id": "1", "kind": "widget", "note": "none"}',
        ]
    )


def test_an_expected_error_must_fit_every_key_given(folder: Path) -> None:
    assert run_one(folder, case_yaml("ok", "error: {rule: has-id, message: no id}", "{}")).passed
    expect = "error: {rule: other, field: id, dataPath: x, message: nope}"
    result = run_one(folder, case_yaml("mismatch", expect, "{}"))
    assert result.details().splitlines() == [
        "the mapping failed, but not as expected:",
        '  rule: expected "other", got "has-id"',
        '  field: expected "id", got null',
        '  input path: expected "x", got null',
        '  message: expected it to contain "nope"',  # values as JSON, never Python reprs
        "  the error: mapping 'widget', rule 'has-id': the order has no id (expression `id`; "
        f"defined at {folder / 'widget.yaml'}:12:5)",
    ]


def test_a_failing_field_is_matched_by_field_and_input_path(folder: Path) -> None:
    source = "{id: '1', items: [{quantity: 1}, {quantity: 3}]}"
    expect = "error: {field: 'lines[0].sku', dataPath: 'items[0].sku', message: required}"
    assert run_one(folder, case_yaml("sku", expect, source)).passed


def test_non_object_inputs_and_contexts_are_errors_a_case_can_expect(folder: Path) -> None:
    expect = "error: {message: the input must be a JSON object}"
    assert run_one(folder, case_yaml("list", expect, "[1, 2]")).passed
    case = case_yaml("ctx", "error: {message: the context must be a JSON object}", "{id: '1'}")
    assert run_one(folder, case.replace("  input:", "  context: [1]\n    input:", 1)).passed


def test_warnings_are_checked_when_listed(folder: Path) -> None:
    source = (
        "{id: '1', items: [{sku: a, quantity: 1}, {sku: b, quantity: 1}, {sku: c, quantity: 1}]}"
    )
    assert run_one(folder, case_yaml("w", "contains: {}\nwarnings: [few-lines]", source)).passed
    assert run_one(folder, case_yaml("w", "contains: {}", source)).passed
    result = run_one(folder, case_yaml("w", "contains: {}\nwarnings: []", source))
    assert result.details().splitlines() == [
        "warnings: expected none, got 'few-lines'",
        f"  rule 'few-lines' (warn): more than two lines ({folder / 'widget.yaml'}:15:5)",
    ]


def test_a_session_loads_each_mapping_once_and_reports_invalid_ones(folder: Path) -> None:
    session = Session()
    assert session.mapping(str(folder / "widget.yaml")) is session.mapping(
        str(folder / "widget.yaml")
    )
    (folder / "broken.yaml").write_text("name: broken\n", encoding="utf-8")
    path = write(folder, "mapping: broken.yaml\ncases:\n" + case_yaml("x", "contains: {}"))
    (case,) = load_cases(path).cases
    with pytest.raises(SpecError, match="missing key: source"):
        session.run(case)

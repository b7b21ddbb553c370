"""Mapping files are data: nothing in them becomes Python source, and their schemas are read only
from where the mapping says (the mapping's folder, or fulfillmap's own), never from the network or
an arbitrary file."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap.errors import SpecError
from fulfillmap.evaluate._codegen import generate
from fulfillmap.evaluate._mapping import load
from fulfillmap.evaluate._trace import Recorder
from fulfillmap.language._loader import parse_yaml
from fulfillmap.language._spec import build_spec
from fulfillmap.plugins._registry import default_registry

#: a name that, pasted into generated source after a ``#``, would run code on the next line
HOSTILE = "a\n    __import__('pathlib').Path('PWNED').write_text('x')\n    #"
HOSTILE_NAMES = [
    HOSTILE,
    "x'] = 1\n__import__('os')\n#",
    '"""',
    "\\",
    "\r\n import os",
    "\u2028__import__('os')",
]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fulfillmap", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_a_hostile_field_name_is_refused_by_validate_and_map(
    write_mapping: Callable[..., Path], tmp_path: Path
) -> None:
    mapping = write_mapping(f"fields:\n  {json.dumps(HOSTILE)}: {{from: id}}\n")
    (tmp_path / "in.json").write_text('{"id": "1"}', encoding="utf-8")
    for args in (["validate", str(mapping)], ["map", str(mapping), "in.json"]):
        done = _cli(*args, cwd=tmp_path)
        assert done.returncode == 1, done
        assert "m.yaml:5:3" in done.stdout + done.stderr
    assert not (tmp_path / "PWNED").exists()


def _hostile_spec(name: str) -> str:
    """A mapping whose every name (fields, nested fields, plugin args) is ``name``; it is read
    with the YAML loader and turned into a spec without the language schema's checks, so that
    the generator itself is what is tried."""
    quoted = json.dumps(name)
    return (
        "name: m\n"
        "source: {name: s, schema: 'fulfillmap:cancelled-event.schema.json'}\n"
        "target: {name: t, schema: 'fulfillmap:fulfillment-cancel-request.schema.json'}\n"
        "fields:\n"
        f"  {quoted}: {{from: [data.object.upstreamId, id]}}\n"
        "  items:\n"
        "    each: data.object.items\n"
        "    where: cancelled > `0`\n"
        "    fields:\n"
        f"      {quoted}: {{from: upstreamId}}\n"
        f"      nested: {{fields: {{{quoted}: {{value: {quoted}}}}}}}\n"
        f"  sig: {{plugin: signature-required-type, args: {{{quoted}: 1}}, scope: context}}\n"
        "rules:\n"
        f"  - {{name: {quoted}, each: data.object.items, check: quantity >= `0`, message: {quoted}}}\n"
        f"  - {{name: {quoted}, on: result, check: orderId || `true`, message: {quoted}}}\n"
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_generator_quotes_every_name(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where the hostile code would write, were it run
    document = parse_yaml(_hostile_spec(name), "m.yaml", tmp_path)
    spec = build_spec(document)
    event = {"id": "e", "data": {"object": {"upstreamId": "o", "items": []}}}
    for traced in (False, True):
        program = generate(spec, default_registry(), traced=traced)
        tree = ast.parse(program.source)
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert "__import__" not in names  # the names (fields, rules, args) are only literals
        for line in program.source.splitlines():
            before = line.split("__import__")[0]
            assert "__import__" not in line or repr(name) in line or "#" in before
        recorder = [Recorder(default_registry().options)] if traced else []
        body, _ = program.build(event, {}, *recorder)
        assert body[name] == "o"
    assert not (tmp_path / "PWNED").exists()
    assert not Path("PWNED").exists()


# -- schemas: only from the mapping's folder or fulfillmap's own --------------------------


def _mapping(folder: Path, target: str) -> Path:
    path = folder / "m.yaml"
    path.write_text(
        "name: m\n"
        "source: {name: s, schema: 'fulfillmap:order.schema.json'}\n"
        f"target: {{name: t, schema: '{target}'}}\n"
        "fields:\n"
        "  orderId: {from: id}\n",
        encoding="utf-8",
    )
    return path


def _schema(folder: Path, name: str, ref: str) -> None:
    (folder / name).write_text(
        json.dumps(
            {
                "type": "object",
                "required": ["orderId"],
                "properties": {"orderId": {"$ref": ref}},
            }
        ),
        encoding="utf-8",
    )


def test_a_relative_ref_to_a_sibling_schema_resolves(tmp_path: Path) -> None:
    (tmp_path / "common.json").write_text(
        json.dumps(
            {
                "$id": "http://example.invalid/common.json",
                "definitions": {
                    "id": {"$ref": "#/definitions/text"},
                    "text": {"type": "string", "minLength": 2},
                },
            }
        ),
        encoding="utf-8",
    )
    _schema(tmp_path, "target.json", "common.json#/definitions/id")
    mapping = load(_mapping(tmp_path, "target.json"))
    assert mapping.apply({"id": "12"}) == {"orderId": "12"}
    with pytest.raises(Exception, match="orderId"):
        mapping.apply({"id": "1"})


def test_a_ref_into_a_subfolder_and_to_a_shipped_schema(tmp_path: Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "id.json").write_text(
        json.dumps({"allOf": [{"$ref": "fulfillmap:order.schema.json#/properties/id"}]}),
        encoding="utf-8",
    )
    _schema(tmp_path, "target.json", "defs/id.json")
    assert load(_mapping(tmp_path, "target.json")).apply({"id": "12"}) == {"orderId": "12"}


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("http://127.0.0.1:9/x.json", "never from a URL"),
        ("https://example.invalid/x.json#/definitions/id", "never from a URL"),
        ("file:///etc/passwd", "never from a URL"),
        ("/etc/passwd", "never from a URL or an absolute path"),
        ("../outside.json", "leaves the mapping's folder"),
        ("missing.json", "does not exist"),
        ("#anchor", "plain-name fragment"),
    ],
)
def test_refs_outside_the_mapping_folder_are_refused(ref: str, reason: str, tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (tmp_path / "outside.json").write_text('{"type": "string"}', encoding="utf-8")
    _schema(folder, "target.json", ref)
    with pytest.raises(SpecError, match=reason) as caught:
        load(_mapping(folder, "target.json"))
    assert "m.yaml:3:" in str(caught.value)
    done = _cli("validate", str(folder / "m.yaml"), cwd=tmp_path)
    assert done.returncode == 1
    assert reason in done.stdout


@pytest.mark.parametrize("target", ["../target.json", "/etc/passwd", "http://x.invalid/s.json"])
def test_the_mapping_schema_itself_must_be_inside_its_folder(target: str, tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (tmp_path / "target.json").write_text('{"type": "object"}', encoding="utf-8")
    with pytest.raises(SpecError, match="schemas are read only from"):
        load(_mapping(folder, target))


# -- the schema bundler's edges: links, size, depth, loops, data that looks like keywords --


def _write(folder: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")


def _load_with(tmp_path: Path, files: dict[str, Any]) -> Any:
    folder = tmp_path / "mappings"
    folder.mkdir(exist_ok=True)
    _write(folder, files)
    return load(_mapping(folder, "target.json"))


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    _write(tmp_path, {"secret.json": {"type": "string"}})
    (folder / "link.json").symlink_to(tmp_path / "secret.json")
    (folder / "up").symlink_to(tmp_path)
    for ref in ("link.json", "up/secret.json"):
        _schema(folder, "target.json", ref)
        with pytest.raises(SpecError, match="leaves the mapping's folder"):
            load(_mapping(folder, "target.json"))
    with pytest.raises(SpecError, match="leaves the mapping's folder"):
        load(_mapping(folder, "link.json"))


def test_a_huge_schema_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    _schema(folder, "target.json", "huge.json")
    with (folder / "huge.json").open("wb") as huge:
        huge.truncate(2**40)  # a sparse terabyte: reading it whole would never end
    with pytest.raises(SpecError, match=r"huge.json is larger than 2,097,152 bytes"):
        load(_mapping(folder, "target.json"))


def test_the_schema_files_of_one_mapping_are_bounded_together(tmp_path: Path) -> None:
    """Each file under the limit of one file, ten of them over eight times that limit."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    for number in range(10):
        schema = {"description": "x" * 1900, "$ref": f"s{number + 1}.json"} if number < 9 else {}
        _write(folder, {f"s{number}.json": schema})
    _schema(folder, "target.json", "s0.json")
    previous = fulfillmap.set_limits(fulfillmap.Limits(max_file_bytes=2000))
    try:
        with pytest.raises(SpecError, match=r"hold more than 16,000 bytes \(8 times"):
            load(_mapping(folder, "target.json"))
    finally:
        fulfillmap.set_limits(previous)


@pytest.mark.parametrize(
    "nesting",
    ['{"not":' * 100_000 + "{}" + "}" * 100_000, '{"allOf":[' * 3000 + "{}" + "]}" * 3000],
)
def test_a_deeply_nested_schema_is_a_clear_error(nesting: str, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="nests arrays and objects more than 128 deep"):
        _load_with(tmp_path, {"target.json": nesting})


@pytest.mark.parametrize(
    ("files", "loop"),
    [
        ({"target.json": {"$ref": "#"}}, "(#)"),
        ({"target.json": {"allOf": [{"$ref": "#"}], "type": "integer"}}, "(#)"),
        (
            {
                "target.json": {"allOf": [{"$ref": "a.json"}]},
                "a.json": {"not": {"$ref": "target.json"}},
            },
            "(a.json# -> target.json# -> a.json#)",
        ),
        (
            {
                "target.json": {
                    "$ref": "#/definitions/a",
                    "definitions": {
                        "a": {"anyOf": [{"$ref": "#/definitions/b"}]},
                        "b": {"if": {"$ref": "#/definitions/a"}},
                    },
                }
            },
            "(#/definitions/a -> #/definitions/b -> #/definitions/a)",
        ),
    ],
)
def test_a_loop_of_references_on_the_same_value_is_refused(
    files: dict[str, Any], loop: str, tmp_path: Path
) -> None:
    """Validating against such a loop never ends (jsonschema: RecursionError at apply)."""
    with pytest.raises(SpecError, match="loop without reading into the document") as caught:
        _load_with(tmp_path, files)
    assert loop in str(caught.value)


def test_a_recursive_schema_that_reads_into_the_document_is_fine(tmp_path: Path) -> None:
    tree = {
        "type": "object",
        "properties": {"orderId": {"$ref": "#/definitions/id"}, "next": {"$ref": "#"}},
        "definitions": {"id": {"type": "string", "minLength": 2}},
        "additionalProperties": {"items": {"$ref": "#"}},
    }
    mapping = _load_with(
        tmp_path, {"target.json": {"allOf": [{"$ref": "tree.json"}]}, "tree.json": tree}
    )
    assert mapping.apply({"id": "12"}) == {"orderId": "12"}
    with pytest.raises(Exception, match="orderId"):
        mapping.apply({"id": "1"})


def test_a_reference_to_nothing_is_refused_at_load(tmp_path: Path) -> None:
    files = {"target.json": {"properties": {"orderId": {"$ref": "c.json#/definitions/nope"}}}}
    with pytest.raises(
        SpecError, match=r"'c\.json#/definitions/nope' .* points at nothing in c\.json"
    ):
        _load_with(tmp_path, {**files, "c.json": {"definitions": {"id": {}}}})


def test_data_that_looks_like_keywords_is_data(tmp_path: Path) -> None:
    """``$ref`` and ``$id`` inside enum/const/default, or as property names, are not read as
    references and not dropped (a bundled file loses only its own ``$id``)."""
    common = {
        "$id": "http://example.invalid/common.json",
        "type": "object",
        "required": ["orderId", "$id"],
        "properties": {
            "orderId": {"enum": ["12", {"$ref": "missing.json"}], "default": {"$id": "x"}},
            "$id": {"const": {"$id": 1, "$ref": "missing.json"}},
            "$ref": {"type": "string"},
        },
    }
    mapping = _load_with(tmp_path, {"target.json": {"$ref": "common.json"}, "common.json": common})
    schema = mapping.target_schema["definitions"]["fulfillmap-bundled-0"]
    assert "$id" not in schema
    assert schema["properties"] == common["properties"]


def test_an_inner_id_does_not_change_what_references_mean(tmp_path: Path) -> None:
    """References are resolved from the files, so an ``$id`` below the top (which would make
    ``#/definitions/...`` relative to another document) is dropped."""
    target = {
        "$ref": "#/definitions/x",
        "definitions": {
            "x": {
                "$id": "http://other.invalid/x.json",
                "properties": {"orderId": {"$ref": "c.json"}},
            }
        },
    }
    mapping = _load_with(tmp_path, {"target.json": target, "c.json": {"type": "integer"}})
    with pytest.raises(Exception, match="expected an integer"):
        mapping.apply({"id": "12"})


def test_only_shipped_json_schemas_can_be_named(tmp_path: Path) -> None:
    files = {"target.json": {"properties": {"orderId": {"$ref": "fulfillmap:__init__.py"}}}}
    with pytest.raises(SpecError, match=r"no shipped schema named '__init__\.py'"):
        _load_with(tmp_path, files)


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("a\u0000.json", "is not a usable file name: embedded null byte"),
        ("a" * 5000, "cannot read schema"),
    ],
)
def test_a_reference_no_file_can_have_is_a_clear_error(
    ref: str, reason: str, tmp_path: Path
) -> None:
    with pytest.raises(SpecError, match=reason):
        _load_with(tmp_path, {"target.json": {"properties": {"orderId": {"$ref": ref}}}})


def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    os.mkfifo(folder / "pipe.json")  # reading it would wait for a writer for ever
    _schema(folder, "target.json", "pipe.json")
    with pytest.raises(SpecError, match="is not a regular file"):
        load(_mapping(folder, "target.json"))


def test_a_schema_s_patterns_never_backtrack(tmp_path: Path) -> None:
    """``^(a+)+$`` takes Python's ``re`` exponential time on ``aaa...!``; a schema is the
    mapping author's, so its patterns (``pattern``, ``patternProperties``) are matched by
    jsonschema-rs, in linear time: validate and map answer at once (with ``re``, 60
    characters would take longer than the age of the universe, and the timeout fails)."""
    slow = "a" * 60 + "!"
    target = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "pattern": "^(a+)+$"},
            "m": {"type": "object", "patternProperties": {"^(b+)+$": {"type": "integer"}}},
            "n": {
                "type": "object",
                "patternProperties": {"^(c+)+$": {}},
                "additionalProperties": False,  # jsonschema finds the others with re
            },
        },
    }
    (tmp_path / "s.json").write_text('{"type": "object"}')
    (tmp_path / "t.json").write_text(json.dumps(target))
    head = "source: {name: S, schema: s.json}\ntarget: {name: T, schema: t.json}\n"
    (tmp_path / "c.yaml").write_text(f"name: c\n{head}fields:\n  a: {{value: '{slow}'}}\n")
    (tmp_path / "m.yaml").write_text(f"name: m\n{head}fields:\n  a: x\n  m: m\n  n: n\n")
    other = {"c" * 60 + "!": 1, "cc": 2}
    (tmp_path / "in.json").write_text(
        json.dumps({"x": slow, "m": {"b" * 60 + "!": 1, "bb": "x"}, "n": other})
    )
    cli = str(Path(sys.executable).with_name("fulfillmap"))
    for command in (["validate", "c.yaml"], ["map", "m.yaml", "in.json"]):
        done = subprocess.run(
            [cli, *command], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 1, done.stderr
        assert 'it must match the pattern "^(a+)+$"' in done.stdout + done.stderr
    assert "m.bb: expected an integer" in done.stderr
    assert f"n: unknown key(s): {'c' * 60}!; " in done.stderr  # not cc, which a pattern names

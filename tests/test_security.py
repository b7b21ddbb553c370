"""Mapping files are data: nothing in them becomes Python source, and their schemas are read only
from where the mapping says (the mapping's folder, or fulfillmap's own), never from the network or
an arbitrary file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

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
        "  - {name: r, each: data.object.items, check: quantity >= `0`, message: m}\n"
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_generator_quotes_every_name(name: str, tmp_path: Path, monkeypatch: object) -> None:
    document = parse_yaml(_hostile_spec(name), "m.yaml", tmp_path)
    spec = build_spec(document)
    event = {"id": "e", "data": {"object": {"upstreamId": "o", "items": []}}}
    for traced in (False, True):
        program = generate(spec, default_registry(), traced=traced)
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

"""The compiled-mapping cache: a warm load skips YAML, the checks, the plugin scan and the
generator; any change to what a mapping was built from is a miss; a cache file is trusted only
when it is intact, current and in a directory no one else can write; and a load gives the same
result and the same errors with or without it. Real files and processes throughout."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap.errors import MappingError, SpecError
from fulfillmap.evaluate import _cache
from fulfillmap.evaluate._mapping import CompiledMapping, load

SHIPPED = (
    "order-to-fulfillment-order",
    "shipped-event-to-fulfillment",
    "cancelled-event-to-fulfillment",
)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

MAPPING = """\
name: m
source: {name: Source, schema: source.schema.json}
target: {name: Target, schema: target.schema.json}
fields:
  id: {from: id, required: true}
  total: {from: amount}
  code: {from: upper(code)}
rules:
  - {name: has-amount, check: amount, message: no amount, severity: warn}
"""
TARGET = {
    "type": "object",
    "properties": {"id": {"$ref": "common.schema.json#/definitions/id"}},
    "required": ["id"],
}
COMMON = {"definitions": {"id": {"type": "string"}}}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache directory of the test's own (created by the first write)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("FULFILLMAP_CACHE_DIR", str(folder))
    monkeypatch.delenv("FULFILLMAP_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    """A mapping with schemas of its own, one of them ``$ref``'d from another."""
    folder = tmp_path / "maps"
    folder.mkdir()
    (folder / "source.schema.json").write_text('{"type": "object"}', encoding="utf-8")
    (folder / "target.schema.json").write_text(json.dumps(TARGET), encoding="utf-8")
    (folder / "common.schema.json").write_text(json.dumps(COMMON), encoding="utf-8")
    path = folder / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def hit(mapping: CompiledMapping) -> bool:
    """Whether ``mapping`` came from the cache (its spec; its code too once applied)."""
    return mapping.stored is not None and mapping.stored.hit


def cached(reference: str | Path) -> bool:
    """Load ``reference``; whether it came from the cache."""
    return hit(load(reference))


def files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


def run(code: str, env: dict[str, str], cwd: Path | None = None) -> str:
    """Run ``code`` in a new interpreter; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- a warm load ------------------------------------------------------------------------------


WARM = """
import json, sys
import fulfillmap
mappings = [fulfillmap.load(name) for name in sys.argv[1:]]
order = json.load(open(%r))
context = json.load(open(%r))
body = mappings[0].apply(order, context)
heavy = ("yaml", "jsonschema", "importlib.metadata", "importlib.resources",
         "fulfillmap.language._loader", "fulfillmap.language._checks",
         "fulfillmap.evaluate._codegen", "pluggy", "fulfillmap.plugins.hookspecs", "difflib",
         "jmespath", "fulfillmap.plugins._registry")
print(json.dumps({
    "cached": [m.stored is not None and m.stored.hit for m in mappings],
    "code": [m.compiled is not None for m in mappings],
    "imported": sorted(name for name in heavy if name in sys.modules),
    "body": body,
}))
"""


def test_a_warm_load_imports_no_yaml_no_jsonschema_and_scans_no_plugins(cache: Path) -> None:
    code = WARM % (str(EXAMPLES / "order.json"), str(EXAMPLES / "order.context.json"))
    env = {"FULFILLMAP_CACHE_DIR": str(cache)}
    command = f"import sys; sys.argv[1:] = {list(SHIPPED)!r}\n" + textwrap.dedent(code)
    cold = json.loads(run(command, env))
    assert cold["cached"] == [False, False, False]
    assert "yaml" in cold["imported"]
    assert len(files(cache)) == 3
    warm = json.loads(run(command, env))
    assert warm["cached"] == [True, True, True]
    assert warm["code"] == [True, False, False]  # only the applied mapping's code was made
    assert warm["imported"] == []
    assert warm["body"] == cold["body"]


def test_a_mapping_loaded_but_not_applied_is_cached_without_its_code(cache: Path) -> None:
    """The first process does not generate the code of a mapping it never applies: its
    file holds the spec, and the first process that applies it adds the code."""
    code = WARM % (str(EXAMPLES / "order.json"), str(EXAMPLES / "order.context.json"))
    env = {"FULFILLMAP_CACHE_DIR": str(cache)}
    loads = "import sys, fulfillmap\nfor name in sys.argv[1:]: fulfillmap.load(name)"
    run(f"import sys; sys.argv[1:] = {list(SHIPPED[:2])!r}\n{loads}", env)
    sizes = {path.name: path.stat().st_size for path in files(cache)}
    assert len(sizes) == 2
    second = f"import sys; sys.argv[1:] = {list(SHIPPED[:2])!r}\n" + textwrap.dedent(code)
    applied = json.loads(run(second, env))  # applies the order mapping, loaded from its spec
    assert applied["cached"] == [True, True]
    assert applied["code"] == [False, False]
    assert "fulfillmap.evaluate._codegen" in applied["imported"]  # generated, with the
    assert "pluggy" in applied["imported"]  # plugins found; neither read nor checked again
    assert "jmespath" in applied["imported"]
    assert "yaml" not in applied["imported"]
    assert "fulfillmap.language._checks" not in applied["imported"]
    grown = [path.name for path in files(cache) if path.stat().st_size > sizes[path.name]]
    key = _cache.key(SHIPPED[0], 1_000_000)
    assert key is not None
    assert grown == [key.name]  # the order mapping's file, now with its code
    warm = json.loads(run(second, env))
    assert warm["code"] == [True, False]
    assert warm["imported"] == []
    assert warm["body"] == applied["body"]


LAZY = """
import json, sys
import fulfillmap
mapping = fulfillmap.load(sys.argv[1])
loaded = "jmespath" in sys.modules
outcomes = []
for source in json.loads(sys.argv[2]):
    try:
        outcomes.append(mapping.apply(source, validate=False))
    except fulfillmap.MappingError as error:
        outcomes.append(str(error))
print(json.dumps([mapping.compiled is not None, loaded, "jmespath" in sys.modules, outcomes]))
"""


def test_a_cached_mapping_imports_jmespath_when_it_first_needs_jmespaths_interpreter(
    cache: Path, tmp_path: Path
) -> None:
    """Expression references (``&n``) are left to jmespath's interpreter, and a function
    whose argument has a type the generated code does not check inline is called through
    jmespath's function table: from the cache, both are made when first used, and give
    what they give without the cache."""
    (tmp_path / "open.schema.json").write_text('{"type": "object"}', encoding="utf-8")
    path = tmp_path / "refs.yaml"
    path.write_text(
        "name: refs\nsource: {name: S, schema: open.schema.json}\n"
        "target: {name: T, schema: open.schema.json}\nfields:\n"
        "  first: {from: 'sort_by(items, &n)[0].n'}\n  code: {from: upper(code)}\n",
        encoding="utf-8",
    )
    sources = [
        {"items": [{"n": "b"}, {"n": "a"}], "code": "x"},
        {"items": [{"n": "b"}, {"n": 1}]},  # sort_by refuses mixed types
        {"items": [], "code": 7},  # upper() refuses a number
    ]
    code = f"import sys; sys.argv[1:] = [{str(path)!r}, {json.dumps(sources)!r}]\n{LAZY}"
    env = {"FULFILLMAP_CACHE_DIR": str(cache)}
    cold = json.loads(run(code, env))
    warm = json.loads(run(code, env))
    fresh = json.loads(run(code, {"FULFILLMAP_NO_CACHE": "1"}))
    assert warm[:3] == [True, False, True]
    assert cold[3] == warm[3] == fresh[3]
    assert cold[3][0] == {"first": "a", "code": "X"}
    assert "sort_by" in cold[3][1]
    assert "upper" in cold[3][2]
    assert ".search(" in load(path).source_code  # jmespath's interpreter, from the cache


# -- the same results and the same errors -------------------------------------------------------


def outcome(mapping: CompiledMapping, source: Any, context: Any = None) -> Any:
    """What ``apply`` and ``trace`` make of ``source``: the body and warnings, or the error."""
    traced = mapping.trace(source, context)
    steps = [(step.field.target_path, repr(step)) for step in traced.steps]
    try:
        result = mapping.apply_with_warnings(source, context)
    except MappingError as error:
        fields = (error.mapping, error.field, error.expression, error.data_path)
        return ("error", str(error), fields, error.location, error.rule, error.details(), steps)
    return ("ok", result.body, [str(w) for w in result.warnings], steps)


INPUTS = [
    {"id": "1", "amount": 5, "code": "ab"},
    {"id": "1", "code": "ab"},  # a warning
    {"amount": 5},  # a required value absent
    {"id": 1},  # not a valid result
    {"id": "1", "code": 7},  # a function refuses its argument
]


def test_apply_trace_and_errors_are_the_same_with_and_without_the_cache(
    cache: Path, mapping: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not cached(mapping)
    from_cache = load(mapping)
    assert hit(from_cache)
    assert from_cache.compiled is None  # loaded, never applied: no code in the file yet
    from_cache.apply({"id": "1", "amount": 5})  # generated, and added to the file
    from_cache = load(mapping)
    assert from_cache.compiled is not None
    monkeypatch.setenv("FULFILLMAP_NO_CACHE", "1")
    fresh = load(mapping)
    assert fresh.compiled is None
    assert fresh.stored is None
    assert from_cache.spec == fresh.spec
    assert from_cache.target_schema == fresh.target_schema
    assert from_cache.source_code == fresh.source_code
    for source in INPUTS:
        assert outcome(from_cache, source) == outcome(fresh, source)


def test_the_shipped_mappings_give_the_same_results_from_the_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = json.loads((EXAMPLES / "order.json").read_text(encoding="utf-8"))
    context = json.loads((EXAMPLES / "order.context.json").read_text(encoding="utf-8"))
    broken = {**order, "items": [{**order["items"][0], "tax": {}}]}
    for name in SHIPPED:
        load(name)
    assert all(cached(name) for name in SHIPPED)
    monkeypatch.setenv("FULFILLMAP_NO_CACHE", "1")
    fresh = load(SHIPPED[0])
    monkeypatch.delenv("FULFILLMAP_NO_CACHE")
    warm = load(SHIPPED[0])
    for source in (order, broken, {}):
        assert outcome(warm, source, context) == outcome(fresh, source, context)


def test_an_invalid_mapping_raises_the_same_error_after_it_was_cached(
    cache: Path, mapping: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(mapping)
    assert cached(mapping)
    mapping.write_text(MAPPING.replace("from: id,", "frm: id,"), encoding="utf-8")
    with pytest.raises(SpecError) as with_cache:
        load(mapping)
    monkeypatch.setenv("FULFILLMAP_NO_CACHE", "1")
    with pytest.raises(SpecError) as without:
        load(mapping)
    assert with_cache.value.problems == without.value.problems


# -- what the key covers -------------------------------------------------------------------------


def changed(mapping: Path, change: Callable[[], None]) -> None:
    """``mapping`` is cached, then ``change`` makes the next load a miss, then it is cached."""
    load(mapping)
    assert cached(mapping)
    change()
    assert not cached(mapping)
    assert cached(mapping)


def test_a_changed_mapping_file_is_a_miss(cache: Path, mapping: Path) -> None:
    def edit() -> None:
        mapping.write_text(MAPPING.replace("total:", "sum:"), encoding="utf-8")

    changed(mapping, edit)
    assert load(mapping).apply({"id": "1", "amount": 2}) == {"id": "1", "sum": 2}


def test_a_changed_schema_even_one_referenced_by_another_is_a_miss(
    cache: Path, mapping: Path
) -> None:
    common = mapping.parent / "common.schema.json"

    def edit() -> None:
        common.write_text(json.dumps({"definitions": {"id": {"type": "integer"}}}))

    changed(mapping, edit)
    with pytest.raises(MappingError, match="integer"):
        load(mapping).apply({"id": "1"})


def test_fulfillmaps_own_files_are_in_the_key(cache: Path, mapping: Path) -> None:
    marker = Path(fulfillmap.__file__).with_name("py.typed")  # a new version changes them
    before = marker.stat()

    def touch() -> None:
        os.utime(marker, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        _cache._environment.cache_clear()

    try:
        changed(mapping, touch)
    finally:
        os.utime(marker, ns=(before.st_atime_ns, before.st_mtime_ns))
        _cache._environment.cache_clear()


def test_the_working_directory_and_max_values_are_in_the_key(
    cache: Path, mapping: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(mapping.parent)
    load("m.yaml")
    assert cached("m.yaml")
    assert not hit(load("m.yaml", max_values=10))
    other = mapping.parent / "other"
    other.mkdir()
    (other / "m.yaml").write_text("not a mapping", encoding="utf-8")
    monkeypatch.chdir(other)
    with pytest.raises(SpecError):
        load("m.yaml")


PLUGIN = """\
from fulfillmap.plugins import hookimpl


def tag(data):
    return %r


@hookimpl
def fulfillmap_fields():
    return {"tag": %s}
"""
PLUGGED = """
import json, sys
import fulfillmap
mapping = fulfillmap.load(sys.argv[1])
print(json.dumps([mapping.compiled is not None, mapping.apply({"id": "1"}, validate=False)]))
"""


def tagged(folder: Path, fields: str) -> Path:
    """A mapping of ``fields`` from any object to any object."""
    (folder / "open.schema.json").write_text('{"type": "object"}', encoding="utf-8")
    path = folder / "tagged.yaml"
    path.write_text(
        "name: tagged\nsource: {name: S, schema: open.schema.json}\n"
        f"target: {{name: T, schema: open.schema.json}}\nfields:\n{fields}",
        encoding="utf-8",
    )
    return path


def install(site: Path, name: str, module: str) -> None:
    """Install the plugin ``module`` in ``site`` as distributions are (a ``.dist-info`` with
    its entry point)."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    (info / "METADATA").write_text(metadata, encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[fulfillmap]\ntag = {module}\n", encoding="utf-8")


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    """A plugin installed as distributions are, in a folder of its own put on
    ``PYTHONPATH``."""
    site = tmp_path / "site"
    install(site, "tagplugin", "tagplugin")
    (site / "tagplugin.py").write_text(PLUGIN % ("one", "tag"), encoding="utf-8")
    return site


def test_a_plugin_changed_upgraded_or_removed_is_a_miss(
    cache: Path, tmp_path: Path, plugin: Path
) -> None:
    path = tagged(tmp_path, "  id: {from: id}\n  tag: {plugin: tag}\n")
    env = {"FULFILLMAP_CACHE_DIR": str(cache), "PYTHONPATH": str(plugin)}

    def outcome() -> list[Any]:
        return list(json.loads(run(f"import sys; sys.argv[1:] = [{str(path)!r}]\n{PLUGGED}", env)))

    assert outcome() == [False, {"id": "1", "tag": "one"}]
    assert outcome() == [True, {"id": "1", "tag": "one"}]
    (plugin / "tagplugin.py").write_text(PLUGIN % ("two", "tag"), encoding="utf-8")
    assert outcome() == [False, {"id": "1", "tag": "two"}]
    assert outcome() == [True, {"id": "1", "tag": "two"}]
    (plugin / "tagplugin-1.0.dist-info").rename(plugin / "tagplugin-1.1.dist-info")
    assert outcome() == [False, {"id": "1", "tag": "two"}]
    assert outcome()[0] is True
    (plugin / "tagplugin-1.1.dist-info" / "entry_points.txt").write_text("", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.argv[1:] = [{str(path)!r}]\n{PLUGGED}"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "unknown plugin field 'tag'" in done.stderr


def test_a_plugin_module_with_windows_newlines_is_cached(
    cache: Path, tmp_path: Path, plugin: Path
) -> None:
    """Its source is keyed on as the cache reads it back: with its newlines as they are."""
    source = (PLUGIN % ("one", "tag")).replace("\n", "\r\n")
    (plugin / "tagplugin.py").write_bytes(source.encode("utf-8"))
    path = tagged(tmp_path, "  tag: {plugin: tag}\n")
    env = {"FULFILLMAP_CACHE_DIR": str(cache), "PYTHONPATH": str(plugin)}
    code = f"import sys; sys.argv[1:] = [{str(path)!r}]\n{PLUGGED}"
    assert json.loads(run(code, env)) == [False, {"tag": "one"}]
    assert json.loads(run(code, env)) == [True, {"tag": "one"}]


def test_the_code_of_a_plugin_function_that_cannot_be_imported_by_name_is_not_cached(
    cache: Path, tmp_path: Path, plugin: Path
) -> None:
    """Its mapping's spec is cached; its code is generated again by every process."""
    (plugin / "tagplugin.py").write_text(PLUGIN % ("one", "lambda data: 'lambda'"))
    path = tagged(tmp_path, "  tag: {plugin: tag}\n")
    env = {"FULFILLMAP_CACHE_DIR": str(cache), "PYTHONPATH": str(plugin)}
    code = f"import sys; sys.argv[1:] = [{str(path)!r}]\n{PLUGGED}"
    assert json.loads(run(code, env)) == [False, {"tag": "lambda"}]
    (entry,) = files(cache)
    spec_only = entry.read_bytes()
    for _ in range(2):  # loaded from the cache, code generated, nothing more written
        assert json.loads(run(code, env)) == [False, {"tag": "lambda"}]
        assert files(cache) == [entry]
        assert entry.read_bytes() == spec_only


CONFIGURED = """\
import functools
from pathlib import Path

from fulfillmap.plugins import hookimpl

CONFIG = Path(__file__).with_name("config.txt").read_text(encoding="utf-8")


def label(data, prefix):
    return prefix


class Labeler:
    def __init__(self, prefix):
        self.prefix = prefix

    def __call__(self, data):
        return self.prefix


@hookimpl
def fulfillmap_fields():
    return {"tag": %s}
"""


@pytest.mark.parametrize(
    "made",
    ["functools.partial(label, prefix=CONFIG)", "Labeler(CONFIG)", "Labeler(CONFIG).__call__"],
)
def test_a_plugin_callable_holding_what_its_module_read_is_not_cached(
    cache: Path, tmp_path: Path, plugin: Path, made: str
) -> None:
    """A partial, a callable instance or a bound method would be stored with the
    configuration it holds, which the key does not cover: its mapping's code is generated
    by every process, which sees a changed configuration file."""
    (plugin / "tagplugin.py").write_text(CONFIGURED % made, encoding="utf-8")
    config = plugin / "config.txt"
    config.write_text("one", encoding="utf-8")
    path = tagged(tmp_path, "  tag: {plugin: tag}\n")
    env = {"FULFILLMAP_CACHE_DIR": str(cache), "PYTHONPATH": str(plugin)}
    code = f"import sys; sys.argv[1:] = [{str(path)!r}]\n{PLUGGED}"
    for _ in range(2):  # the spec from the cache the second time, not the code
        assert json.loads(run(code, env)) == [False, {"tag": "one"}]
    config.write_text("two", encoding="utf-8")
    assert json.loads(run(code, env)) == [False, {"tag": "two"}]


def test_a_change_to_any_module_of_a_plugins_package_is_a_miss(cache: Path, tmp_path: Path) -> None:
    """The hook module takes its functions from a table in a helper module of its package,
    whose functions are defined in a third: the cache keys on the helper module too."""
    site = tmp_path / "site"
    install(site, "qaplug", "qaplug.hooks")
    package = site / "qaplug"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "fns.py").write_text(
        "def a(data):\n    return 'a'\n\n\ndef b(data):\n    return 'b'\n", encoding="utf-8"
    )
    table = "from qaplug import fns\n\nFIELDS = {'label': fns.%s}\n"
    (package / "impl.py").write_text(table % "a", encoding="utf-8")
    (package / "hooks.py").write_text(
        "from fulfillmap.plugins import hookimpl\nfrom qaplug import impl\n\n\n@hookimpl\n"
        "def fulfillmap_fields():\n    return {'tag': impl.FIELDS['label']}\n",
        encoding="utf-8",
    )
    path = tagged(tmp_path, "  tag: {plugin: tag}\n")
    env = {"FULFILLMAP_CACHE_DIR": str(cache), "PYTHONPATH": str(site)}
    code = f"import sys; sys.argv[1:] = [{str(path)!r}]\n{PLUGGED}"
    assert json.loads(run(code, env)) == [False, {"tag": "a"}]
    assert json.loads(run(code, env)) == [True, {"tag": "a"}]
    (package / "impl.py").write_text(table % "b", encoding="utf-8")
    assert json.loads(run(code, env)) == [False, {"tag": "b"}]
    assert json.loads(run(code, env)) == [True, {"tag": "b"}]


def test_a_plugin_manager_of_ones_own_is_never_cached(cache: Path, mapping: Path) -> None:
    manager = fulfillmap.plugin_manager()
    for _ in range(2):
        loaded = load(mapping, plugins=manager)
        assert loaded.compiled is None
        assert loaded.stored is None
    assert files(cache) == []


# -- never trusted unless intact and safe ------------------------------------------------------


@pytest.fixture
def entry(cache: Path, mapping: Path) -> Path:
    """The cache file of ``mapping``, written and checked to be used."""
    load(mapping)
    assert cached(mapping)
    (path,) = files(cache)
    return path


def test_a_corrupt_file_is_a_miss_and_is_replaced(entry: Path, mapping: Path) -> None:
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0xFF
    entry.write_bytes(bytes(data))
    assert not cached(mapping)
    assert cached(mapping)


@pytest.mark.parametrize("keep", [0, 3, 40, 71, 200, -1])
def test_a_truncated_file_is_a_miss(entry: Path, mapping: Path, keep: int) -> None:
    entry.write_bytes(entry.read_bytes()[:keep])
    assert not cached(mapping)


def test_a_file_that_fails_the_checks_is_never_unpickled(
    entry: Path, mapping: Path, tmp_path: Path
) -> None:
    """A payload that would run code, with a payload digest that matches but a key that does
    not (or the other way round), is never loaded. (A file that passes both is trusted: that
    is what the directory's and the file's owner and permissions are checked for.)"""
    marker = tmp_path / "PWNED"

    class Hostile:
        def __reduce__(self) -> tuple[Any, ...]:
            return (open, (str(marker), "w"))

    payload = pickle.dumps(Hostile())
    data = entry.read_bytes()
    size = int.from_bytes(data[68:72], "big")
    manifest = data[72 : 72 + size]
    digest = _cache._sha256(payload).digest()
    wrong_key = bytes(32)
    entry.write_bytes(_cache.FORMAT + wrong_key + digest + data[68:72] + manifest + payload)
    assert not cached(mapping)
    assert not marker.exists()
    entry.write_bytes(data[:72] + manifest + payload)  # the key matches, the digest does not
    assert not cached(mapping)
    assert not marker.exists()


def test_a_directory_or_file_others_can_write_is_refused(
    entry: Path, cache: Path, mapping: Path
) -> None:
    cache.chmod(0o777)
    assert not cached(mapping)
    cache.chmod(0o700)
    assert cached(mapping)
    entry.chmod(0o666)
    assert not cached(mapping)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_a_file_of_another_user_is_refused(entry: Path, mapping: Path) -> None:
    os.chown(entry, 4242, -1)
    assert not cached(mapping)


def test_a_link_is_not_followed(entry: Path, mapping: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    entry.rename(elsewhere)
    entry.symlink_to(elsewhere)
    assert not cached(mapping)


def test_a_file_too_large_is_a_miss(entry: Path, mapping: Path) -> None:
    with entry.open("ab") as file:
        file.truncate(_cache.MAX_BYTES + 1)
    assert not cached(mapping)


def test_a_read_only_or_unusable_directory_only_means_no_cache(
    entry: Path, cache: Path, mapping: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.chmod(0o500)  # readable, not writable: its files are still used
    try:
        assert cached(mapping)
    finally:
        cache.chmod(0o700)
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("FULFILLMAP_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert not cached(mapping)
    assert load(mapping).apply({"id": "1", "amount": 1}) == {"id": "1", "total": 1}


def test_the_cache_can_be_turned_off(
    cache: Path, mapping: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("FULFILLMAP_CACHE_DIR", ""), ("FULFILLMAP_NO_CACHE", "1")):
        with monkeypatch.context() as scoped:
            scoped.setenv(name, value)
            assert _cache.directories() == []
            load(mapping)
            assert not cached(mapping)
    assert files(cache) == []


def test_the_default_directories(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FULFILLMAP_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    package = Path(fulfillmap.__file__).parent / "__fmcache__"
    assert _cache.directories() == [str(tmp_path / "fulfillmap"), str(package)]
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _cache.directories()[0] == str(tmp_path / ".cache" / "fulfillmap")


CONCURRENT = """
import json, sys
import fulfillmap
mapping = fulfillmap.load(sys.argv[1])
print(json.dumps([mapping.apply({"id": "1", "amount": 1}), mapping.compiled is not None]))
"""


def test_concurrent_writers_leave_one_whole_file(cache: Path, mapping: Path) -> None:
    code = f"import sys; sys.argv[1:] = [{str(mapping)!r}]\n{CONCURRENT}"
    env = {**os.environ, "FULFILLMAP_CACHE_DIR": str(cache)}
    processes = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outputs = [json.loads(process.communicate(timeout=120)[0]) for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert {json.dumps(body) for body, _ in outputs} == {'{"id": "1", "total": 1}'}
    key = _cache.key(str(mapping), 1_000_000)
    assert key is not None
    assert [path.name for path in files(cache)] == [key.name]  # and no temporary file left
    assert json.loads(run(code, {"FULFILLMAP_CACHE_DIR": str(cache)}))[1] is True


# -- how entries are pickled ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plain:
    a: int
    b: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Checked:
    a: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", self.a + 1)


@dataclass(frozen=True, slots=True)
class _Hidden:
    a: int
    b: int = field(init=False, default=0)


def test_dataclasses_with_slots_pickle_as_a_call_of_their_class_when_that_makes_them_again(
    mapping: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FULFILLMAP_NO_CACHE", "1")
    spec = load(mapping).spec

    def again(value: Any) -> Any:
        buffer = io.BytesIO()
        _cache._Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        return pickle.loads(buffer.getvalue())

    assert again(spec) == spec
    assert _cache._Pickler(io.BytesIO()).reducer_override(spec.location) == (
        type(spec.location),
        (spec.location.file, spec.location.line, spec.location.column),
    )
    assert again(_Plain(1, (2,))) == _Plain(1, (2,))
    assert _cache._init_fields(_Plain) == ("a", "b")
    for other in (_Checked, _Hidden, CompiledMapping):  # pickled as pickle does it
        assert _cache._init_fields(other) is None
    assert again(_Checked(1)).a == 2
    assert again(_Hidden(1)) == _Hidden(1)


def test_a_fifo_in_place_of_a_file_is_a_miss_without_blocking(entry: Path, mapping: Path) -> None:
    """Opening a FIFO for reading waits for a writer: the cache opens without waiting and
    refuses what is not a regular file."""
    entry.unlink()
    os.mkfifo(entry)
    assert not cached(mapping)

"""Where mapping files and JSON Schemas come from: the shipped ones (package data of
``fulfillmap.mappings`` and ``fulfillmap.schemas``) or the integrator's files.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fulfillmap.errors import FulfillmapError, Problem, SpecError, did_you_mean, line_column
from fulfillmap.language._jsonio import check_depth
from fulfillmap.language._limits import limits

__all__ = [
    "PACKAGED_PREFIX",
    "ROUTES_FILE",
    "TEST_SUFFIX",
    "YAML_SUFFIXES",
    "MappingSource",
    "NotText",
    "confined",
    "find_mapping",
    "is_mapping_path",
    "language_schema",
    "read_bounded",
    "read_file",
    "read_schema",
    "recording",
    "routes_schema",
    "shipped_mapping_names",
    "shipped_routes",
    "shipped_test_files",
    "unknown_mapping",
]

PACKAGED_PREFIX = "fulfillmap:"
#: the routes file among the mappings (shipped, or in an integrator's directory)
ROUTES_FILE = "routes.yaml"
#: how a mapping test file's name ends (``order-to-fulfillment-order.fmtest.yaml``)
TEST_SUFFIX = ".fmtest.yaml"
#: how a mapping (or routes, or test) file's name ends
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class MappingSource:
    """A mapping file's text, the name to report it by, and its folder (for relative refs)."""

    text: str
    file: str
    directory: Path | None


#: the files read while ``recording``: absolute path -> the text read
_reads: ContextVar[dict[str, str] | None] = ContextVar("fulfillmap_reads", default=None)


@contextmanager
def recording() -> Iterator[dict[str, str]]:
    """Record every mapping and schema file read inside the block (absolute path -> the text
    read), for the compiled-mapping cache to key on exactly what a load used."""
    files: dict[str, str] = {}
    token = _reads.set(files)
    try:
        yield files
    finally:
        _reads.reset(token)


def _note(path: str | Path, text: str) -> str:
    files = _reads.get()
    if files is not None:
        files[os.path.abspath(path)] = text
    return text


def shipped_mapping_names() -> list[str]:
    """The names of the mappings shipped with fulfillmap, sorted (not their test files)."""
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in files("fulfillmap.mappings").iterdir()
        if entry.name.endswith(".yaml")
        and not entry.name.endswith(TEST_SUFFIX)
        and entry.name != ROUTES_FILE
    )


def shipped_test_files() -> list[MappingSource]:
    """The shipped mappings' own test files (``*.fmtest.yaml``), sorted by name."""
    entries = sorted(
        (e for e in files("fulfillmap.mappings").iterdir() if e.name.endswith(TEST_SUFFIX)),
        key=lambda entry: entry.name,
    )
    return [_packaged_source(entry, entry.name) for entry in entries]


def is_mapping_path(text: str) -> bool:
    """Whether a mapping reference is a file path rather than a shipped mapping's name."""
    return text.endswith(YAML_SUFFIXES) or "/" in text or "\\" in text


def shipped_routes() -> MappingSource:
    """The routes file shipped with fulfillmap (event type -> mapping and action)."""
    entry = files("fulfillmap.mappings").joinpath(ROUTES_FILE)
    return MappingSource(_read_text(entry, ROUTES_FILE), _display(entry), None)


def find_mapping(name_or_path: str | Path) -> MappingSource:
    """A shipped mapping by name (``order-to-fulfillment-order``), or a YAML file by path."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or is_mapping_path(text):
        return read_file(Path(name_or_path))
    if text in shipped_mapping_names():
        entry = files("fulfillmap.mappings").joinpath(f"{text}.yaml")
        return MappingSource(_read_text(entry, text), _display(entry), None)
    if Path(text).is_file():
        return read_file(Path(text))
    raise unknown_mapping(text)


def unknown_mapping(name: str) -> FulfillmapError:
    """The error for a mapping name that no shipped mapping has."""
    names = shipped_mapping_names()
    return FulfillmapError(
        f"no mapping named '{name}'{did_you_mean(name, names)}: the shipped mappings are "
        f"{', '.join(names)}; or give the path of a YAML file"
    )


def confined(name: str, directory: Path, *, what: str, reader: str, cwd: bool = False) -> Path:
    """The file ``name`` names: a path relative to ``directory``, the folder of the
    ``reader`` file that names it (a test file, a Markdown file), refused unless it stays
    inside that folder (or, with ``cwd``, the current directory) once ``..`` and links are
    resolved. Such a file is data from whoever wrote it: it reads nothing else (no absolute
    path, no ``..`` or link out). Raises ``FulfillmapError`` saying why, never what the file
    holds; ``what`` names the file in it (``the input file``)."""
    if os.path.isabs(name):
        raise FulfillmapError(
            f"{what} {name} is an absolute path: give it relative to the {reader}"
        )
    roots = {"its own folder": directory} | ({"the current directory": Path.cwd()} if cwd else {})
    try:
        real = Path(os.path.realpath(directory / name))
        folders = {label: Path(os.path.realpath(root)) for label, root in roots.items()}
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long for the system
        raise FulfillmapError(f"{what} {name[:100]!r} is not a usable file name: {exc}") from None
    if any(real.is_relative_to(root) for root in folders.values()):
        return Path(os.path.normpath(directory / name))
    plural = "s" if len(folders) > 1 else ""
    listed = " and ".join(f"{label} {root}" for label, root in folders.items())
    raise FulfillmapError(
        f"{what} {name} is outside the folder{plural} a {reader} may read ({listed})"
    )


def read_file(path: Path, what: str = "mapping file") -> MappingSource:
    """A mapping file (or, with ``what="routes file"`` or ``"test file"``, a routes or test
    file) from disk. One that is not UTF-8 text is a ``SpecError`` at its first bad byte."""
    try:
        text = read_bounded(path, what, limits().max_file_bytes)
    except NotText as exc:
        raise SpecError([Problem(str(path), exc.line, exc.column, exc.reason)]) from None
    return MappingSource(_note(path, text), str(path), path.parent)


class NotText(FulfillmapError):
    """A file that is not UTF-8 text, at its first bad byte: ``line`` and ``column``
    (1-based, the column counted in characters, as the YAML parser counts it)."""

    def __init__(self, what: str, label: str, data: bytes, error: UnicodeDecodeError) -> None:
        before = data[: error.start].decode("utf-8")  # the bytes before the bad one are text
        self.line, self.column = line_column(before, len(before))
        self.reason = f"cannot read {what}: it is not UTF-8 text (byte 0x{data[error.start]:02X})"
        super().__init__(f"{label}:{self.line}:{self.column}: {self.reason}")


def read_bounded(path: Path | None, what: str, limit: int, *, variable: str = "") -> str:
    """The UTF-8 text of a regular file (None: standard input), refused with a
    ``FulfillmapError`` once it holds more than ``limit`` bytes: never read whole first. A
    FIFO, a device or a directory is refused before it is read (it could block or never end);
    text that is not UTF-8 is refused with ``NotText``, which says where. ``variable`` names
    the environment variable that sets ``limit``."""
    label = "standard input" if path is None else str(path)
    try:
        data = _read_stdin(limit) if path is None else _read_regular(path, what, limit)
    except FileNotFoundError:
        raise FulfillmapError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise FulfillmapError(f"cannot read {what} {label}: {exc.strerror or exc}") from None
    if len(data) > limit:
        setting = variable or "FULFILLMAP_MAX_FILE_BYTES"
        raise FulfillmapError(
            f"{what} {label} is larger than {limit:,} bytes (the limit; {setting} changes it)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotText(what, label, data, exc) from None


def _read_regular(path: Path, what: str, limit: int) -> bytes:
    # O_NONBLOCK: opening a FIFO without a writer must not wait for one
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise FulfillmapError(
            f"{what} {path} is not a regular file (a directory, a FIFO or a device); "
            "give the path of a file"
        )
    with os.fdopen(descriptor, "rb") as file:
        return file.read(limit + 1)


def _read_stdin(limit: int) -> bytes:
    if sys.stdin is None:
        raise FulfillmapError("standard input is closed; give a file instead of '-'")
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # replaced by a text stream (tests, embedding)
        return sys.stdin.read(limit + 1).encode("utf-8", "surrogateescape")
    return bytes(buffer.read(limit + 1))


def _packaged_source(entry: Traversable, name: str) -> MappingSource:
    """A shipped file, with its folder when it is a real one (an unzipped install)."""
    path = Path(str(entry))
    folder = path.resolve().parent if path.exists() else None
    return MappingSource(_read_text(entry, name), _display(entry), folder)


def _read_text(entry: Traversable, name: str) -> str:
    try:
        return _note(str(entry), entry.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FulfillmapError(f"cannot read {name}: {exc}") from exc


def _display(entry: Traversable) -> str:
    """A shipped file's path as the user can open it (links of editable installs resolved)."""
    path = Path(str(entry))
    return str(path.resolve()) if path.exists() else str(entry)


def read_schema(reference: str, directory: Path | None) -> dict[str, Any]:
    """Read the JSON Schema a mapping names: ``fulfillmap:NAME`` or a path relative to the
    mapping file, inside its folder. Every ``$ref`` to another file is resolved here, from the
    same places only, and the result is one self-contained schema (``bundle_refs``): no
    validator ever fetches a URL or reads a file. Raises ``FulfillmapError`` saying what is
    wrong."""
    if reference.startswith(PACKAGED_PREFIX):
        return _packaged_schema(reference.removeprefix(PACKAGED_PREFIX))
    if directory is None:
        raise FulfillmapError(
            f"schema '{reference}' is a relative path, but this mapping has no folder; "
            f"use '{PACKAGED_PREFIX}NAME' for a shipped schema"
        )
    return _SchemaFiles(directory.resolve()).bundle(reference)


#: at most this many schema files are bundled into one schema, together at most this many
#: times the limit of one file (``Limits.max_file_bytes``)
_MAX_SCHEMA_FILES = 100
_MAX_SCHEMA_FILE_LIMITS = 8
_BUNDLED = "fulfillmap-bundled-"
#: keywords whose value is data (never read for ``$ref`` or ``$id``)
_DATA = frozenset({"enum", "const", "default", "examples"})
#: keywords whose value maps names to schemas (a property named ``$ref`` is a name)
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "definitions", "$defs", "dependencies", "dependentSchemas"}
)
#: keywords whose schemas apply to the instance itself, not to a part of it: a loop of
#: references through these only would never end
_SAME_INSTANCE = frozenset(
    {"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependencies", "dependentSchemas"}
)


@dataclass
class _SchemaFiles:
    """The schema files under one folder (the mapping's), bundled into one schema: each file
    another one ``$ref``s goes under ``definitions`` and its references are rewritten.

    Only schema positions are read for ``$ref`` and ``$id`` (never ``enum``, ``const``,
    ``default`` or ``examples``, nor the names under ``properties``); every reference must
    point at something; ``$id`` is kept only at the top (references are resolved from the
    files, so no other base URI may change their meaning); files are bounded in number and
    size; a loop of references that never reads into the document is refused (a validator
    would never return)."""

    root: Path
    #: file (relative to root, posix) -> its key under the bundle's ``definitions``
    keys: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, Any] = field(default_factory=dict)
    #: file -> its document as read (to check the references into it)
    documents: dict[str, Any] = field(default_factory=dict)
    size: int = 0

    def bundle(self, reference: str) -> dict[str, Any]:
        name = self._inside(reference, self.root, reference)
        try:
            document = self.documents[name] = self._read(name)
            schema: dict[str, Any] = self._rewrite(document, name, top=True, at_top=True)
            if self.definitions:
                schema = dict(schema)
                schema["definitions"] = {**schema.get("definitions", {}), **self.definitions}
            _refuse_endless_loops(schema, {key: file for file, key in self.keys.items()})
        except RecursionError:
            raise FulfillmapError(f"schema {reference} is nested too deeply to read") from None
        return schema

    def _inside(self, reference: str, folder: Path, mentioned_in: str) -> str:
        """``reference`` as a path relative to the root, refused unless it is a relative
        path that stays inside the mapping's folder."""
        if ":" in reference or reference.startswith(("/", "\\")) or not reference:
            raise FulfillmapError(
                f"schema reference '{reference}' (in {mentioned_in}) is not allowed: schemas "
                f"are read only from files inside the mapping's folder (a relative path) or "
                f"from fulfillmap's own ('{PACKAGED_PREFIX}NAME'); never from a URL or an "
                f"absolute path"
            )
        try:
            path = (folder / reference).resolve()
        except (OSError, ValueError) as exc:  # a NUL byte, a name too long for the system
            raise FulfillmapError(
                f"schema reference {reference[:100]!r} (in {mentioned_in}) is not a usable "
                f"file name: {exc}"
            ) from None
        if not path.is_relative_to(self.root):
            raise FulfillmapError(
                f"schema reference '{reference}' (in {mentioned_in}) leaves the mapping's "
                f"folder {self.root}; schemas are read only from inside it"
            )
        return path.relative_to(self.root).as_posix()

    def _read(self, name: str) -> dict[str, Any]:
        path = self.root / name
        limit = limits().max_file_bytes
        text = read_bounded(path, "schema", limit)
        self.size += len(text)
        if self.size > _MAX_SCHEMA_FILE_LIMITS * limit:
            raise FulfillmapError(
                f"schema {path}: the schema files of one mapping hold more than "
                f"{_MAX_SCHEMA_FILE_LIMITS * limit:,} bytes ({_MAX_SCHEMA_FILE_LIMITS} times "
                "the limit of one file; FULFILLMAP_MAX_FILE_BYTES changes it)"
            )
        return _parse_schema(_note(path, text), str(path))

    def _key(self, name: str) -> str:
        """The definitions key of a referenced file, reading and bundling it the first time."""
        if name in self.keys:
            return self.keys[name]
        if len(self.keys) >= _MAX_SCHEMA_FILES:
            raise FulfillmapError(f"the schema references more than {_MAX_SCHEMA_FILES} files")
        key = self.keys[name] = f"{_BUNDLED}{len(self.keys)}"
        if name.startswith(PACKAGED_PREFIX):
            document = _packaged_schema(name.removeprefix(PACKAGED_PREFIX))
        else:
            document = self._read(name)
        self.documents[name] = document
        self.definitions[key] = self._rewrite(document, name, top=False)
        return key

    def _rewrite(self, schema: Any, name: str, *, top: bool, at_top: bool = False) -> Any:
        """``schema`` (from file ``name``) with every ``$ref`` pointing into the bundle."""
        if isinstance(schema, list):
            return [self._rewrite(item, name, top=top) for item in schema]
        if not isinstance(schema, dict):
            return schema
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _DATA:
                out[key] = copy.deepcopy(value)
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {
                    label: self._rewrite(item, name, top=top) for label, item in value.items()
                }
            elif key == "$ref" and isinstance(value, str):
                out[key] = self._target(value, name, top=top)
            elif key != "$id" or at_top:  # no other base URI: references are from the files
                out[key] = self._rewrite(value, name, top=top)
        return out

    def _target(self, ref: str, name: str, *, top: bool) -> str:
        file, _, fragment = ref.partition("#")
        if fragment and not fragment.startswith("/"):
            raise FulfillmapError(
                f"schema reference '{ref}' (in {name}) uses a plain-name fragment; "
                f"use a JSON pointer such as '#/definitions/id'"
            )
        if not file:
            key = None if top else self.keys[name]
        elif file.startswith(PACKAGED_PREFIX):
            key = self._key(file)
        elif name.startswith(PACKAGED_PREFIX):  # a shipped schema's sibling
            key = self._key(PACKAGED_PREFIX + file)
        else:
            folder = (self.root / name).parent
            key = self._key(self._inside(file, folder, name))
        target = name if key is None else next(f for f, k in self.keys.items() if k == key)
        if _resolve(self.documents[target], fragment) is _NOWHERE:
            raise FulfillmapError(
                f"schema reference '{ref}' (in {name}) points at nothing in {target}"
            )
        return f"#{fragment}" if key is None else f"#/definitions/{key}{fragment}"


_NOWHERE = object()


def _resolve(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (``/definitions/a~1b``, percent-encoded as in a URI
    fragment), or ``_NOWHERE``."""
    if not pointer:
        return document
    for part in unquote(pointer).split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(document, dict) and part in document:
            document = document[part]
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return _NOWHERE
    return document


def _subschemas(schema: Any) -> Iterator[tuple[str, Any]]:
    """(keyword, subschema) of every schema directly inside ``schema``."""
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key in _DATA:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            yield from ((key, item) for item in value.values() if isinstance(item, dict))
        elif isinstance(value, dict):
            yield key, value
        elif isinstance(value, list):
            yield from ((key, item) for item in value if isinstance(item, dict))


def _refuse_endless_loops(bundle: dict[str, Any], files: dict[str, str]) -> None:
    """Refuse a loop of ``$ref`` that never reads into the document (``a: {$ref: b}``,
    ``b: {anyOf: [{$ref: a}]}``): validating anything against it would never end.

    A depth-first search over the edges that keep to the same instance: ``$ref`` and the
    keywords in ``_SAME_INSTANCE``; every subschema is a starting point once."""
    done: set[int] = set()
    for start in _walk(bundle):
        if id(start) in done:
            continue
        path: list[Any] = [start]
        on_path = {id(start)}
        todo = [_next_same_instance(bundle, start)]
        while todo:
            child = next(todo[-1], None)
            if child is None:  # every edge of the last node followed
                todo.pop()
                node = path.pop()
                on_path.discard(id(node))
                done.add(id(node))
                continue
            if id(child) in on_path:
                refs = [node["$ref"] for node in path if isinstance(node.get("$ref"), str)]
                shown = " -> ".join(_shown(ref, files) for ref in refs)
                raise FulfillmapError(
                    f"schema references loop without reading into the document ({shown}): "
                    f"a validator would never return"
                )
            if id(child) not in done:
                path.append(child)
                on_path.add(id(child))
                todo.append(_next_same_instance(bundle, child))


def _walk(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema object in ``schema``, without recursion."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(item for _, item in _subschemas(node))


def _next_same_instance(bundle: dict[str, Any], schema: dict[str, Any]) -> Iterator[Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        target = _resolve(bundle, ref[1:])
        if isinstance(target, dict):
            yield target
    for key, item in _subschemas(schema):
        if key in _SAME_INSTANCE:
            yield item


def _shown(ref: str, files: dict[str, str]) -> str:
    """A bundled reference as it was written: ``#/definitions/fulfillmap-bundled-0/x`` ->
    ``common.json#/x``."""
    for key, file in files.items():
        prefix = f"#/definitions/{key}"
        if ref == prefix or ref.startswith(prefix + "/"):
            return f"{file}#{ref.removeprefix(prefix)}"
    return ref


def _packaged_schema(name: str) -> dict[str, Any]:
    path, text, schema = _packaged(name)
    _note(path, text)  # read once per process, recorded at every use
    return schema


@functools.cache
def _packaged(name: str) -> tuple[str, str, dict[str, Any]]:
    entry = files("fulfillmap.schemas").joinpath(name)
    if "/" in name or not name.endswith(".json") or not entry.is_file():
        known = sorted(e.name for e in files("fulfillmap.schemas").iterdir() if e.is_file())
        shipped = ", ".join(n for n in known if n.endswith(".json"))
        raise FulfillmapError(f"no shipped schema named '{name}'; shipped: {shipped}")
    text = entry.read_text(encoding="utf-8")
    return str(entry), text, _parse_schema(text, name)


def _parse_schema(text: str, name: str) -> dict[str, Any]:
    check_depth(text, f"schema {name}")
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FulfillmapError(f"schema {name} is not valid JSON: {exc}") from exc
    if not isinstance(schema, dict):
        raise FulfillmapError(f"schema {name} must be a JSON object")
    return schema


def language_schema() -> dict[str, Any]:
    """The JSON Schema of the mapping language itself."""
    return _packaged_schema("mapping.schema.json")


def routes_schema() -> dict[str, Any]:
    """The JSON Schema of routes files."""
    return _packaged_schema("routes.schema.json")

"""Where mapping files and JSON Schemas come from: the shipped ones (package data of
``fulfillmap.mappings`` and ``fulfillmap.schemas``) or the integrator's files.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from fulfillmap.errors import FulfillmapError, did_you_mean

__all__ = [
    "PACKAGED_PREFIX",
    "ROUTES_FILE",
    "TEST_SUFFIX",
    "MappingSource",
    "find_mapping",
    "is_mapping_path",
    "language_schema",
    "read_file",
    "read_schema",
    "routes_schema",
    "shipped_mapping_names",
    "shipped_routes",
    "shipped_test_files",
]

PACKAGED_PREFIX = "fulfillmap:"
#: the routes file among the mappings (shipped, or in an integrator's directory)
ROUTES_FILE = "routes.yaml"
#: how a mapping test file's name ends (``order-to-fulfillment-order.fmtest.yaml``)
TEST_SUFFIX = ".fmtest.yaml"
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class MappingSource:
    """A mapping file's text, the name to report it by, and its folder (for relative refs)."""

    text: str
    file: str
    directory: Path | None


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
    return text.endswith(_SUFFIXES) or "/" in text or "\\" in text


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
    names = shipped_mapping_names()
    raise FulfillmapError(
        f"no mapping named '{text}'{did_you_mean(text, names)}: the shipped mappings are "
        f"{', '.join(names)}; or give the path of a YAML file"
    )


def read_file(path: Path, what: str = "mapping file") -> MappingSource:
    """A mapping file (or, with ``what="routes file"``, a routes file) from disk."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FulfillmapError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FulfillmapError(f"cannot read {what} {path}: {exc}") from exc
    return MappingSource(text, str(path), path.parent)


def _packaged_source(entry: Traversable, name: str) -> MappingSource:
    """A shipped file, with its folder when it is a real one (an unzipped install)."""
    path = Path(str(entry))
    folder = path.resolve().parent if path.exists() else None
    return MappingSource(_read_text(entry, name), _display(entry), folder)


def _read_text(entry: Traversable, name: str) -> str:
    try:
        return entry.read_text(encoding="utf-8")
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


#: at most this many schema files are bundled into one schema
_MAX_SCHEMA_FILES = 100
_BUNDLED = "fulfillmap-bundled-"


@dataclass
class _SchemaFiles:
    """The schema files under one folder (the mapping's), bundled into one schema: each file
    another one ``$ref``s goes under ``definitions`` and its references are rewritten."""

    root: Path
    #: file (relative to root, posix) -> its key under the bundle's ``definitions``
    keys: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, Any] = field(default_factory=dict)

    def bundle(self, reference: str) -> dict[str, Any]:
        name = self._inside(reference, self.root, reference)
        schema: dict[str, Any] = self._rewrite(self._read(name), name, top=True)
        if self.definitions:
            schema = dict(schema)
            schema["definitions"] = {**schema.get("definitions", {}), **self.definitions}
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
        path = (folder / reference).resolve()
        if not path.is_relative_to(self.root):
            raise FulfillmapError(
                f"schema reference '{reference}' (in {mentioned_in}) leaves the mapping's "
                f"folder {self.root}; schemas are read only from inside it"
            )
        return path.relative_to(self.root).as_posix()

    def _read(self, name: str) -> dict[str, Any]:
        path = self.root / name
        if not path.is_file():
            reason = "does not exist" if not path.exists() else "is not a regular file"
            raise FulfillmapError(f"schema {path} {reason}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FulfillmapError(f"cannot read schema {path}: {exc}") from exc
        return _parse_schema(text, str(path))

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
        self.definitions[key] = self._rewrite(document, name, top=False)
        return key

    def _rewrite(self, schema: Any, name: str, *, top: bool) -> Any:
        """``schema`` (from file ``name``) with every ``$ref`` pointing into the bundle."""
        if isinstance(schema, list):
            return [self._rewrite(item, name, top=top) for item in schema]
        if not isinstance(schema, dict):
            return schema
        copy = {
            key: self._rewrite(value, name, top=top)
            for key, value in schema.items()
            if top or key != "$id"  # a bundled file keeps no base URI of its own
        }
        ref = schema.get("$ref")
        if isinstance(ref, str):
            copy["$ref"] = self._target(ref, name, top=top)
        return copy

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
        return f"#{fragment}" if key is None else f"#/definitions/{key}{fragment}"


@functools.cache
def _packaged_schema(name: str) -> dict[str, Any]:
    entry = files("fulfillmap.schemas").joinpath(name)
    if "/" in name or not entry.is_file():
        known = sorted(e.name for e in files("fulfillmap.schemas").iterdir() if e.is_file())
        shipped = ", ".join(n for n in known if n.endswith(".json"))
        raise FulfillmapError(f"no shipped schema named '{name}'; shipped: {shipped}")
    return _parse_schema(entry.read_text(encoding="utf-8"), name)


def _parse_schema(text: str, name: str) -> dict[str, Any]:
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

"""Shared test helpers: golden-case discovery, strict JSON Schema validation, and a converter from
Digital River's official OpenAPI 3.0 component schemas to strict draft-07 JSON Schemas.

Tests run with ``--import-mode=importlib``, so test modules cannot import this file; everything here
reaches them through fixtures and through ``pytest_generate_tests``:

* a test taking ``golden_case`` runs once per ``tests/golden/<mapping>/<case>.input.json``;
* a test taking ``request_case`` runs once per golden case whose output is a Digital River request;
* a test taking ``golden_error`` runs once per ``tests/golden/<mapping>/errors/<case>.input.json``;
* the ``kit`` fixture gives the constants and helper functions below (see :class:`Kit`);
* ``openapi_spec`` and ``official_schema`` give the official spec and its strict components.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker, validators
from jsonschema.protocols import Validator

REPO = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO / "schemas"
EXAMPLES_DIR = REPO / "examples"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
SPEC_RELATIVE = Path("shared") / "reference" / "digital-river-openapi.json"
SCHEMA_ID_BASE = "https://fulfillmap.dev/schemas/"


def pytest_configure(config: pytest.Config) -> None:
    """Every load in the tests (and in the commands they run) goes through a compiled-mapping
    cache of their own, never the user's: the cache is exercised by the whole suite."""
    if os.environ.get("FULFILLMAP_CACHE_DIR") is None:
        folder = tempfile.mkdtemp(prefix="fulfillmap-test-cache-")
        os.environ["FULFILLMAP_CACHE_DIR"] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@dataclass(frozen=True)
class MappingSchemas:
    """The schemas a mapping reads and writes, and the official component its output must match
    (None: the output is not a Digital River request, e.g. a record or a notification)."""

    source: str
    target: str
    official: str | None


MAPPINGS: dict[str, MappingSchemas] = {
    "order-to-fulfillment-order": MappingSchemas(
        "order.schema.json",
        "fulfillment-order-request.schema.json",
        "GlobalFulfillmentOrderRequest",
    ),
    "shipped-event-to-fulfillment": MappingSchemas(
        "shipped-event.schema.json", "fulfillment-capture-request.schema.json", "FulfillmentRequest"
    ),
    "cancelled-event-to-fulfillment": MappingSchemas(
        "cancelled-event.schema.json",
        "fulfillment-cancel-request.schema.json",
        "FulfillmentRequest",
    ),
    "pending-event-to-record": MappingSchemas(
        "pending-event.schema.json", "fulfillment-order-record.schema.json", None
    ),
    "backordered-event-to-notification": MappingSchemas(
        "backordered-event.schema.json", "backorder-notification.schema.json", None
    ),
    "shipment-to-tracking": MappingSchemas(
        "shipment.schema.json", "shipment-tracking.schema.json", None
    ),
    "cancellation-request-to-fulfillment-cancellation": MappingSchemas(
        "shop-request.schema.json",
        "fulfillment-cancellation-request.schema.json",
        "GlobalFulfillmentCancellationRequest",
    ),
    "return-request-to-fulfillment-return": MappingSchemas(
        "shop-request.schema.json",
        "fulfillment-return-request.schema.json",
        "GlobalFulfillmentReturnRequest",
    ),
    "outcome-event-to-record": MappingSchemas(
        "outcome-event.schema.json", "request-outcome.schema.json", None
    ),
}

# Which source schema each example payload is an instance of, and where in the file it sits
# (a JSON pointer; "" is the whole document). None: no schema yet for that payload.
EXAMPLES: dict[str, tuple[str, str] | None] = {
    "order.json": ("order.schema.json", ""),
    "order.context.json": None,
    "order-accepted-event.json": ("order.schema.json", "/data/object"),
    "shipped-event.json": ("shipped-event.schema.json", ""),
    "cancelled-event.json": ("cancelled-event.schema.json", ""),
    "pending-event.json": ("pending-event.schema.json", ""),
    "backordered-event.json": ("backordered-event.schema.json", ""),
}


# --------------------------------------------------------------------------- JSON and golden files


def load_json(path: Path) -> Any:
    """Parse a JSON file (UTF-8)."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def load_schema(name: str) -> dict[str, Any]:
    """Parse ``schemas/<name>``."""
    schema = load_json(SCHEMAS_DIR / name)
    assert isinstance(schema, dict), name
    return schema


def json_pointer(document: Any, pointer: str) -> Any:
    """Resolve an RFC 6901 JSON pointer ("" is the whole document)."""
    node = document
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


@dataclass(frozen=True)
class GoldenCase:
    """``<mapping>/<name>.input.json``, its ``.expected.json`` and an optional ``.context.json``."""

    mapping: str
    name: str
    input_path: Path
    expected_path: Path
    context_path: Path | None

    @property
    def id(self) -> str:
        return f"{self.mapping}/{self.name}"

    @property
    def schemas(self) -> MappingSchemas:
        return MAPPINGS[self.mapping]

    def input(self) -> Any:
        return load_json(self.input_path)

    def expected(self) -> Any:
        return load_json(self.expected_path)

    def context(self) -> dict[str, Any]:
        if self.context_path is None:
            return {}
        context = load_json(self.context_path)
        assert isinstance(context, dict)
        return context


@dataclass(frozen=True)
class GoldenError:
    """``<mapping>/errors/<name>.input.json`` and its ``.error.json``.

    The error file holds ``field`` (target path), ``data_path`` (source path) and
    ``message_contains`` (a generic substring of the message), and ``rule`` when a rule of the
    mapping is what rejects the input.
    """

    mapping: str
    name: str
    input_path: Path
    error_path: Path
    context_path: Path | None

    @property
    def id(self) -> str:
        return f"{self.mapping}/errors/{self.name}"

    @property
    def schemas(self) -> MappingSchemas:
        return MAPPINGS[self.mapping]

    def input(self) -> Any:
        return load_json(self.input_path)

    def error(self) -> dict[str, str]:
        error = load_json(self.error_path)
        assert isinstance(error, dict)
        return error


def _case_name(path: Path) -> str:
    return path.name.removesuffix(".input.json")


def _optional(path: Path) -> Path | None:
    return path if path.exists() else None


def golden_cases() -> list[GoldenCase]:
    """Every success case under tests/golden, sorted by mapping and name."""
    return [
        GoldenCase(
            mapping=input_path.parent.name,
            name=_case_name(input_path),
            input_path=input_path,
            expected_path=input_path.with_name(f"{_case_name(input_path)}.expected.json"),
            context_path=_optional(input_path.with_name(f"{_case_name(input_path)}.context.json")),
        )
        for input_path in sorted(GOLDEN_DIR.glob("*/*.input.json"))
    ]


def golden_errors() -> list[GoldenError]:
    """Every error case under tests/golden/<mapping>/errors, sorted by mapping and name."""
    return [
        GoldenError(
            mapping=input_path.parent.parent.name,
            name=_case_name(input_path),
            input_path=input_path,
            error_path=input_path.with_name(f"{_case_name(input_path)}.error.json"),
            context_path=_optional(input_path.with_name(f"{_case_name(input_path)}.context.json")),
        )
        for input_path in sorted(GOLDEN_DIR.glob("*/errors/*.input.json"))
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``golden_case`` and ``golden_error`` arguments over the golden files."""
    if "golden_case" in metafunc.fixturenames:
        cases = golden_cases()
        metafunc.parametrize("golden_case", cases, ids=[case.id for case in cases])
    if "request_case" in metafunc.fixturenames:  # cases whose output is a Digital River request
        cases = [case for case in golden_cases() if case.schemas.official is not None]
        metafunc.parametrize("request_case", cases, ids=[case.id for case in cases])
    if "golden_error" in metafunc.fixturenames:
        errors = golden_errors()
        metafunc.parametrize("golden_error", errors, ids=[error.id for error in errors])


# --------------------------------------------------------------------------- strict validation

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)

FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(instance: object) -> bool:
    """RFC 3339 date-time with the stdlib only (jsonschema needs an extra package for it)."""
    if not isinstance(instance, str):
        return True
    if _RFC3339.match(instance) is None:
        return False
    datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))
    return True


def _is_strict_integer(_checker: object, instance: object) -> bool:
    """An int that is not a bool: unlike draft-07's "integer", 2.0 is rejected."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_extend: Callable[..., type[Validator]] = validators.extend  # untyped in types-jsonschema
StrictDraft7Validator = _extend(
    Draft7Validator,
    type_checker=Draft7Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


def strict_validator(schema: Mapping[str, Any]) -> Validator:
    """A draft-07 validator that checks formats (date-time, email) and rejects 2.0 as an integer.

    A mapping output must serialise integers as ``2``, not ``2.0`` (G15, G20); plain draft-07
    cannot tell them apart, so the tests use this stricter type checker for outputs.
    """
    return StrictDraft7Validator(schema, format_checker=FORMAT_CHECKER)


def source_validator(schema: Mapping[str, Any]) -> Validator:
    """A plain draft-07 validator with format checks, for source payloads (2.0 is an integer)."""
    return Draft7Validator(schema, format_checker=FORMAT_CHECKER)


def data_path(path: Sequence[str | int]) -> str:
    """Render a jsonschema error path as ``items[1].tax.amount``."""
    rendered = ""
    for part in path:
        if isinstance(part, int):
            rendered += f"[{part}]"
        else:
            rendered += f".{part}" if rendered else part
    return rendered


def error_messages(validator: Validator, instance: Any) -> list[str]:
    """Every validation error as ``<path>: <message>``, sorted (empty when valid)."""
    return sorted(
        f"{data_path(list(error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(instance)
    )


# --------------------------------------------------------------------------- OpenAPI -> JSON Schema


class OpenAPIConversionError(ValueError):
    """The OpenAPI schema uses something the strict converter does not handle."""


# Annotations dropped from the output (readOnly is acted on before it is dropped).
_DROPPED = frozenset(
    {
        "title",
        "description",
        "example",
        "examples",
        "externalDocs",
        "xml",
        "deprecated",
        "discriminator",
        "default",
        "readOnly",
        "writeOnly",
        "nullable",
    }
)
# Validation keywords that mean the same in OpenAPI 3.0 and draft-07.
_KEPT = frozenset(
    {
        "type",
        "enum",
        "format",
        "required",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "multipleOf",
        "minProperties",
        "maxProperties",
    }
)
_REF_PREFIX = "#/components/schemas/"


def find_openapi_spec(start: Path | None = None) -> Path:
    """Find ``shared/reference/digital-river-openapi.json`` in ``start`` or one of its parents.

    The repository is cloned with ``shared/`` beside it (``<clone>/../shared``), so walking up
    from the tests folder finds it. Fails the test, loudly, when it is not there.
    """
    here = (start or Path(__file__)).resolve()
    searched = [here, *here.parents] if here.is_dir() else list(here.parents)
    for directory in searched:
        candidate = directory / SPEC_RELATIVE
        if candidate.is_file():
            return candidate
    pytest.fail(
        f"Digital River OpenAPI spec not found: no {SPEC_RELATIVE} in any of "
        f"{', '.join(str(d) for d in searched)}. Put the shared/ folder beside the clone.",
        pytrace=False,
    )


@functools.cache
def load_openapi_spec() -> dict[str, Any]:
    """The official spec, parsed once per session."""
    spec = load_json(find_openapi_spec())
    assert isinstance(spec, dict)
    return spec


def _component(spec: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith(_REF_PREFIX):
        raise OpenAPIConversionError(f"unsupported $ref {ref!r}")
    name = ref.removeprefix(_REF_PREFIX)
    try:
        component: Mapping[str, Any] = spec["components"]["schemas"][name]
    except KeyError:
        raise OpenAPIConversionError(f"dangling $ref {ref!r}") from None
    return component


def _dereference(spec: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a chain of $refs (OpenAPI 3.0 ignores a $ref's siblings)."""
    seen: set[str] = set()
    while "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise OpenAPIConversionError(f"$ref cycle through {ref!r}")
        seen.add(ref)
        node = _component(spec, ref)
    return node


def is_read_only(spec: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """True when the schema, or the component it refers to, is marked readOnly."""
    return any(schema.get("readOnly") is True for schema in (node, _dereference(spec, node)))


def to_strict_json_schema(
    spec: Mapping[str, Any], node: Mapping[str, Any], where: str = "#", refs: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Convert one OpenAPI 3.0 schema object to a strict draft-07 JSON Schema.

    * ``#/components/schemas/...`` refs are inlined (a recursive schema raises);
    * ``nullable: true`` adds ``null`` to ``type`` (and to ``enum``); without it null is invalid;
    * readOnly properties are dropped (a request carrying one fails), also from ``required``;
    * every schema listing ``properties`` gets ``additionalProperties: false``;
    * validation keywords are kept, annotations dropped; anything else raises, so the converter
      can never loosen a schema silently.
    """
    if "$ref" in node:
        ref = node["$ref"]
        if ref in refs:
            raise OpenAPIConversionError(f"recursive $ref {ref!r} at {where}")
        return to_strict_json_schema(spec, _component(spec, ref), ref, (*refs, ref))

    out: dict[str, Any] = {}
    for key, value in node.items():
        at = f"{where}/{key}"
        if key in _DROPPED or key.startswith("x-"):
            continue
        if key in _KEPT:
            out[key] = list(value) if isinstance(value, list) else value
        elif key == "properties":
            out[key] = {
                name: to_strict_json_schema(spec, schema, f"{at}/{name}", refs)
                for name, schema in value.items()
                if not is_read_only(spec, schema)
            }
        elif key in ("items", "not"):
            out[key] = to_strict_json_schema(spec, value, at, refs)
        elif key == "additionalProperties":
            out[key] = (
                value if isinstance(value, bool) else to_strict_json_schema(spec, value, at, refs)
            )
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [
                to_strict_json_schema(spec, schema, f"{at}/{index}", refs)
                for index, schema in enumerate(value)
            ]
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            # OpenAPI 3.0 (draft-04 style): a boolean modifier of minimum/maximum.
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if value is True:
                out[key] = node[bound]
        else:
            raise OpenAPIConversionError(f"unsupported keyword {key!r} at {at}")

    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        if key in out:
            out.pop("minimum" if key == "exclusiveMinimum" else "maximum", None)

    if "properties" in node:
        out["additionalProperties"] = False
        read_only = {
            name for name, schema in node["properties"].items() if is_read_only(spec, schema)
        }
        if "required" in out:
            out["required"] = [name for name in out["required"] if name not in read_only]
            if not out["required"]:
                del out["required"]

    if node.get("nullable") is True:
        out = _allow_null(out)
    return out


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    if "type" not in schema and "enum" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = [*types, "null"] if "null" not in types else types
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def strict_component(spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``components.schemas.<name>`` as a standalone strict draft-07 JSON Schema."""
    schema = to_strict_json_schema(spec, _component(spec, _REF_PREFIX + name), _REF_PREFIX + name)
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": name, **schema}


# --------------------------------------------------------------------------- schema walking


def resolve_local(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow ``#/definitions/...`` refs inside one of our own schemas."""
    while "$ref" in node:
        ref = node["$ref"]
        assert isinstance(ref, str)
        assert ref.startswith("#/"), f"non-local $ref {ref!r}"
        node = json_pointer(root, ref[1:])
    return node


def walk_schemas(
    root: Mapping[str, Any], node: Mapping[str, Any] | None = None, where: str = "#"
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (location, subschema) for the root and every schema below it that describes data:
    properties, definitions, items and additionalProperties (not the contains/if/then helpers)."""
    node = root if node is None else node
    yield where, node
    for key in ("properties", "definitions"):
        for name, child in node.get(key, {}).items():
            yield from walk_schemas(root, child, f"{where}/{key}/{name}")
    for key in ("items", "additionalProperties"):
        child = node.get(key)
        if isinstance(child, dict):
            yield from walk_schemas(root, child, f"{where}/{key}")


# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True, repr=False)
class Kit:
    """Everything a test module needs from this file (it cannot import conftest directly)."""

    repo: Path
    schemas_dir: Path
    examples_dir: Path
    golden_dir: Path
    mappings: Mapping[str, MappingSchemas]
    examples: Mapping[str, tuple[str, str] | None]
    load_json: Callable[[Path], Any]
    load_schema: Callable[[str], dict[str, Any]]
    json_pointer: Callable[[Any, str], Any]
    golden_cases: Callable[[], list[GoldenCase]]
    golden_errors: Callable[[], list[GoldenError]]
    strict_validator: Callable[[Mapping[str, Any]], Validator]
    source_validator: Callable[[Mapping[str, Any]], Validator]
    error_messages: Callable[[Validator, Any], list[str]]
    data_path: Callable[[Sequence[str | int]], str]
    resolve_local: Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]]
    walk_schemas: Callable[..., Iterator[tuple[str, Mapping[str, Any]]]]
    find_openapi_spec: Callable[..., Path]
    to_strict_json_schema: Callable[..., dict[str, Any]]
    strict_component: Callable[[Mapping[str, Any], str], dict[str, Any]]
    conversion_error: type[OpenAPIConversionError]


@pytest.fixture(scope="session")
def kit() -> Kit:
    """The constants and helpers of tests/conftest.py."""
    return Kit(
        repo=REPO,
        schemas_dir=SCHEMAS_DIR,
        examples_dir=EXAMPLES_DIR,
        golden_dir=GOLDEN_DIR,
        mappings=MAPPINGS,
        examples=EXAMPLES,
        load_json=load_json,
        load_schema=load_schema,
        json_pointer=json_pointer,
        golden_cases=golden_cases,
        golden_errors=golden_errors,
        strict_validator=strict_validator,
        source_validator=source_validator,
        error_messages=error_messages,
        data_path=data_path,
        resolve_local=resolve_local,
        walk_schemas=walk_schemas,
        find_openapi_spec=find_openapi_spec,
        to_strict_json_schema=to_strict_json_schema,
        strict_component=strict_component,
        conversion_error=OpenAPIConversionError,
    )


@pytest.fixture(scope="session")
def openapi_spec() -> dict[str, Any]:
    """Digital River's official OpenAPI spec (fails the test if shared/ is missing)."""
    return load_openapi_spec()


@pytest.fixture(scope="session")
def official_schema(openapi_spec: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    """``official_schema("FulfillmentRequest")``: a component as a strict draft-07 schema."""
    cache: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in cache:
            schema = strict_component(openapi_spec, name)
            Draft7Validator.check_schema(schema)
            cache[name] = schema
        return cache[name]

    return get


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[..., Path]:
    """``write_mapping(body, source="cancelled-event", target="fulfillment-cancel-request")``
    writes a mapping named ``m`` whose ``fields:``/``rules:`` are ``body`` (YAML text) and
    whose schemas are the shipped ones named; returns its path."""

    def write(
        body: str,
        source: str = "cancelled-event",
        target: str = "fulfillment-cancel-request",
        name: str = "m.yaml",
    ) -> Path:
        path = tmp_path / name
        path.write_text(
            "name: m\n"
            f"source: {{name: Source, schema: 'fulfillmap:{source}.schema.json'}}\n"
            f"target: {{name: Target, schema: 'fulfillmap:{target}.schema.json'}}\n" + body,
            encoding="utf-8",
        )
        return path

    return write


# -- a real PostgreSQL server for the ledger's tests ------------------------------------------------


def _postgres_cluster_module() -> Any:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "postgres_cluster", Path(__file__).resolve().parent / "postgres_cluster.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["postgres_cluster"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server: $FULFILLMAP_TEST_POSTGRES, or a temporary cluster.

    The cluster runs as an unprivileged user (PostgreSQL refuses root), on a free port of
    127.0.0.1, and is stopped afterwards (tests/postgres_cluster.py). Without server binaries
    the test is skipped (a failure under CI=true, see pytest_runtest_makereport).
    """
    import os

    given = os.environ.get("FULFILLMAP_TEST_POSTGRES")
    if given:
        yield given
        return
    cluster = _postgres_cluster_module()
    if cluster.binaries() is None:
        pytest.skip(cluster.MISSING)
    with cluster.temporary_cluster() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """The test server's URL, its ledger tables dropped: a fresh ledger for each test."""
    import psycopg

    with psycopg.connect(postgres_server, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'fulfillmap%'"
        ).fetchall()
        for (table,) in tables:
            connection.execute(f'DROP TABLE "{table}"')
    return postgres_server


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh ledger's URL on each backend: memory:, SQLite and the test PostgreSQL."""
    if request.param == "memory":
        return "memory:"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skipped test is a failure: CI must run every test (PostgreSQL included)."""
    import os

    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run every test: {report.longrepr}"

"""Explain: a mapping as a table of "source → target" rows, for people and for documentation.

``explain(spec)`` lists one ``Row`` per target value (leaf fields and arrays built with
``each``), in output order, with the source paths written from the source document's root
(``items[].skuId``) as Digital River's own tables write them. ``to_markdown`` and ``to_json``
render it; ``update_regions`` regenerates the marked tables in a Markdown file such as the README::

    <!-- fulfillmap:explain order-to-fulfillment-order -->
    ...generated...
    <!-- /fulfillmap:explain -->
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fulfillmap.errors import FulfillmapError, line_column
from fulfillmap.language._expressions import compile_expression
from fulfillmap.language._resources import (
    confined,
    is_mapping_path,
    shipped_mapping_names,
    unknown_mapping,
)
from fulfillmap.language._spec import (
    Computed,
    Constant,
    Field,
    From,
    MappingSpec,
    Nested,
    Rule,
)

__all__ = ["Row", "explain", "readme_mapping", "to_json", "to_markdown", "update_regions"]


@dataclass(frozen=True, slots=True)
class Row:
    """One target value: where it comes from and what happens when it is absent."""

    target: str  #: ``items[].inventoryItemId``
    source: str  #: the first expression, from the source's root (``items[].skuId``); or ""
    fallbacks: tuple[str, ...]  #: the expressions tried next, in order
    required: bool
    default: Any  #: the default value, or None when there is none
    has_default: bool
    value: Any  #: a constant's value, or None
    plugin: str  #: the computing plugin's name, or ""
    args: dict[str, Any]
    where: str  #: the element filter of an array
    description: str
    line: int  #: the line of the mapping file that defines the field


def explain(spec: MappingSpec) -> tuple[Row, ...]:
    """The rows of ``spec``, in output order."""
    return tuple(_rows(spec.fields, ""))


def _rows(fields: tuple[Field, ...], prefix: str) -> Iterator[Row]:
    for field in fields:
        kind, base = field.kind, _base(field, prefix)
        if isinstance(kind, Nested) and kind.each is None:
            yield from _rows(kind.fields, base)
            continue
        if isinstance(kind, Nested):
            assert kind.each is not None
            yield _row(field, _join(base, kind.each), where=kind.where or "")
            yield from _rows(kind.fields, f"{_join(base, kind.each)}[]")
            continue
        expressions = kind.expressions if isinstance(kind, From) else ()
        paths = tuple(_join(base, text) for text in expressions)
        yield _row(field, paths[0] if paths else "", paths[1:])


def _row(field: Field, source: str, fallbacks: tuple[str, ...] = (), where: str = "") -> Row:
    kind = field.kind
    return Row(
        target=field.target_path,
        source=source,
        fallbacks=fallbacks,
        required=field.required,
        default=field.default,
        has_default=field.has_default,
        value=kind.value if isinstance(kind, Constant) else None,
        plugin=kind.plugin if isinstance(kind, Computed) else "",
        args=dict(kind.args) if isinstance(kind, Computed) else {},
        where=where,
        description=field.description,
        line=field.location.line,
    )


def _base(field: Field, prefix: str) -> str:
    """What the field's expressions are relative to, written from the source's root."""
    return field.scope.pick(prefix, "", "context")


def _join(base: str, text: str) -> str:
    if not base:
        return text
    if compile_expression(text).keys is not None:
        return f"{base}.{text}"
    return f"{base}: {text}"  # a JMESPath expression evaluated on ``base``


# -- Markdown ---------------------------------------------------------------------------

_HEADER = "| Source | | Target | Required | Fallback | Default | Plugin | Description |"
_RULE_HEADER = "| Rule | On | Each | Check | Severity | Message |"


def to_markdown(spec: MappingSpec, *, heading: str = "###") -> str:
    """The mapping as Markdown: a heading, its description and a table of rows (and rules)."""
    lines = [f"{heading} `{spec.name}`", ""]
    if spec.description:
        lines += [spec.description, ""]
    lines += [
        f"{_cell(spec.source.name)} (`{spec.source.schema}`) → "
        f"{_cell(spec.target.name)} (`{spec.target.schema}`)",
        "",
        _HEADER,
        "| --- | :---: | --- | :---: | --- | --- | --- | --- |",
        *(_markdown_row(row) for row in explain(spec)),
    ]
    if spec.rules:
        lines += ["", _RULE_HEADER, "| --- | --- | --- | --- | --- | --- |"]
        lines += [_markdown_rule(rule) for rule in spec.rules]
    return "\n".join(lines) + "\n"


def _markdown_row(row: Row) -> str:
    if row.plugin:
        source = ""
    elif row.value is not None:
        source = f"constant {_code(_json(row.value))}"
    else:
        source = _code(row.source)
    description = row.description
    if row.where:
        description = f"Only elements where {_code(row.where)}. {description}".strip()
    cells = [
        source,
        "→",
        _code(row.target),
        "yes" if row.required else "no",
        ", then ".join(_code(text) for text in row.fallbacks),
        _code(_json(row.default)) if row.has_default else "",
        _code(row.plugin + (f" {_json(row.args)}" if row.args else "")) if row.plugin else "",
        _cell(description),
    ]
    return "| " + " | ".join(cells) + " |"


def _markdown_rule(rule: Rule) -> str:
    cells = [
        _code(rule.name),
        rule.on,
        _code(rule.each) if rule.each else "",
        _code(rule.check),
        rule.severity,
        _cell(rule.message),
    ]
    return "| " + " | ".join(cells) + " |"


def _code(text: str) -> str:
    """``text`` as an inline code span that is safe in a table cell."""
    if not text:
        return ""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{_cell(text)}{pad}{fence}"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


# -- JSON -------------------------------------------------------------------------------


def to_json(spec: MappingSpec) -> dict[str, Any]:
    """The mapping's rows and rules as a JSON-ready object."""
    return {
        "name": spec.name,
        "description": spec.description,
        "file": spec.file,
        "source": {"name": spec.source.name, "schema": spec.source.schema},
        "target": {"name": spec.target.name, "schema": spec.target.schema},
        "fields": [_json_row(row) for row in explain(spec)],
        "rules": [
            {
                "name": rule.name,
                "on": rule.on,
                "each": rule.each,
                "check": rule.check,
                "severity": rule.severity,
                "message": rule.message,
                "line": rule.location.line,
            }
            for rule in spec.rules
        ],
    }


def _json_row(row: Row) -> dict[str, Any]:
    data = asdict(row)
    data["fallbacks"] = list(row.fallbacks)
    if not row.has_default:
        del data["default"]
    del data["has_default"]
    return data


# -- marked regions of a Markdown file --------------------------------------------------

_OPEN = "<!-- fulfillmap:explain "
_REGION = re.compile(
    r"(?P<open><!-- fulfillmap:explain (?P<name>[^\s>]+) -->\n)"
    r"(?P<body>(?:(?!<!-- fulfillmap:explain ).)*?)"  # no other region's opening in it
    r"(?P<close><!-- /fulfillmap:explain -->)",
    re.DOTALL,
)


def update_regions(text: str, render: Callable[[str], str], *, file: str = "") -> str:
    """``text`` with every marked region's body replaced by ``render(name)``.

    Raises ``FulfillmapError`` when an opening marker is malformed or has no closing one,
    when there is no region at all (so that a misspelt marker is not silently left stale),
    or when ``render`` raises it: each names the marker's ``file:line``.
    """
    if _OPEN not in text:
        where = f"{file}: " if file else ""
        raise FulfillmapError(f"{where}no '{_OPEN}NAME -->' region to update")
    regions = {match.start(): match for match in _REGION.finditer(text)}
    for start in _starts(text, _OPEN):
        if start not in regions:
            raise FulfillmapError(
                f"{_where(file, text, start)}: this '{_OPEN}NAME -->' marker is malformed or "
                "has no '<!-- /fulfillmap:explain -->' after it"
            )

    def body(match: re.Match[str]) -> str:
        try:
            table = render(match["name"])
        except FulfillmapError as exc:
            raise FulfillmapError(f"{_where(file, text, match.start())}: {exc}") from None
        return match["open"] + "\n" + _inert(table) + "\n" + match["close"]

    return _REGION.sub(body, text)


def readme_mapping(name: str, folder: Path) -> str | Path:
    """What a marker's ``NAME`` names: a shipped mapping, or a YAML file given relative to
    ``folder`` (the Markdown file's) and inside it. The Markdown file is data (a pull
    request's README is checked in CI): it reads no file elsewhere, nor from the current
    directory."""
    if not is_mapping_path(name):
        if name not in shipped_mapping_names():
            raise unknown_mapping(name)
        return name
    return confined(name, folder, what="the mapping file", reader="Markdown file")


def _starts(text: str, needle: str) -> Iterator[int]:
    start = text.find(needle)
    while start != -1:
        yield start
        start = text.find(needle, start + 1)


def _where(file: str, text: str, offset: int) -> str:
    line, _ = line_column(text, offset)
    return f"{file}:{line}" if file else f"line {line}"


def _inert(markdown: str) -> str:
    """A region's body with no HTML comment in it (a mapping's description cannot add or
    close a marked region): ``<!--`` written as ``&lt;!--``, which Markdown shows alike."""
    return markdown.replace("<!--", "&lt;!--")

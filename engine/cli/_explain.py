"""``explain`` and ``schema``: a mapping as a table; the language's JSON Schema."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fulfillmap.cli._common import fail
from fulfillmap.errors import FulfillmapError
from fulfillmap.evaluate._mapping import load
from fulfillmap.language._resources import language_schema


def add(commands: Any) -> None:
    _add_explain(commands)
    _add_schema(commands)


def _add_explain(commands: Any) -> None:
    explain = commands.add_parser("explain", help="print a mapping as a Markdown table")
    explain.add_argument("mapping", metavar="MAPPING", nargs="?", help="a name or a YAML path")
    explain.add_argument("--format", choices=("markdown", "json"), default="markdown")
    explain.add_argument(
        "--update-readme",
        metavar="FILE",
        help="regenerate the '<!-- fulfillmap:explain NAME -->' regions of a Markdown file",
    )
    explain.add_argument(
        "--check", action="store_true", help="with --update-readme: only fail if FILE is stale"
    )
    explain.set_defaults(run=_explain, parser=explain)


def _explain(args: argparse.Namespace) -> int:
    from fulfillmap.tooling._explain import to_json, to_markdown

    if args.update_readme:
        return _update_readme(Path(args.update_readme), check=args.check)
    if not args.mapping:  # a usage error: the usage, the message, exit 2
        args.parser.error("give a MAPPING to explain, or --update-readme FILE")
    spec = load(args.mapping).spec
    if args.format == "json":
        sys.stdout.write(json.dumps(to_json(spec), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(to_markdown(spec))
    return 0


def _update_readme(path: Path, *, check: bool) -> int:
    from fulfillmap.tooling._explain import readme_mapping, to_markdown, update_regions

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FulfillmapError(f"cannot read {path}: {exc.strerror or exc}") from None
    folder = path.parent

    def render(name: str) -> str:
        return to_markdown(load(readme_mapping(name, folder)).spec, heading="####")

    updated = update_regions(text, render, file=str(path))
    if updated == text:
        print(f"{path}: up to date", file=sys.stderr)
        return 0
    if check:
        fail(f"{path} is stale: run `fulfillmap explain --update-readme {path}`")
        return 1
    path.write_text(updated, encoding="utf-8")
    print(f"{path}: updated", file=sys.stderr)
    return 0


def _add_schema(commands: Any) -> None:
    schema = commands.add_parser("schema", help="print the mapping language's JSON Schema")
    schema.set_defaults(run=_schema)


def _schema(args: argparse.Namespace) -> int:
    del args
    sys.stdout.write(json.dumps(language_schema(), indent=2, ensure_ascii=False) + "\n")
    return 0

"""The documentation stays true: every key of the language is documented, and links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fulfillmap.language._resources import language_schema

REPO = Path(__file__).resolve().parent.parent
PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
LINK = re.compile(r"\]\((?!https?://|#)([^)#\s]+)(?:#[^)]*)?\)")


def test_every_key_of_the_language_is_documented() -> None:
    schema = language_schema()
    keys = set(schema["properties"]) - {"$schema"}
    for definition in ("endpoint", "fieldObject", "rule"):
        keys |= set(schema["definitions"][definition]["properties"])
    text = (REPO / "docs" / "mapping-language.md").read_text(encoding="utf-8")
    missing = sorted(key for key in keys if f"`{key}`" not in text)
    assert missing == []


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = [target for target in LINK.findall(text) if not (page.parent / target).exists()]
    assert broken == []


def test_the_docs_pages_exist() -> None:
    names = {page.name for page in PAGES}
    assert {"mapping-language.md", "writing-a-plugin.md", "command-line.md", "errors.md"} <= names


def test_the_limits_table_is_every_limit_with_its_default() -> None:
    from dataclasses import fields

    from fulfillmap.language._limits import ENVIRONMENT, Limits

    text = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(max_\w+)` \| `(\w+)` \| ([\d,]+) \|", text, re.MULTILINE)
    expected = [(f.name, ENVIRONMENT[f.name], f"{f.default:,}") for f in fields(Limits)]
    assert rows == expected

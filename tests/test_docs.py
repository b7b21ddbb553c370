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


YAML_EXAMPLE = re.compile(r"```yaml\n(.*?)```", re.S)


def _whole_mappings(page: Path) -> list[str]:
    """The YAML examples that are whole mappings (an excerpt says so on its first line)."""
    import yaml

    return [
        block
        for block in YAML_EXAMPLE.findall(page.read_text(encoding="utf-8"))
        if not block.startswith("# an excerpt")
        and isinstance(data := yaml.safe_load(block), dict)
        and {"name", "source", "target", "fields"} <= data.keys()
    ]


def test_every_whole_mapping_example_passes_validate(tmp_path: Path) -> None:
    """QA finding: the README's mapping example failed `fulfillmap validate` (a required
    target field the mapping may leave out). Every whole mapping shown passes it, with no
    warning, and the README's maps the example cancelled event."""
    import json

    import fulfillmap
    from fulfillmap.tooling._reports import check_mapping

    found: dict[str, list[str]] = {}
    for page in PAGES:
        for i, block in enumerate(_whole_mappings(page)):
            path = tmp_path / f"{page.stem}-{i}.yaml"
            path.write_text(block, encoding="utf-8")
            found[path.name] = [str(problem) for problem in check_mapping(str(path)).problems]
    assert "README-0.yaml" in found, "the README shows a whole mapping"
    assert {name: problems for name, problems in found.items() if problems} == {}
    event = json.loads((REPO / "examples" / "cancelled-event.json").read_text(encoding="utf-8"))
    mapping = fulfillmap.load(tmp_path / "README-0.yaml")
    assert mapping.apply(event)["orderId"] == "278815640336"


NUMBERS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]
#: "the six shipped mapping files", across a line break (of a comment too)
SHIPPED_COUNT = re.compile(rf"\b({'|'.join(NUMBERS)}|\d+)\s+(?:#\s*)?shipped mapping", re.I)


def test_a_count_of_the_shipped_mappings_in_the_docs_is_the_real_one() -> None:
    """QA finding: the docs said validate checks 'the six shipped mapping files'; it checks
    nine. The docs give no count now; one written again must be true."""
    from fulfillmap.language._resources import shipped_mapping_names

    real = len(shipped_mapping_names())
    wrong = [
        f"{page.name}: {match.group(0)!r}"
        for page in PAGES
        for match in SHIPPED_COUNT.finditer(page.read_text(encoding="utf-8"))
        if match.group(1).lower() not in (str(real), *NUMBERS[real : real + 1])
    ]
    assert wrong == []

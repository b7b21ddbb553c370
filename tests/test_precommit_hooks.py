"""`.pre-commit-hooks.yaml`: the hooks run real fulfillmap commands on the right files."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from fulfillmap.cli import _parser

HOOKS = Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml"


@pytest.fixture(scope="module")
def hooks() -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    return {hook["id"]: hook for hook in loaded}


def selects(hook: dict[str, Any], path: str) -> bool:
    """Whether pre-commit would run ``hook`` for ``path`` (its files and exclude patterns)."""
    included = re.search(hook.get("files", ""), path) is not None
    excluded = "exclude" in hook and re.search(hook["exclude"], path) is not None
    return included and not excluded


def test_both_hooks_are_offered_with_what_pre_commit_requires(
    hooks: dict[str, dict[str, Any]],
) -> None:
    assert set(hooks) == {"fulfillmap-validate", "fulfillmap-test"}
    for hook in hooks.values():
        assert {"id", "name", "entry", "language"} <= hook.keys()
        assert hook["language"] == "python"


@pytest.mark.parametrize("hook_id", ["fulfillmap-validate", "fulfillmap-test"])
def test_each_entry_is_a_valid_command_line(hooks: dict[str, dict[str, Any]], hook_id: str) -> None:
    hook = hooks[hook_id]
    program, *args = shlex.split(hook["entry"])
    assert program == "fulfillmap"
    files = [] if hook.get("pass_filenames") is False else ["mappings/a.yaml"]
    parsed = _parser().parse_args([*args, *hook.get("args", []), *files])
    assert parsed.run.__name__ == "_" + args[0]


@pytest.mark.parametrize(
    ("path", "validate", "test"),
    [
        ("mappings/order.yaml", True, True),
        ("services/shop/mappings/order.yml", True, True),
        ("mappings/order.fmtest.yaml", True, True),
        ("tests/order.fmtest.yaml", False, True),
        ("mappings/routes.yaml", True, True),
        (".github/workflows/ci.yaml", False, False),
        ("config/settings.yaml", False, False),
        ("mappings/README.md", False, False),
    ],
)
def test_the_hooks_select_mapping_and_test_files(
    hooks: dict[str, dict[str, Any]], path: str, validate: bool, test: bool
) -> None:
    assert selects(hooks["fulfillmap-validate"], path) is validate
    assert selects(hooks["fulfillmap-test"], path) is test

"""Typing users can rely on: ``mypy --strict`` sees every public name as what it is.

The package's module ``__getattr__`` (lazy imports) exists only at run time; to a type checker
the names are real imports. So a misspelt name or attribute in code that uses fulfillmap is a
type error, not a silent ``Any``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import fulfillmap
import pytest

CORRECT = """
    import json
    from collections.abc import Mapping

    import fulfillmap
    from fulfillmap import JSON, CompiledMapping, MappingError

    mapping: CompiledMapping = fulfillmap.load("order-to-fulfillment-order")
    order: dict[str, str | list[dict[str, int]]] = {"id": "1", "items": [{"quantity": 1}]}
    quote: Mapping[str, JSON] = {"shippingQuote": {"id": "SG"}}
    try:
        body: dict[str, JSON] = mapping.apply(order, quote)
        result: fulfillmap.Result = mapping.run(json.loads("{}"), validate=False)
        warnings: tuple[fulfillmap.Violation, ...] = result.warnings
    except MappingError as error:
        where: str | None = error.field or error.data_path
        steps: tuple[fulfillmap.FieldStep, ...] = error.trace
    action: fulfillmap.Action = fulfillmap.Engine().handle({"id": "e", "type": "t"})
    kind: str = action.action
    names: list[str] = fulfillmap.shipped_mappings()
"""

FAILING = {
    "a misspelt name": (
        "from fulfillmap import MapingError\n",
        'Module "fulfillmap" has no attribute "MapingError"',
    ),
    "a misspelt attribute of the module": (
        "import fulfillmap\nfulfillmap.lod('order-to-fulfillment-order')\n",
        'Module has no attribute "lod"',
    ),
    "a misspelt attribute of an error": (
        """
        import fulfillmap

        try:
            fulfillmap.load("order-to-fulfillment-order").apply({})
        except fulfillmap.MappingError as e:
            print(e.feild)
        """,
        '"MappingError" has no attribute "feild"',
    ),
    "a result used as what it is not": (
        """
        import fulfillmap

        body: int = fulfillmap.load("order-to-fulfillment-order").apply({})
        """,
        'Incompatible types in assignment (expression has type "dict[str, JSON]"',
    ),
    "a document that is not JSON": (
        """
        import fulfillmap

        fulfillmap.load("order-to-fulfillment-order").apply({"at": object()})
        """,
        'Dict entry 0 has incompatible type "str": "object"',
    ),
}


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """mypy --strict's report on each snippet (one run over all of them), by file name."""
    folder = tmp_path_factory.mktemp("user_code")
    snippets = {"correct": CORRECT} | {
        name.replace(" ", "_"): code for name, (code, _) in FAILING.items()
    }
    for name, code in snippets.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(code))
    done = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--no-incremental"),
            *("--cache-dir", "/dev/null"),
            *sorted(str(folder / f"{name}.py") for name in snippets),
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )
    report = dict.fromkeys(snippets, "")
    for line in done.stdout.splitlines():
        name = Path(line.split(":", 1)[0]).stem
        if name in report:
            report[name] += line + "\n"
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return report


def test_correct_use_passes_mypy_strict(mypy_report: dict[str, str]) -> None:
    assert mypy_report["correct"] == ""


@pytest.mark.parametrize("case", sorted(FAILING))
def test_a_mistake_fails_mypy_strict(mypy_report: dict[str, str], case: str) -> None:
    _, expected = FAILING[case]
    assert expected in mypy_report[case.replace(" ", "_")]


def test_every_public_name_resolves() -> None:
    assert fulfillmap.__all__ == sorted(fulfillmap.__all__)
    assert set(fulfillmap.__all__) <= set(dir(fulfillmap))
    for name in dir(fulfillmap):
        assert getattr(fulfillmap, name) is not None or name.startswith("_"), name
    for name in fulfillmap.__all__:
        assert getattr(fulfillmap, name) is not None, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'MapingError'"):
        fulfillmap.MapingError  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ImportError):
        from fulfillmap import MapingError  # type: ignore[attr-defined]  # noqa: F401


def test_import_is_cheap() -> None:
    """``import fulfillmap`` loads none of the pipeline and none of the libraries it uses: each
    public name is imported on first use (the type checker's imports are not run)."""
    code = "import sys, fulfillmap; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    heavy = {"yaml", "jsonschema", "jsonschema_rs", "jmespath", "pluggy", "orjson"}
    folders = {"cli", "evaluate", "events", "language", "plugins", "tooling"}
    assert not loaded & (heavy | {f"fulfillmap.{folder}" for folder in folders})
    assert "fulfillmap._types" in loaded

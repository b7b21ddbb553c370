"""The public API and the package's shape: one `fulfillmap` package from four folders."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import fulfillmap
import pytest

REPO = Path(__file__).resolve().parent.parent


def test_public_names_are_sorted_and_exist() -> None:
    assert fulfillmap.__all__ == sorted(fulfillmap.__all__)
    for name in fulfillmap.__all__:
        assert hasattr(fulfillmap, name), name


def test_the_folders_are_not_importable_on_their_own() -> None:
    for name in ("engine", "plugins", "mappings", "schemas"):
        assert importlib.util.find_spec(name) is None, (
            f"'{name}' must only exist as fulfillmap.{name}"
        )


def test_error_tree() -> None:
    assert issubclass(fulfillmap.SpecError, fulfillmap.FulfillmapError)
    assert issubclass(fulfillmap.MappingError, fulfillmap.FulfillmapError)
    assert issubclass(fulfillmap.FulfillmapError, ValueError)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("fulfillmap-*.whl")
    return found


def test_the_wheel_holds_the_mappings_and_schemas(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for yaml in (REPO / "mappings").glob("*.yaml"):
        assert f"fulfillmap/mappings/{yaml.name}" in names
    for schema in (REPO / "schemas").glob("*.json"):
        assert f"fulfillmap/schemas/{schema.name}" in names
    assert "fulfillmap/py.typed" in names
    assert "fulfillmap/plugins/py.typed" in names
    assert not any(name.startswith(("tests/", "engine/", "fulfillmap/tests")) for name in names)


def test_the_wheel_holds_the_playground_page_and_not_its_sources(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    static = REPO / "engine" / "tooling" / "playground" / "static"
    for file in static.iterdir():
        assert f"fulfillmap/tooling/playground/static/{file.name}" in names
    assert not any("frontend/" in name or "node_modules" in name for name in names)


def test_a_non_editable_install_loads_every_shipped_mapping(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    script = (
        "import json, sys, fulfillmap\n"
        "assert fulfillmap.__file__.startswith(sys.argv[1]), fulfillmap.__file__\n"
        "names = fulfillmap.shipped_mappings()\n"
        "print(json.dumps([fulfillmap.load(n).name for n in names]))\n"
    )
    env_path = [str(target), *[p for p in sys.path if p and "site-packages" in p]]
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path[:0] = {env_path!r}\n" + script,
            str(target),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "order-to-fulfillment-order" in done.stdout


def test_a_non_editable_install_runs_its_own_mapping_tests(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    env_path = [str(target), *[p for p in sys.path if p and "site-packages" in p]]
    script = (
        f"import sys; sys.path[:0] = {env_path!r}\n"
        "from fulfillmap.cli import main\n"
        "sys.exit(main(['test', '-v', '--fail-under', '100']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert str(target) in done.stdout  # the installed cases ran, not the clone's
    assert done.stderr.endswith(" passed, 0 failed\n")
    assert " 0 passed" not in done.stderr

"""The files the playground reads and writes: the example payloads (the cases of the
mapping's test file) and, only on request, the mapping file it was opened from and that
test file. No path ever comes from a request.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from fulfillmap.errors import FulfillmapError, SpecError
from fulfillmap.language._jsonio import dump_document
from fulfillmap.language._resources import (
    TEST_SUFFIX,
    MappingSource,
    find_mapping,
    is_mapping_path,
    shipped_test_files,
)
from fulfillmap.tooling._testing import CaseFile, load_cases, parse_cases

__all__ = [
    "READ_ONLY",
    "Opened",
    "append_case",
    "examples",
    "open_mapping",
    "read_text",
    "write_atomically",
]

READ_ONLY = (
    "this is a shipped mapping, opened by name: it is read-only. Copy it (and its "
    "*.fmtest.yaml) and open the copy by path to save"
)
_CASES = re.compile(r"^cases:[ \t]*(#.*)?$", re.MULTILINE)
_TOP_LEVEL_KEY = re.compile(r"^[^\s#-][^:]*:", re.MULTILINE)
_FIRST_ITEM = re.compile(r"^([ \t]*)- ", re.MULTILINE)


@dataclass(frozen=True)
class Opened:
    """The mapping the playground was opened on."""

    reference: str  #: as given on the command line
    text: str
    file: str  #: its file, as problems and errors name it
    directory: str  #: its folder (relative schemas), "" for a shipped mapping
    path: Path | None  #: the file "save mapping" writes; None for a shipped mapping

    @property
    def test_file(self) -> Path | None:
        """The test file beside a mapping file (``NAME.fmtest.yaml``)."""
        if self.path is None:
            return None
        stem = self.path.name.rsplit(".", 1)[0]
        return self.path.with_name(stem + TEST_SUFFIX)


def open_mapping(reference: str) -> Opened:
    """A shipped mapping by name (read-only) or a mapping file by path."""
    source = find_mapping(reference)
    path = Path(source.file).resolve() if source.directory is not None else None
    directory = str(source.directory) if source.directory is not None else ""
    return Opened(reference, source.text, source.file, directory, path)


def examples(opened: Opened) -> tuple[list[dict[str, Any]], str]:
    """The cases of the mapping's test file as example payloads (name, input and context as
    JSON text), and why there are none when the file is broken."""
    try:
        case_file = _case_file(opened)
    except FulfillmapError as exc:
        problems = exc.problems if isinstance(exc, SpecError) else ()
        return [], "\n".join(str(problem) for problem in problems) or str(exc)
    if case_file is None:
        return [], ""
    return [
        {
            "name": case.name,
            "input": _json(case.input),
            "context": None if case.context is None else _json(case.context),
        }
        for case in case_file.cases
    ], ""


def _case_file(opened: Opened) -> CaseFile | None:
    if opened.test_file is not None:
        return load_cases(opened.test_file) if opened.test_file.is_file() else None
    wanted = f"{Path(opened.file).name.rsplit('.', 1)[0]}{TEST_SUFFIX}"
    shipped = [source for source in shipped_test_files() if Path(source.file).name == wanted]
    return parse_cases(shipped[0]) if shipped else None


def _json(value: Any) -> str:
    return dump_document(value).decode("utf-8")


def append_case(opened: Opened, name: str, case: dict[str, Any]) -> Path:
    """Append ``case`` named ``name`` to the mapping's test file (created when missing), in
    the test file format; the file is checked as ``fulfillmap test`` reads it before it is
    written, and written whole or not at all. Returns the test file."""
    test_file = opened.test_file
    if test_file is None or opened.path is None:
        raise FulfillmapError(READ_ONLY)
    item = yaml.dump(
        [{"name": name, **case}],
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    if test_file.exists():
        text = _appended(test_file, read_text(test_file), item)
    else:
        head = yaml.safe_dump({"mapping": opened.path.name}, sort_keys=False)
        text = f"{head}cases:\n{_indented(item, '  ')}"
    checked = parse_cases(MappingSource(text, str(test_file), test_file.parent))
    if not is_mapping_path(checked.mapping) or Path(checked.mapping).resolve() != opened.path:
        raise FulfillmapError(
            f"{test_file} tests mapping '{checked.mapping}', not {opened.path}: "
            f"its cases would not run this mapping"
        )
    if checked.cases[-1].name != name:  # the item landed inside something else
        raise FulfillmapError(f"the case was not appended to {test_file}")
    write_atomically(test_file, text)
    return test_file


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as the shipped test files write them; a value met
    twice written out twice (an anchor could clash with one of the file's own)."""

    def ignore_aliases(self, data: Any) -> bool:
        del data
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        del indentless
        super().increase_indent(flow, False)


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    """An amount read as Decimal (G3) written as the YAML number it is, with its digits."""
    return dumper.represent_scalar("tag:yaml.org,2002:float", str(value))


_Dumper.add_representer(Decimal, _decimal)


def _appended(test_file: Path, text: str, item: str) -> str:
    """``text`` with ``item`` (a YAML list of one case) added at the end of ``cases``,
    which must be the file's last key, written as a block list."""
    cases = _CASES.search(text)
    after = text[cases.end() :] if cases else ""
    first = _FIRST_ITEM.search(after)
    if cases is None or first is None or _TOP_LEVEL_KEY.search(after):
        raise FulfillmapError(
            f"cannot append a case to {test_file}: its cases must be its last key, a list "
            f"written one '- name: ...' item per case"
        )
    return f"{text.rstrip()}\n{_indented(item, first.group(1))}"


def _indented(text: str, indent: str) -> str:
    return "".join(f"{indent}{line}" if line.strip() else line for line in text.splitlines(True))


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FulfillmapError(f"cannot read {path}: {exc}") from exc


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text``: a reader sees the old file or the new one."""
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise FulfillmapError(f"cannot write {path}: {exc}") from exc

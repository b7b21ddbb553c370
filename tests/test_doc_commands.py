"""Every shell command the documentation shows that can run offline, run as written.

The README and docs/*.md show ``fulfillmap`` commands in ``sh`` blocks, in ``console``/``text``
blocks (``$ fulfillmap ...``, followed by the output they print) and as CI steps (``- run:
fulfillmap ...``). Each one whose files exist in the repository runs here, in a copy of the
files it reads, through a shell (so redirections work), and must exit 0; where the doc shows
its output, every line shown must be in what it prints (``...`` stands for anything). A
command with a placeholder (``MAPPING``, ``[--strict]``) or a file of the reader's own
(``my-mappings/``, ``events.jsonl``) cannot run offline and is left out; ``test_commands_found``
keeps the count honest. (docs/testing.md's walk-through, which creates its files, is replayed
by tests/test_testing_docs.py.)
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)
_PLACEHOLDER = re.compile(r"\[|\b(MAPPING|INPUT|PATH|FILE|DIR|NAME|URL|ORDER_ID|LINE)\b")
#: what the commands read, copied into each run's folder
_COPIED = ("examples", "mappings", "README.md", "docs")


@dataclass(frozen=True)
class Command:
    doc: str
    line: str  #: the command as the doc writes it (without ``$ `` and comments)
    output: tuple[str, ...]  #: the output lines the doc shows after it

    @property
    def id(self) -> str:
        return f"{self.doc}: {self.line}"


def _commands_in(doc: Path) -> list[Command]:
    found: list[Command] = []
    for match in _BLOCK.finditer(doc.read_text(encoding="utf-8")):
        kind, lines = match.group(1), match.group(2).replace("\\\n", " ").splitlines()
        for index, raw in enumerate(lines):
            text = raw.strip()
            if kind == "sh" and text.startswith("fulfillmap "):
                found.append(Command(doc.name, _strip(text), ()))
            elif kind == "yaml" and text.startswith("- run: fulfillmap "):
                found.append(Command(doc.name, _strip(text.removeprefix("- run: ")), ()))
            elif kind in ("console", "text") and re.match(r"\$ (\.venv/bin/)?fulfillmap ", text):
                output = []
                for after in lines[index + 1 :]:
                    if after.startswith("$ "):
                        break
                    output.append(after)
                found.append(Command(doc.name, _strip(text[2:]), tuple(output)))
    return found


def _strip(command: str) -> str:
    """Without a trailing ``# comment`` and the ``.venv/bin/`` prefix; spaces collapsed."""
    command = re.sub(r"\s+#.*$", "", command).removeprefix(".venv/bin/")
    return " ".join(command.split())


#: the commands whose arguments are all files or folders, and the options that take a value
_PATH_COMMANDS = ("validate", "test", "handle")
_VALUED = ("--format", "--fail-under", "--mappings", "--context", ">", "<")


def _runnable(command: Command) -> bool:
    if _PLACEHOLDER.search(command.line):
        return False
    words = shlex.split(command.line)
    paths_only = len(words) > 1 and words[1] in _PATH_COMMANDS
    for before, word in zip(["", *words], words, strict=False):
        if before == ">":
            continue  # an output file
        path = "/" in word or re.search(r"\.(json|jsonl|yaml|md)$", word) is not None
        path = path or (
            paths_only
            and word not in words[:2]
            and not word.startswith("-")
            and before not in _VALUED
        )
        if path and not (REPO / word.rstrip("/")).exists():
            return False  # the reader's own file
    return True


ALL = [command for doc in DOCS for command in _commands_in(doc)]
RUNNABLE = [command for command in ALL if _runnable(command)]


def test_commands_found() -> None:
    """The scan finds the documented commands, and most of them run here."""
    assert len(ALL) >= 25
    assert len(RUNNABLE) >= 14
    docs = {command.doc for command in RUNNABLE}
    assert {"README.md", "command-line.md", "writing-a-plugin.md"} <= docs


@pytest.mark.parametrize("command", RUNNABLE, ids=[c.id for c in RUNNABLE])
def test_documented_command_runs_as_shown(command: Command, tmp_path: Path) -> None:
    for name in _COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", command.line],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    printed = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 0, "\n".join([command.line, *printed])
    for shown in command.output:
        if shown.strip() in ("", "..."):
            continue
        pattern = re.sub(r"([\[\]?*])", r"[\1]", shown).replace("...", "*")
        assert any(fnmatchcase(line, pattern) for line in printed), "\n".join(
            [f"not printed by `{command.line}`:", shown, "", *printed]
        )

"""Instructions per mapping, fulfillmap ``apply`` against the hand-written mapping: a steadier
measure than time on a shared machine (``make bench`` stays the judge of the targets).

Each (mapping, items, implementation) runs in its own process under valgrind's cachegrind,
once with N calls and once with none; the difference over N is the CPU instructions one call
executes, whatever else the machine runs. Needs ``valgrind`` (Debian: ``apt-get install
valgrind``); about a minute per row on a 2-core machine::

    .venv/bin/python bench/instructions.py            # every mapping at 3 and 50 items
    .venv/bin/python bench/instructions.py cancelled  # one mapping
    .venv/bin/python bench/instructions.py cold       # cold start: whole processes

``cold`` counts the whole processes of ``make bench``'s cold start (the same script and
environments): the bare interpreter, the libraries a warm process needs, and the script with a
warm cache, with none and with an empty one, each above the bare interpreter.

Instructions are not time (a cache miss or a mispredicted branch costs more than an add),
but a change that removes work shows here without the noise of a shared machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: the child: load, warm up, then ``calls`` calls of one implementation
_CHILD = """
import json, sys
sys.path.insert(0, {here!r})
import run, fulfillmap
from handwritten import MAPPINGS
name, size, which, calls = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
make, mapping_name = {{
    "order": (run.order, run.ORDER),
    "shipped": (run.shipped, run.SHIPPED),
    "cancelled": (run.cancelled, run.CANCELLED),
}}[name]
context = {{}}
if name == "order":
    context = json.loads((run.REPO / "examples" / "order.context.json").read_text())
mapping, source, hand = fulfillmap.load(mapping_name), make(size), MAPPINGS[mapping_name]
if which == "apply":
    call = lambda: mapping.apply(source, context, validate=False)
else:
    call = lambda: hand(source, context)
call(); call()
for _ in range(calls):
    call()
"""
ROWS = [("order", 3, 400), ("order", 50, 100), ("shipped", 3, 1000), ("shipped", 50, 200)]
ROWS += [("cancelled", 3, 1000), ("cancelled", 50, 100)]


def instructions(name: str, size: int, which: str, calls: int) -> int:
    """CPU instructions of ``calls`` calls, less those of a process that makes none."""
    child = [sys.executable, "-c", _CHILD.format(here=str(HERE)), name, str(size), which]
    env = {**os.environ, "FULFILLMAP_NO_CACHE": "1", "PYTHONHASHSEED": "0"}  # the same layouts
    return (_process([*child, str(calls)], env) - _process([*child, "0"], env)) // calls


def _process(command: list[str], env: dict[str, str]) -> int:
    """CPU instructions of a whole process, under valgrind."""
    valgrind = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
    ]
    done = subprocess.run(
        [*valgrind, *command], capture_output=True, text=True, env=env, check=True
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind: {done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def cold_start() -> None:
    """The cold-start processes of ``make bench``, in instructions."""
    sys.path.insert(0, str(HERE))
    import run

    run._compile_bytecode()
    examples = run.REPO / "examples"
    script = [sys.executable, "-c", run._COLD, str(examples / "order.json")]
    script.append(str(examples / "order.context.json"))
    base = {key: value for key, value in os.environ.items() if not key.startswith("FULFILLMAP_")}
    base["PYTHONHASHSEED"] = "0"  # the same layouts, run after run
    with tempfile.TemporaryDirectory() as folder:
        warm = {**base, "FULFILLMAP_CACHE_DIR": os.path.join(folder, "warm")}
        subprocess.run(script, env=warm, check=True)  # the cache written
        processes = {
            "bare interpreter (python -c pass)": ([sys.executable, "-c", "pass"], base),
            "the libraries it needs (import only)": (run.COLD_LIBRARIES, base),
            "warm cache": (script, warm),
            "without the cache (FULFILLMAP_NO_CACHE=1)": (
                script,
                {**base, "FULFILLMAP_NO_CACHE": "1"},
            ),
            "cold cache (empty: this process fills it)": (
                script,
                {**base, "FULFILLMAP_CACHE_DIR": os.path.join(folder, "cold")},
            ),
        }
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            jobs = {label: pool.submit(_process, *job) for label, job in processes.items()}
            counts = {label: job.result() for label, job in jobs.items()}
    bare = counts["bare interpreter (python -c pass)"]
    print(f"{'process':<42} {'instructions':>14} {'above bare':>14}")
    for label, count in counts.items():
        print(f"{label:<42} {count:>14,} {count - bare:>14,}")
    floor = counts["the libraries it needs (import only)"] - bare
    warm = counts["warm cache"] - bare
    print(f"the libraries it needs: {floor / warm:.0%} of the warm process above bare")


def main() -> int:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    if sys.argv[1:] == ["cold"]:
        cold_start()
        return 0
    rows = [row for row in ROWS if not sys.argv[1:] or row[0] in sys.argv[1:]]
    print(f"{'mapping':<10} {'items':>5} {'apply':>10} {'hand':>10}  ratio  (instructions a call)")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for name, size, calls in rows:
            jobs = [
                pool.submit(instructions, name, size, which, calls) for which in ("apply", "hand")
            ]
            apply, hand = (job.result() for job in jobs)
            print(f"{name:<10} {size:>5} {apply:>10,} {hand:>10,}  {apply / hand:5.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

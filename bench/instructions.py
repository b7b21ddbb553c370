"""Instructions per mapping, fulfillmap ``apply`` against the hand-written mapping: a steadier
measure than time on a shared machine (``make bench`` stays the judge of the targets).

Each (mapping, items, implementation) runs in its own process under valgrind's cachegrind,
once with N calls and once with none; the difference over N is the CPU instructions one call
executes, whatever else the machine runs. Needs ``valgrind`` (Debian: ``apt-get install
valgrind``); about a minute per row on a 2-core machine::

    .venv/bin/python bench/instructions.py            # every mapping at 3 and 50 items
    .venv/bin/python bench/instructions.py cancelled  # one mapping

Instructions are not time (a cache miss or a mispredicted branch costs more than an add),
but a change that removes work shows here without the noise of a shared machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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
    child = _CHILD.format(here=str(HERE))
    env = {**os.environ, "FULFILLMAP_NO_CACHE": "1", "PYTHONHASHSEED": "0"}  # the same layouts

    def count(times: int) -> int:
        command = ["valgrind", "--tool=cachegrind", "--cache-sim=no"]
        command += ["--cachegrind-out-file=/dev/null", sys.executable, "-c", child]
        command += [name, str(size), which, str(times)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        if found is None:
            raise SystemExit(f"no instruction count from valgrind: {done.stderr[-500:]}")
        return int(found.group(1).replace(",", ""))

    return (count(calls) - count(0)) // calls


def main() -> int:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
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

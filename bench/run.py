"""fulfillmap's benchmark: ``make bench`` (or ``.venv/bin/python bench/run.py``).

In one process and one run, on the same payloads: the hand-written mappings (the baseline,
1x), fulfillmap ``apply`` without and with output validation, fulfillmap's reference
evaluator (closures), JMESPath per field and, when installed, glom, jsonata-python and jq for
the order mapping. Every implementation must give the hand-written output before it is timed.
Then cold start in a fresh interpreter and a 10,000-event JSON Lines batch. Machines are
shared and noisy: implementations are timed in interleaved rounds, best and median reported,
and every target is a ratio measured in this run.
"""

from __future__ import annotations

import argparse
import compileall
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import engines  # noqa: E402
import fulfillmap  # noqa: E402
import ledger  # noqa: E402
from handwritten import MAPPINGS as HANDWRITTEN  # noqa: E402

Run = Callable[[], Any]
ORDER = "order-to-fulfillment-order"
SHIPPED = "shipped-event-to-fulfillment"
CANCELLED = "cancelled-event-to-fulfillment"
TARGETS = {"apply": 1.5, "apply+validate": 2.5}


# -- payloads ---------------------------------------------------------------------------


def _example(name: str) -> Any:
    return json.loads((REPO / "examples" / name).read_text())


def _with_items(document: Any, items: list[Any], count: int, fields: dict[str, Any]) -> Any:
    """``document`` with ``count`` items made from ``items``, ids made unique."""
    made = []
    for index in range(count):
        item = copy.deepcopy(items[index % len(items)])
        for key, make in fields.items():
            item[key] = make(index, item)
        made.append(item)
    return made


def payloads() -> list[tuple[str, int, Any, dict[str, Any]]]:
    """(mapping, item count, source, context) for every benchmarked case."""
    order, context = _example("order.json"), _example("order.context.json")
    shipped, cancelled = _example("shipped-event.json"), _example("cancelled-event.json")
    cases = []
    for count in (3, 50):
        big_order = copy.deepcopy(order)
        big_order["items"] = _with_items(order, order["items"], count, {"id": _id("1839")})
        cases.append((ORDER, count, big_order, context))
        event = copy.deepcopy(shipped)
        event["data"]["object"]["items"] = _with_items(
            event,
            shipped["data"]["object"]["items"],
            count,
            {"id": _id("876"), "fulfillmentOrderItemUpstreamId": _id("1839")},
        )
        cases.append((SHIPPED, count, event, {}))
        event = copy.deepcopy(cancelled)
        event["data"]["object"]["items"] = _with_items(
            event,
            cancelled["data"]["object"]["items"],
            count,
            {
                "upstreamId": _id("1839"),
                "cancelled": lambda i, item: item["quantity"] * (i % 2),
                "pending": lambda i, item: item["quantity"] * (1 - i % 2),
                "backordered": lambda i, item: 0,
                "shipped": lambda i, item: 0,
                "returned": lambda i, item: 0,
            },
        )
        cases.append((CANCELLED, count, event, {}))
    return cases


def _id(prefix: str) -> Callable[[int, Any], str]:
    return lambda index, item: f"{prefix}{index:08d}"


# -- timing -----------------------------------------------------------------------------


def _per_call(run: Run, loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        run()
    return (time.perf_counter() - start) / loops


def _calibrate(run: Run, budget: float) -> int:
    loops = 1
    while _per_call(run, loops) * loops < budget:
        loops *= 2
    return loops


def time_all(runs: dict[str, Run], repeats: int, budget: float) -> dict[str, list[float]]:
    """Seconds per call of each run, ``repeats`` interleaved rounds."""
    loops = {name: _calibrate(run, budget) for name, run in runs.items()}
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            samples[name].append(_per_call(run, loops[name]))
    return samples


def _canonical(value: Any, *, loose: bool = False) -> str:
    """The JSON text to compare outputs by; ``loose``: 20.0 and 20 alike (jq has one number
    type, so it prints 20.0 as 20)."""
    if loose:
        value = _integral(value)
    return json.dumps(value, sort_keys=True)


def _integral(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def mapping_table(repeats: int, budget: float) -> tuple[list[str], list[str]]:
    """The table rows and the missed targets."""
    loaded = {name: fulfillmap.load(name) for name in HANDWRITTEN}
    others = engines.installed_order_engines()
    rows = [
        f"{'mapping':<32} {'items':>5}  {'implementation':<26} {'best µs':>9} "
        f"{'median µs':>9} {'x hand':>7} {'x hand (median)':>15}"
    ]
    missed: list[str] = []
    for name, count, source, context in payloads():
        mapping = loaded[name]
        per_field = engines.jmespath_per_field(mapping)
        runs: dict[str, Run] = {
            "hand-written": lambda h=HANDWRITTEN[name], s=source, c=context: h(s, c),
            "fulfillmap apply": lambda m=mapping, s=source, c=context: m.apply(
                s, c, validate=False
            ),
            "fulfillmap apply+validate": lambda m=mapping, s=source, c=context: m.apply(s, c),
            "fulfillmap reference": lambda m=mapping, s=source, c=context: m._build(s, s, c),
            "jmespath per field": lambda e=per_field, s=source, c=context: e(s, c),
        }
        if name == ORDER:
            for engine, run in others.items():
                runs[engine] = lambda e=run, s=source, c=context: e(s, c)
        expected = runs["hand-written"]()
        for label, run in runs.items():
            loose = label in others
            got = _canonical(run(), loose=loose)
            if got != _canonical(expected, loose=loose):
                raise SystemExit(f"{label} gives another output for {name} ({count} items):\n{got}")
        samples = time_all(runs, repeats, budget)
        base_best = min(samples["hand-written"])
        base_median = statistics.median(samples["hand-written"])
        for label, times in samples.items():
            best, median = min(times), statistics.median(times)
            ratio, ratio_median = best / base_best, median / base_median
            rows.append(
                f"{name:<32} {count:>5}  {label:<26} {best * 1e6:>9.2f} {median * 1e6:>9.2f} "
                f"{ratio:>6.2f}x {ratio_median:>14.2f}x"
            )
            target = TARGETS.get(label.removeprefix("fulfillmap "))
            if target is not None and ratio > target:
                missed.append(f"{label} on {name} ({count} items): {ratio:.2f}x > {target}x")
    return rows, missed


# -- cold start -------------------------------------------------------------------------

_COLD = """
import json, sys
import fulfillmap
mappings = [fulfillmap.load(name) for name in fulfillmap.shipped_mappings()]
order = json.loads(open(sys.argv[1]).read())
context = json.loads(open(sys.argv[2]).read())
next(m for m in mappings if m.name == "order-to-fulfillment-order").apply(order, context)
"""


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def _compile_bytecode() -> None:
    """Write fulfillmap's bytecode, as ``pip install`` does for a wheel. Without it, a
    development environment that sets PYTHONDONTWRITEBYTECODE recompiles every module of the
    package at every start, which no installed service does."""
    compileall.compile_dir(str(Path(fulfillmap.__file__).parent), quiet=1)


def cold_start(repeats: int) -> tuple[list[str], list[str]]:
    _compile_bytecode()
    python = sys.executable
    examples = REPO / "examples"
    full = [python, "-c", _COLD, str(examples / "order.json"), str(examples / "order.context.json")]
    bare = [python, "-c", "pass"]
    fulls, bares = [], []
    for _ in range(repeats):
        bares.append(_wall(bare))
        fulls.append(_wall(full))
    above, above_median = (
        min(fulls) - min(bares),
        statistics.median(fulls) - statistics.median(bares),
    )
    rows = [
        f"bare interpreter (python -c pass)      best {min(bares) * 1e3:6.1f} ms, "
        f"median {statistics.median(bares) * 1e3:6.1f} ms",
        f"import + load 6 mappings + first apply  best {min(fulls) * 1e3:6.1f} ms, "
        f"median {statistics.median(fulls) * 1e3:6.1f} ms",
        f"above the bare interpreter              best {above * 1e3:6.1f} ms, "
        f"median {above_median * 1e3:6.1f} ms (target <= 60 ms)",
    ]
    return rows, [f"cold start {above * 1e3:.1f} ms above bare > 60 ms"] if above > 0.060 else []


# -- batch ------------------------------------------------------------------------------


def _batch(mode: str, events: Path, context: Path) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "batch.py"), mode, ORDER, str(context)]
    with events.open("rb") as stdin:
        done = subprocess.run(
            command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True
        )
    result: dict[str, Any] = json.loads(done.stderr.decode().strip().splitlines()[-1])
    return result


def _handle(events: Path, context: Path) -> dict[str, Any]:
    """``fulfillmap handle`` as a user runs it: wall time of the whole process."""
    command = [str(Path(sys.executable).with_name("fulfillmap")), "handle", str(events)]
    start = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--context", str(context)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"fulfillmap handle failed: {process.stderr.read().decode()[:500]}")  # type: ignore[union-attr]
    lines = sum(1 for _ in events.open())
    return {"events": lines, "seconds": seconds, "peak_kib": usage.ru_maxrss}


MODES = ("handwritten", "fulfillmap", "fulfillmap handle")


def batch(count: int) -> tuple[list[str], list[str]]:
    event = _example("order-accepted-event.json")
    event["data"]["object"] = payloads()[0][2]
    context = REPO / "examples" / "order.context.json"
    rows, missed, results = [], [], {}
    with tempfile.TemporaryDirectory() as folder:
        for size in (count // 10, count):
            events = Path(folder) / f"events-{size}.jsonl"
            with events.open("w") as out:
                for index in range(size):
                    event["data"]["object"]["id"] = f"{index:012d}"
                    out.write(json.dumps(event) + "\n")
            for mode in MODES[:2]:
                results[mode, size] = _batch(mode, events, context)
            results[MODES[2], size] = _handle(events, context)
    rows.append("handwritten: orjson + hand-written mapping + jsonschema-rs, loop only")
    rows.append(
        "fulfillmap: fulfillmap.language._jsonio (handle's reader and writer) + apply, loop only"
    )
    rows.append("fulfillmap handle: the CLI over the file, whole process (start included)\n")
    for mode in MODES:
        small, large = results[mode, count // 10], results[mode, count]
        rate = large["events"] / large["seconds"]
        rows.append(
            f"{mode:<18} {rate:>9,.0f} events/s; peak RSS {small['peak_kib'] / 1024:6.1f} MiB "
            f"for {small['events']:,} events, {large['peak_kib'] / 1024:6.1f} MiB for "
            f"{large['events']:,}"
        )
    theirs = results["handwritten", count]["events"] / results["handwritten", count]["seconds"]
    for mode in MODES[1:]:
        ours = results[mode, count]["events"] / results[mode, count]["seconds"]
        rows.append(f"{mode} / hand-written: {ours / theirs:.2f} (target >= 0.50)")
        if ours / theirs < 0.5:
            missed.append(f"batch ({mode}): {ours / theirs:.2f} of the hand-written rate < 0.50")
        growth = results[mode, count]["peak_kib"] / results[mode, count // 10]["peak_kib"]
        if growth > 1.25:
            missed.append(f"batch ({mode}): memory grows {growth:.2f}x with 10x the events")
    return rows, missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--budget", type=float, default=0.02, help="seconds per sample")
    parser.add_argument("--events", type=int, default=10_000, help="batch size")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {os.uname().machine}, {os.cpu_count()} cores")
    print(f"command: {' '.join(['python', 'bench/run.py', *sys.argv[1:]])}\n")
    missed: list[str] = []
    for title, (rows, misses) in (
        ("Mapping one document", mapping_table(args.repeats, args.budget)),
        ("Cold start", cold_start(max(args.repeats, 10))),
        (f"Batch: {args.events:,} orders as JSON Lines", batch(args.events)),
    ):
        print(f"## {title}\n")
        print("\n".join(rows) + "\n")
        missed += misses
    title, rows, misses = ledger.ledger_section()  # bench/ledger.py
    print(f"## {title}\n\n" + "\n".join(rows) + "\n")
    missed += misses
    print("targets: all met" if not missed else "targets missed:\n  " + "\n  ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

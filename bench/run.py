"""fulfillmap's benchmark: ``make bench`` (or ``.venv/bin/python bench/run.py``).

In one run, on the same payloads, every target a ratio measured in that run:

1. mapping one document (order, shipped, cancelled at 3, 50 and 500 items): fulfillmap
   ``apply`` against the hand-written mapping (bench/handwritten.py: the same work in one
   careful pass, checked by tests/test_bench_baselines.py), ``apply`` with validation against
   the hand-written mapping plus the same jsonschema-rs validation, and, for scale, ``trace``
   (the traced variant of the same generated code), JMESPath
   per field and (when installed) glom, jsonata-python and jq. Every implementation must give
   the hand-written output before it is timed;
2. a failing ``apply`` (a required value absent) against a successful one;
3. cold start: a new process that imports fulfillmap, loads the three documented mappings and
   applies one with validation, against the bare interpreter;
4. ``fulfillmap handle`` over a JSON Lines file of the three flows' events (10,000 and
   100,000), as a whole process, against its hand-written counterpart (bench/handle.py) over
   the same file, with the same output byte for byte; and, to show what reading amounts as
   ``Decimal`` (G3) costs by itself, the hand-written process reading them so
   (``--decimal``). Peak memory is each child's own, measured by ``/usr/bin/time`` (which
   forks a small process to exec the child: the child's ``ru_maxrss`` never starts from the
   bench process's memory).

Machines are shared and noisy: implementations are timed in interleaved rounds, on CPU time
(what the process itself ran: ``time.process_time`` in process, user + system of each child),
which waiting for a core that other work holds does not inflate as it inflates wall time; the
processes' wall times are shown too. Best and median are reported; the in-process targets
are judged on the median of each round's ratio (``paired_ratio``), the processes on their best.
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
import jsonschema_rs  # noqa: E402
import ledger  # noqa: E402
from handwritten import MAPPINGS as HANDWRITTEN  # noqa: E402

Run = Callable[[], Any]
ORDER = "order-to-fulfillment-order"
SHIPPED = "shipped-event-to-fulfillment"
CANCELLED = "cancelled-event-to-fulfillment"
SIZES = (3, 50, 500)
HAND, HAND_VALID = "hand-written", "hand-written + validation"
APPLY, APPLY_VALID = "fulfillmap apply", "fulfillmap apply + validation"
#: row -> (the row it is compared with, the largest ratio allowed)
TARGETS = {APPLY: (HAND, 1.3), APPLY_VALID: (HAND_VALID, 1.5)}
FAILURE_TARGET = 10.0
COLD_TARGET_MS = 40.0
HANDLE_TARGET = 0.6
#: peak memory at 100,000 events over peak memory at 10,000: "the same", within noise
MEMORY_GROWTH = 1.10
TIME = "/usr/bin/time"


# -- payloads ---------------------------------------------------------------------------


def _example(name: str) -> Any:
    return json.loads((REPO / "examples" / name).read_text())


def _items(items: list[Any], count: int, fields: dict[str, Callable[[int, Any], Any]]) -> Any:
    """``count`` items made from ``items``, with ``fields`` made per index (unique ids)."""
    made = []
    for index in range(count):
        item = copy.deepcopy(items[index % len(items)])
        for key, make in fields.items():
            item[key] = make(index, item)
        made.append(item)
    return made


def _id(prefix: str) -> Callable[[int, Any], str]:
    return lambda index, item: f"{prefix}{index:08d}"


def order(count: int) -> Any:
    source = _example("order.json")
    source["items"] = _items(source["items"], count, {"id": _id("1839")})
    return source


def shipped(count: int) -> Any:
    event = _example("shipped-event.json")
    shipment = event["data"]["object"]
    fields = {"id": _id("876"), "fulfillmentOrderItemUpstreamId": _id("1839")}
    shipment["items"] = _items(shipment["items"], count, fields)
    return event


def cancelled(count: int) -> Any:
    """Every other line cancelled, the others pending."""
    event = _example("cancelled-event.json")
    fulfillment_order = event["data"]["object"]
    fields = {
        "upstreamId": _id("1839"),
        "cancelled": lambda i, item: item["quantity"] * (i % 2),
        "pending": lambda i, item: item["quantity"] * (1 - i % 2),
        "backordered": lambda i, item: 0,
        "shipped": lambda i, item: 0,
        "returned": lambda i, item: 0,
    }
    fulfillment_order["items"] = _items(fulfillment_order["items"], count, fields)
    return event


def payloads() -> list[tuple[str, int, Any, dict[str, Any]]]:
    """(mapping, item count, source, context) of every case."""
    context = _example("order.context.json")
    return [
        case
        for count in SIZES
        for case in (
            (ORDER, count, order(count), context),
            (SHIPPED, count, shipped(count), {}),
            (CANCELLED, count, cancelled(count), {}),
        )
    ]


# -- timing -----------------------------------------------------------------------------


def _per_call(run: Run, loops: int) -> float:
    """CPU seconds per call (the time the process ran: waiting for a core shared with other
    work is not counted)."""
    start = time.process_time()
    for _ in range(loops):
        run()
    return (time.process_time() - start) / loops


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


def paired_ratio(times: list[float], base: list[float]) -> float:
    """The median of the rounds' ratios: each round times both one after the other, so that
    what slows the machine for a while slows both. (The ratio of the best times is at the
    mercy of one sample that a quiet moment made fast: on this 2-core machine a baseline's
    best has come out 40% under its median while ours did not, and the other way round.)"""
    return statistics.median(mine / theirs for mine, theirs in zip(times, base, strict=True))


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


def _validator(mapping: fulfillmap.CompiledMapping) -> Any:
    """The target schema's validator a careful hand-written service would use."""
    return jsonschema_rs.Draft7Validator(dict(mapping.target_schema), validate_formats=True)


def _runs(mapping: fulfillmap.CompiledMapping, source: Any, context: Any) -> dict[str, Run]:
    hand, validator = HANDWRITTEN[mapping.name], _validator(mapping)

    def hand_valid() -> Any:
        body, _ = hand(source, context)
        validator.validate(body)
        return body

    per_field = engines.jmespath_per_field(mapping)
    return {
        HAND: lambda: hand(source, context)[0],
        APPLY: lambda: mapping.apply(source, context, validate=False),
        HAND_VALID: hand_valid,
        APPLY_VALID: lambda: mapping.apply(source, context),
        "fulfillmap trace": lambda: mapping.trace(source, context, validate=False).body,
        "jmespath per field": lambda: per_field(source, context),
    }


def mapping_table(repeats: int, budget: float) -> tuple[list[str], list[str]]:
    """The table rows and the missed targets."""
    loaded = {name: fulfillmap.load(name) for name in HANDWRITTEN}
    others = engines.installed_order_engines()
    rows = [
        f"{'mapping':<31} {'items':>5}  {'implementation':<30} {'best µs':>9} {'median µs':>9}"
        f" {'x base':>7} {'(best)':>7}  target (µs of CPU time per mapping)",
    ]
    missed: list[str] = []
    for name, count, source, context in payloads():
        runs = _runs(loaded[name], source, context)
        if name == ORDER:
            for engine, run in others.items():
                runs[engine] = lambda e=run, s=source, c=context: e(s, c)
        expected = runs[HAND]()
        for label, run in runs.items():
            loose = label in others
            got = _canonical(run(), loose=loose)
            if got != _canonical(expected, loose=loose):
                raise SystemExit(f"{label} gives another output for {name} ({count} items):\n{got}")
        samples = time_all(runs, repeats, budget)
        for label, times in samples.items():
            base, limit = TARGETS.get(label, (HAND, None))
            ratio = paired_ratio(times, samples[base])
            best = min(times) / min(samples[base])
            target = f"<= {limit}x {base}" if limit else ""
            rows.append(
                f"{name:<31} {count:>5}  {label:<30} {min(times) * 1e6:>9.2f} "
                f"{statistics.median(times) * 1e6:>9.2f} {ratio:>6.2f}x {best:>6.2f}x"
                f"  {target}"
            )
            if limit is not None and ratio > limit:
                missed.append(f"{label} on {name} ({count} items): {ratio:.2f}x {base} > {limit}x")
    rows.append("")
    rows.append(
        f"x base: the median over the rounds of each round's ratio to {HAND} ({APPLY_VALID}: "
        f"to {HAND_VALID}, the same jsonschema-rs check), which targets are judged on; "
        "(best): the ratio of the best times"
    )
    return rows, missed


# -- a failing apply ------------------------------------------------------------------


def failure_table(repeats: int, budget: float) -> tuple[list[str], list[str]]:
    """``apply`` on an order without ``currency`` (a required value) against a good order."""
    mapping = fulfillmap.load(ORDER)
    context = _example("order.context.json")
    good = order(SIZES[0])
    bad = copy.deepcopy(good)
    del bad["currency"]

    def failing(run: Run, error: type[Exception]) -> Run:
        def call() -> None:
            try:
                run()
            except error:
                return
            raise SystemExit("the failing case did not fail")

        return call

    runs = {
        "apply, success": lambda: mapping.apply(good, context),
        "apply, currency absent": failing(lambda: mapping.apply(bad, context), ValueError),
        "hand-written, success": lambda: HANDWRITTEN[ORDER](good, context),
        "hand-written, currency absent": failing(
            lambda: HANDWRITTEN[ORDER](bad, context), ValueError
        ),
    }
    samples = time_all(runs, repeats, budget)
    rows = [f"{'order, 3 items':<32} {'best µs':>9} {'median µs':>9}  (CPU time)"]
    for label, times in samples.items():
        best, median = min(times) * 1e6, statistics.median(times) * 1e6
        rows.append(f"{label:<32} {best:>9.2f} {median:>9.2f}")
    ratio = paired_ratio(samples["apply, currency absent"], samples["apply, success"])
    rows.append(
        f"failing apply / successful apply: {ratio:.1f}x (the median of the rounds' ratios; "
        f"target <= {FAILURE_TARGET:.0f}x)"
    )
    missed = [f"a failing apply costs {ratio:.1f}x a successful one > {FAILURE_TARGET:.0f}x"]
    return rows, missed if ratio > FAILURE_TARGET else []


# -- cold start -------------------------------------------------------------------------

_COLD = """
import json, sys
import fulfillmap
names = ("order-to-fulfillment-order", "shipped-event-to-fulfillment",
         "cancelled-event-to-fulfillment")
mappings = {name: fulfillmap.load(name) for name in names}
order = json.loads(open(sys.argv[1]).read())
context = json.loads(open(sys.argv[2]).read())
mappings["order-to-fulfillment-order"].apply(order, context, validate=True)
"""


#: what a warm process cannot do without: json (the script's own), dataclasses (every result
#: and error is one), decimal (amounts, G3) and jsonschema_rs (the validation)
COLD_LIBRARIES = [sys.executable, "-c", "import dataclasses, decimal, json, jsonschema_rs"]


def _child(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of a new process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{command[:3]} failed")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def _compile_bytecode() -> None:
    """Write fulfillmap's bytecode, as ``pip install`` does for a wheel. Without it, a
    development environment that sets PYTHONDONTWRITEBYTECODE recompiles every module of the
    package at every start, which no installed service does."""
    compileall.compile_dir(str(Path(fulfillmap.__file__).parent), quiet=1)


def cold_start(repeats: int) -> tuple[list[str], list[str]]:
    """A new process without the compiled-mapping cache, with an empty one (which that
    process fills) and with a warm one, interleaved with the bare interpreter."""
    _compile_bytecode()
    python = sys.executable
    examples = REPO / "examples"
    full = [python, "-c", _COLD, str(examples / "order.json"), str(examples / "order.context.json")]
    bare = [python, "-c", "pass"]
    libraries = COLD_LIBRARIES
    base = {key: value for key, value in os.environ.items() if not key.startswith("FULFILLMAP_")}
    times: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        envs = {
            "bare": base,
            "libraries": base,
            "no cache": {**base, "FULFILLMAP_NO_CACHE": "1"},
            "cold cache": base,  # a new empty directory each round, below
            "warm cache": {**base, "FULFILLMAP_CACHE_DIR": os.path.join(folder, "warm")},
        }
        _child(full, envs["warm cache"])  # once untimed: files in the page cache, cache written
        for round_ in range(repeats):
            envs["cold cache"] = {**base, "FULFILLMAP_CACHE_DIR": os.path.join(folder, str(round_))}
            for which, env in envs.items():
                command = {"bare": bare, "libraries": libraries}.get(which, full)
                times.setdefault(which, []).append(_child(command, env))

    def best(which: str, cpu: int) -> float:
        return min(sample[cpu] for sample in times[which]) * 1e3

    def median(which: str, cpu: int) -> float:
        return statistics.median(sample[cpu] for sample in times[which]) * 1e3

    rows = [
        "a new process: import fulfillmap, load the 3 documented mappings, apply + validate",
        f"{'':<42} {'CPU best':>9} {'median':>7}  {'wall best':>9} {'median':>7}",
    ]
    for label, which in (
        ("bare interpreter (python -c pass)", "bare"),
        ("the libraries it needs (import only)", "libraries"),
        ("without the cache (FULFILLMAP_NO_CACHE=1)", "no cache"),
        ("cold cache (empty: this process fills it)", "cold cache"),
        ("warm cache", "warm cache"),
    ):
        rows.append(
            f"{label:<42} {best(which, 1):>6.1f} ms {median(which, 1):>4.1f} ms  "
            f"{best(which, 0):>6.1f} ms {median(which, 0):>4.1f} ms"
        )
    above = {
        which: best(which, 1) - best("bare", 1) for which in ("libraries", "no cache", "warm cache")
    }
    cold = median("cold cache", 1) - median("no cache", 1)
    rows += [
        f"warm cache above the bare interpreter: {above['warm cache']:.1f} ms of CPU "
        f"(target <= {COLD_TARGET_MS:.0f} ms; without the cache {above['no cache']:.1f} ms)",
        f"the libraries it needs above the bare interpreter: {above['libraries']:.1f} ms of CPU "
        f"(json, dataclasses, decimal and jsonschema_rs imported, nothing run)",
        f"cold cache against no cache: {cold:+.1f} ms of CPU (median; target: no slower)",
    ]
    missed = []
    if above["warm cache"] > COLD_TARGET_MS:
        missed.append(
            f"cold start {above['warm cache']:.1f} ms of CPU above bare (warm cache) "
            f"> {COLD_TARGET_MS:.0f} ms"
        )
    if cold > 0:
        missed.append(f"cold start with a cold cache {cold:.1f} ms of CPU slower than without")
    return rows, missed


# -- fulfillmap handle, process against process -----------------------------------------


def events_file(path: Path, count: int) -> None:
    """``count`` events as JSON Lines: order.accepted, shipped and cancelled in turn (3 items
    each), every id unique."""
    accepted = _example("order-accepted-event.json")
    accepted["data"]["object"] = order(3)
    kinds = (accepted, shipped(3), cancelled(3))
    with path.open("w") as out:
        for index in range(count):
            event = kinds[index % 3]
            event["id"] = f"evt-{index:09d}"
            event["data"]["object"]["id"] = f"{index:012d}"
            out.write(json.dumps(event, separators=(",", ":")) + "\n")


def _process(command: list[str], out: Path) -> dict[str, float]:
    """Wall time of the whole process, and its own CPU seconds (user + system) and peak RSS
    (KiB) from /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss, out.open("wb") as stdout:
        start = time.perf_counter()
        done = subprocess.run(
            [TIME, "-f", "%M %U %S", "-o", rss.name, *command],
            stdout=stdout,
            stderr=subprocess.PIPE,
            check=False,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()[:2000]}")
        peak, user, system = (float(part) for part in rss.read().split()[-3:])
        return {"seconds": seconds, "cpu": user + system, "peak_kib": peak}


Results = dict[tuple[str, int], list[dict[str, float]]]


def _commands() -> dict[str, list[str]]:
    """The two processes, ``{events}`` standing for the events file."""
    context = str(REPO / "examples" / "order.context.json")
    fulfillmap_cli = str(Path(sys.executable).with_name("fulfillmap"))
    return {
        "fulfillmap handle": [fulfillmap_cli, "handle", "{events}", "--context", context],
        "hand-written (bench/handle.py)": [
            sys.executable,
            str(HERE / "handle.py"),
            "{events}",
            context,
        ],
        "hand-written, Decimal amounts": [
            sys.executable,
            str(HERE / "handle.py"),
            "{events}",
            context,
            "--decimal",
        ],
    }


def _time_processes(commands: dict[str, list[str]], sizes: tuple[int, ...], rounds: int) -> Results:
    """Each process over the same file of each size, in interleaved rounds; their outputs
    must be the same, byte for byte."""
    results: Results = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            events = Path(folder) / f"events-{size}.jsonl"
            events_file(events, size)
            outputs = {}
            for _ in range(rounds):
                for label, command in commands.items():
                    out = Path(folder) / f"{label.split()[0]}.jsonl"
                    argv = [part.replace("{events}", str(events)) for part in command]
                    results.setdefault((label, size), []).append(_process(argv, out))
                    outputs[label] = out.read_bytes()
            ours, *theirs = outputs.values()
            if any(other != ours for other in theirs) or ours.count(b"\n") != size:
                raise SystemExit(f"the processes' outputs differ on {size:,} events")
            events.unlink()
    return results


def handle_table(count: int, rounds: int) -> tuple[list[str], list[str]]:
    if not os.access(TIME, os.X_OK):
        raise SystemExit(f"{TIME} is missing: apt-get install time (make bench does)")
    commands = _commands()
    small, large = sizes = (count // 10, count)
    results = _time_processes(commands, sizes, rounds)

    def peak_mib(label: str, size: int) -> float:  # the worst round
        return max(r["peak_kib"] for r in results[label, size]) / 1024

    rows = [
        f"events: order.accepted, shipped and cancelled in turn (3 items each); best of "
        f"{rounds} interleaved rounds; the same output, byte for byte; events/s on CPU time",
        f"{'process':<31} {'events/s':>9} {'CPU s':>6} {'median':>6} {'wall s':>6} {'median':>6} "
        f"{f'peak RSS {small // 1000}k':>13} {f'peak RSS {large // 1000}k':>13}",
    ]
    rates, missed = {}, []
    for label in commands:
        cpu = [r["cpu"] for r in results[label, large]]
        wall = [r["seconds"] for r in results[label, large]]
        rates[label] = large / min(cpu)
        rows.append(
            f"{label:<31} {rates[label]:>9,.0f} {min(cpu):>6.2f} {statistics.median(cpu):>6.2f} "
            f"{min(wall):>6.2f} {statistics.median(wall):>6.2f} "
            f"{peak_mib(label, small):>9.1f} MiB {peak_mib(label, large):>9.1f} MiB"
        )
    ours, theirs, exact = commands
    ratio = rates[ours] / rates[theirs]
    rows += [
        f"{ours} / hand-written rate: {ratio:.2f} (target >= {HANDLE_TARGET})",
        f"hand-written with Decimal amounts (G3) / hand-written rate: "
        f"{rates[exact] / rates[theirs]:.2f} (what reading amounts as G3 says costs by itself)",
        f"{ours} / hand-written with Decimal amounts: {rates[ours] / rates[exact]:.2f}",
    ]
    if ratio < HANDLE_TARGET:
        missed.append(f"{ours}: {ratio:.2f} of the hand-written rate < {HANDLE_TARGET}")
    for label in commands:
        growth = peak_mib(label, large) / peak_mib(label, small)
        rows.append(
            f"{label}: peak memory at {large:,} / at {small:,} events: {growth:.3f}"
            f" (target <= {MEMORY_GROWTH})"
        )
        if growth > MEMORY_GROWTH:
            missed.append(f"{label}: memory grows {growth:.2f}x with 10x the events")
    return rows, missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--budget", type=float, default=0.01, help="seconds per sample")
    parser.add_argument("--events", type=int, default=100_000, help="the larger batch")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each process")
    parser.add_argument("--only", help="run only the section whose title starts with this")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {os.uname().machine}, {os.cpu_count()} cores")
    print(f"command: {' '.join(['python', 'bench/run.py', *sys.argv[1:]])}")
    print(f"load average at the start: {os.getloadavg()[0]:.1f} (other work shares the cores)\n")
    missed: list[str] = []
    sections: list[tuple[str, Callable[[], tuple[list[str], list[str]]]]] = [
        ("Mapping one document", lambda: mapping_table(args.repeats, args.budget)),
        ("A failing apply", lambda: failure_table(args.repeats, args.budget)),
        ("Cold start", lambda: cold_start(max(args.repeats, 10))),
        (
            "fulfillmap handle, process against process",
            lambda: handle_table(args.events, args.rounds),
        ),
    ]
    for title, section in sections:
        if args.only and not title.lower().startswith(args.only.lower()):
            continue
        rows, misses = section()
        print(f"## {title}\n")
        print("\n".join(rows) + "\n", flush=True)
        missed += misses
    if not args.only:
        title, rows, misses = ledger.ledger_section()  # bench/ledger.py
        print(f"## {title}\n\n" + "\n".join(rows) + "\n")
        missed += misses
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("targets: all met" if not missed else "targets missed:\n  " + "\n  ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

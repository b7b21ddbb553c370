"""``make bench``'s ledger section: events/s through ``Engine.process`` and its cost over
``handle``.

- SQLite, 1 process, durable commits: every delivery of a generated stream (realistic order
  lifecycles, 30% duplicates, shuffled; tests/ledger_replay.py) through ``process`` with a
  ``send`` that does nothing, then the same deliveries through ``handle`` (no ledger): events/s
  and the latency each adds, p50 and p99.
- PostgreSQL, 4 worker processes, a temporary cluster (fsync on): events/s in all.

Targets on a 2-core machine: SQLite >= 1,000 events/s, PostgreSQL >= 500 events/s,
``process`` adds <= 5 ms at p99 on SQLite (Digital River wants a 2xx within 3 s).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

import ledger_replay  # noqa: E402
import postgres_cluster  # noqa: E402

ORDERS = 700  # about 4,200 deliveries
TARGETS = {"sqlite": 1000.0, "postgresql": 500.0, "p99 ms": 5.0}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _sqlite(
    delivered: list[dict[str, Any]], folder: Path
) -> tuple[float, list[float], list[float]]:
    import fulfillmap

    engine = fulfillmap.Engine(ledger=f"sqlite:///{folder}/bench.db")
    plain = fulfillmap.Engine()
    context = ledger_replay.CONTEXT
    through: list[float] = []
    started = time.perf_counter()
    for event in delivered:
        before = time.perf_counter()
        engine.process(event, ledger_replay._response, context)
        through.append(time.perf_counter() - before)
    seconds = time.perf_counter() - started
    handled: list[float] = []
    for event in delivered:
        before = time.perf_counter()
        plain.handle(event, context)
        handled.append(time.perf_counter() - before)
    return len(delivered) / seconds, through, handled


def ledger_section() -> tuple[str, list[str], list[str]]:
    """The section's title, its table rows and the targets it missed."""
    events, _truth = ledger_replay.lifecycles(ORDERS, seed=3)
    delivered = ledger_replay.deliveries(events, seed=4)
    rows = [
        f"{len(delivered):,} deliveries of {ORDERS} orders' lifecycles (30% duplicates, shuffled)",
        "",
        "| backend | workers | events/s | target |",
        "| --- | ---: | ---: | ---: |",
    ]
    missed: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        rate, through, handled = _sqlite(delivered, Path(folder))
    rows.append(f"| SQLite (synchronous=FULL) | 1 | {rate:,.0f} | >= {TARGETS['sqlite']:,.0f} |")
    if rate < TARGETS["sqlite"]:
        missed.append(f"ledger: SQLite {rate:,.0f} events/s < {TARGETS['sqlite']:,.0f}")
    if postgres_cluster.binaries() is None:
        rows.append(f"| PostgreSQL | 4 | not run: {postgres_cluster.MISSING} | |")
        missed.append("ledger: PostgreSQL not measured (no server binaries)")
    else:
        with postgres_cluster.temporary_cluster() as url, tempfile.TemporaryDirectory() as folder:
            _statuses, _sent, seconds = ledger_replay.replay(
                url, delivered, Path(folder), workers=4, failure=0.0
            )
        pg_rate = len(delivered) / seconds
        rows.append(
            f"| PostgreSQL (fsync on) | 4 | {pg_rate:,.0f} | >= {TARGETS['postgresql']:,.0f} |"
        )
        if pg_rate < TARGETS["postgresql"]:
            missed.append(
                f"ledger: PostgreSQL {pg_rate:,.0f} events/s < {TARGETS['postgresql']:,.0f}"
            )
    ms = [1000 * t for t in through]
    plain = [1000 * t for t in handled]
    added = _percentile(ms, 0.99) - _percentile(plain, 0.99)
    rows += [
        "",
        "| per event, SQLite | p50 ms | p99 ms |",
        "| --- | ---: | ---: |",
        f"| handle (no ledger) | {statistics.median(plain):.2f} | {_percentile(plain, 0.99):.2f} |",
        f"| process | {statistics.median(ms):.2f} | {_percentile(ms, 0.99):.2f} |",
        f"| added by process | {statistics.median(ms) - statistics.median(plain):.2f} | "
        f"{added:.2f} (target <= {TARGETS['p99 ms']:.0f}) |",
    ]
    if added > TARGETS["p99 ms"]:
        missed.append(f"ledger: process adds {added:.2f} ms at p99 > {TARGETS['p99 ms']:.0f}")
    return "The ledger: Engine.process", rows, missed


if __name__ == "__main__":
    title, table, misses = ledger_section()
    print(f"## {title}\n\n" + "\n".join(table) + "\n")
    print("targets: all met" if not misses else "targets missed:\n  " + "\n  ".join(misses))

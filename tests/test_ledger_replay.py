"""The ledger's proof (issue: exactly-once effects): >= 10,000 deliveries of >= 500 orders'
realistic lifecycles, 30% duplicates, shuffled, through 4 worker processes whose ``send``
fails 10% of the time, against SQLite and a real PostgreSQL. Prints the counts (pytest -s)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _replay_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("ledger_replay", HERE / "ledger_replay.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ledger_replay"] = module
    spec.loader.exec_module(module)
    return module


replay = _replay_module()
ORDERS = 1800
DELIVERIES = 10_000


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_replay(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = (
        f"sqlite:///{tmp_path}/ledger.db"
        if backend == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    events, truth = replay.lifecycles(ORDERS, seed=2026)
    delivered = replay.deliveries(events, seed=10)
    assert len(delivered) >= DELIVERIES
    assert len(truth.physical) + len(truth.digital) >= 500
    statuses, sent, seconds = replay.replay(url, delivered, tmp_path, workers=4)
    assert not [s for s in statuses if s.startswith("failed for good")], statuses
    counts = replay.check(truth, sent, url)
    assert statuses["send raised"] > 0.05 * len(delivered) * 0.8
    print(
        f"\n{backend}: {len(delivered)} deliveries ({len(events)} events, "
        f"{len(delivered) - len(events)} duplicates) in {seconds:.1f} s, "
        f"{len(delivered) / seconds:.0f}/s with 4 workers"
    )
    for name, count in {**counts, **statuses}.items():
        print(f"  {name}: {count}")

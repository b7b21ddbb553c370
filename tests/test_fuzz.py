"""Fuzzing the two edges where untrusted data enters: mapping files and JSON Lines input.

The property, for each: only a ``FulfillmapError`` or a result, within 1 s and 200 MB. Under
``CI=true`` each runs 10,000 cases; locally 300 (``FULFILLMAP_FUZZ_CASES`` sets it).

Hypothesis drives each case through one ``random.Random`` it seeds (``st.randoms``), and the
case is built from it in plain Python: drawing each token through Hypothesis costs about
0.1 ms, and a mapping takes a hundred of them, which would make 10,000 cases take minutes. A
failing case is reported with its seed, so it replays exactly. Everything runs in this
process (no subprocess per case), timed per case with a monotonic clock; memory is the
process's peak resident size (``resource``), checked after each case.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import random
import string
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
import yaml
from fulfillmap.cli._stream import Progress, read_events
from fulfillmap.errors import FulfillmapError
from fulfillmap.language._jsonio import dump_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # `foo` literals
CASES = int(os.environ.get("FULFILLMAP_FUZZ_CASES", 10_000 if os.environ.get("CI") else 300))
SETTINGS = settings(
    max_examples=CASES,
    deadline=None,  # the 1 s bound is checked below, with the case that broke it
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
_MEGABYTE = 1024 * 1024


def _status_bytes(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` (the peak) of this process, from Linux's /proc/self/status."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024  # kB
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_peak() -> int:
    """Reset this process's peak memory to what it holds now (Linux: ``clear_refs`` 5), and
    return that: each case's peak is its own, whatever earlier tests took."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")
    return _status_bytes("VmRSS")


#: the CPU time of each full garbage collection during a case: not the case's to pay (it
#: walks what the earlier cases left alive, e.g. the 128 parsed trees jmespath keeps)
_FULL_COLLECTIONS: list[float] = []


def _time_full_collections(phase: str, info: dict[str, int]) -> None:
    if info["generation"] == 2:
        _FULL_COLLECTIONS.append(time.process_time() * (-1 if phase == "start" else 1))


gc.callbacks.append(_time_full_collections)


def _bounded(case: Callable[[], Any]) -> Any:
    """Run ``case``: a result or a FulfillmapError, within 1 s and 200 MB more than the
    process held before it."""
    held = _reset_peak()
    _FULL_COLLECTIONS.clear()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        outcome = case()
    except FulfillmapError as exc:
        outcome = exc
    elapsed, computing = time.perf_counter() - started, time.process_time() - cpu
    computing -= sum(_FULL_COLLECTIONS)
    assert computing < 1.0, f"took {computing:.2f} s of CPU time"
    # other processes share the machine: the wall clock only has to show that nothing hangs
    assert elapsed < 10.0, f"took {elapsed:.2f} s"
    used = _status_bytes("VmHWM") - held
    assert used < 200 * _MEGABYTE, f"used {used / _MEGABYTE:.0f} MB more than before"
    return outcome


# -- random JSON values ----------------------------------------------------------------------

_KEYS = ["id", "type", "data", "object", "items", "quantity", "", "a", "é", "\u2028", "😀"]
_TEXTS = ["", "x", "é😀", "\x00", "\u2028", "a" * 300, "1e5", "null", '"', "\\", "\n"]


def _scalar(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            rng.randint(-(2**70), 2**70),
            rng.randint(-5, 5),
            rng.uniform(-1e6, 1e6),
            rng.random() * 10 ** rng.randint(-320, 300),
            rng.choice(_TEXTS),
            "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 12))),
        ]
    )


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return _scalar(rng)
    if roll < 0.75:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(_KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


# -- JSON Lines ----------------------------------------------------------------------------

_EVENTS = [
    json.loads((EXAMPLES / f"{name}-event.json").read_text())
    for name in ("order-accepted", "pending", "backordered", "shipped", "cancelled")
]


def _mutated_event(rng: random.Random) -> str:
    """A real event with a few values replaced by random JSON (the envelope often valid)."""
    event = json.loads(json.dumps(rng.choice(_EVENTS)))
    for _ in range(rng.randint(0, 3)):
        parent: Any = event
        while True:
            keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
            if not keys:
                break
            key = rng.choice(keys)
            child = parent[key]
            if not isinstance(child, dict | list) or not child or rng.random() < 0.3:
                parent[key] = _value(rng)
                break
            parent = child
    return json.dumps(event, ensure_ascii=rng.random() < 0.5)


def _deep(rng: random.Random) -> str:
    depth = rng.randint(100, 3000)
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}"), ('{"data":{"object":', "}}")])
    return opener * depth + "1" + closer * depth


_ESCAPES = ["\\ud800", "\\udfff", "\\ud83d\\ude00", "\\ud83d", "\\u0000", "\\\\", '\\"']
_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "1.6050000000000000001", "9" * 5000, "-0"]


def _hostile_line(rng: random.Random) -> str:
    kind = rng.randint(0, 7)
    event = json.dumps(rng.choice(_EVENTS))
    if kind == 0:
        return _deep(rng)
    if kind == 1:  # surrogates, paired and lone; other escapes
        return event.replace('"id":', f'"id":"{rng.choice(_ESCAPES)}","x":', 1)
    if kind == 2:  # numbers JSON cannot hold, or that lose digits
        return event.replace('"quantity":', f'"quantity":{rng.choice(_NUMBERS)},"q":', 1)
    if kind == 3:  # cut short
        return event[: rng.randint(0, len(event))]
    if kind == 4:
        return json.dumps(_value(rng), ensure_ascii=False)
    return _mutated_event(rng)


def _json_lines(rng: random.Random) -> bytes:
    if rng.random() < 0.1:
        return rng.randbytes(rng.randint(0, 2000))
    lines = [_hostile_line(rng) for _ in range(rng.randint(1, 4))]
    data = rng.choice(["\n", "\r\n", "\n\n"]).join(lines)
    if rng.random() < 0.1:  # a raw lone surrogate: not UTF-8 at all
        data += "\ud800"
    return data.encode("utf-8", "surrogatepass") + (b"\n" if rng.random() < 0.5 else b"")


_ENGINE = fulfillmap.Engine()
_handle_warm_up = [_ENGINE.handle(event) for event in _EVENTS]  # first-use imports, not a case


def _handle_all(data: bytes) -> list[Any]:
    outcomes: list[Any] = []
    for item in read_events(io.BytesIO(data), Progress(0)):
        if item.error is not None:
            assert item.label, "a bad batch line is reported, not raised"
            outcomes.append(item.error)
            continue
        try:
            action = _ENGINE.handle(item.event)
            line = dump_line(action.to_json())
        except FulfillmapError as exc:
            outcomes.append(exc)
            continue
        json.loads(line.decode("utf-8"))  # the output is always valid UTF-8 JSON
        outcomes.append(line)
    return outcomes


@SETTINGS
@given(st.randoms(use_true_random=True))
def test_fuzz_json_lines_input(rng: random.Random) -> None:
    data = _json_lines(rng)
    _bounded(lambda: _handle_all(data))


# -- mapping files -------------------------------------------------------------------------

_HOSTILE = [
    "note\n    __import__('os').system('id')\n    #",
    "'''",
    '"""',
    "\\",
    "${x}",
    "{{x}}",
    "\x00",
    "\ud800",
    "é😀",
    "a" * 300,
    "-",
    "",
    "!!python/object/apply:os.system",
    "*alias",
    "&anchor",
]
_NAMES = ["__class__", "__init__", "def", "return", "$ref", "_", "None", "True", "self", "a-b"]
_TOKENS = [
    *("a", "b.c", "items", "@", "[*]", "[0]", "[-1]", "[?x]", "[?a == `1`]", ".", "|", "||"),
    *("&&", "!", "(", ")", "[", "]", "{", "}", ",", ":", "`1`", '`"x"`', "`[1,2]`", "'t'"),
    *('"q"', "length(", "to_integer(", "to_id(", "sum(", "max(", "sort_by(", "&x", "*", "[]"),
    *("==", "<", "`", "'", "\\", "upper(", "join(`,`,", "not_null(", "merge(", "`1e400`"),
]


def _name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        tail = "".join(rng.choice("abcXYZ019_$-") for _ in range(rng.randint(0, 20)))
        return rng.choice("aZ_$") + tail
    return rng.choice(_NAMES if roll < 0.85 else _HOSTILE)  # hostile: a SpecError


def _expression(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:  # long and deep: the limits' territory
        unit = rng.choice(["a || ", "(", "not_null(", "[", "`1` && "])
        return unit * rng.randint(10, 3000) + "a"
    if roll < 0.15:
        return "`" + "1" * rng.randint(500, 3000) + "`"
    if roll < 0.2:
        return rng.choice(_HOSTILE) or "x"
    return "".join(rng.choice(_TOKENS) for _ in range(rng.randint(1, 12)))


def _field(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if roll < 0.4:
        return _expression(rng)
    if roll < 0.55:
        return {"from": _expression(rng), "default": _scalar(rng)}
    if roll < 0.65:
        return {"value": _value(rng)}
    if roll < 0.75 or depth > 1:
        return {"from": [_expression(rng), _expression(rng)], "required": rng.random() < 0.5}
    nested = _fields(rng, depth + 1)
    return {"fields": nested} if roll < 0.85 else {"each": _expression(rng), "fields": nested}


def _fields(rng: random.Random, depth: int) -> dict[str, Any]:
    return {_name(rng): _field(rng, depth) for _ in range(rng.randint(1, 4))}


_ANY = {"name": "any", "schema": "any.json"}


def _mapping(rng: random.Random) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "name": "fuzz" if rng.random() < 0.9 else rng.choice(_HOSTILE),
        "source": {"name": "s", "schema": "any.json"},
        "target": {"name": "t", "schema": "any.json"},
        "fields": _fields(rng, 0),
    }
    if rng.random() < 0.3:
        severity = rng.choice(["error", "warn"])
        mapping["rules"] = [{"name": "r", "check": _expression(rng), "severity": severity}]
    return mapping


def _text(rng: random.Random, mapping: dict[str, Any]) -> bytes:
    text = json.dumps(mapping)  # JSON is YAML too: every character escaped as JSON writes it
    if rng.random() < 0.5:
        with contextlib.suppress(UnicodeEncodeError):  # libyaml cannot write a lone surrogate
            text = yaml.dump(mapping, Dumper=yaml.CSafeDumper, allow_unicode=True)
    return text.encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        (Path(name) / "any.json").write_text("{}")
        _warm_up(Path(name))
        yield Path(name)


def _warm_up(folder: Path) -> None:
    """Import what the error paths import on first use (the trace, the schema checks), so that
    no case is charged for it."""
    path = folder / "warm-up.yaml"
    for fields in ({"a": {"from": "a", "required": True}}, {"a": "a[", "B c": "x"}):
        mapping = {"name": "w", "source": _ANY, "target": _ANY, "fields": fields}
        path.write_text(json.dumps(mapping))
        with contextlib.suppress(FulfillmapError):
            _load_and_apply(path, {})


def _load_and_apply(path: Path, source: Any) -> Any:
    result = fulfillmap.load(path).apply(source)
    dump_line(result)  # what the command line would print
    return result


@SETTINGS
@given(st.randoms(use_true_random=True))
def test_fuzz_mapping_files(folder: Path, rng: random.Random) -> None:
    path = folder / "fuzz.yaml"
    path.write_bytes(_text(rng, _mapping(rng)))
    source = _value(rng) if rng.random() < 0.5 else {"a": _value(rng), "items": [_value(rng)]}
    _bounded(lambda: _load_and_apply(path, source))
